"""A case id or a labour request id is used once: `kosh submit --case-id` and `kosh employer
request --request-id` refuse an id that Temporal (any run, open or closed) or the business
record already knows, exit 2 naming it, and start and record nothing. Real cases on the
time-skipping server and the embedded PostgreSQL; the CLI in a thread of its own (it runs its
own event loop)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner, Result

import cli.handles
import cli.main
from store.events import count_events
from store.records import labour_stream
from tests.cli.records_seed import append, db_url, flat, general
from tests.workflows.conftest import case_rig
from tests.workflows.harness import Rig, application
from tests.workflows.test_employer import request, start
from workflows import api

__all__ = ["case_rig", "db_url"]  # fixtures used here

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
APPLICATION = EXAMPLES / "kandas-family.json"
REQUEST = EXAMPLES / "employer-request.json"


@pytest.fixture(autouse=True)
def stack(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case_rig: Rig, db_url: str
) -> Iterator[None]:
    """The CLI pointed at the rig's Temporal and the session's database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KOSH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv(
        "KOSH_TEMPORAL_ADDRESS", case_rig.env.client.service_client.config.target_host
    )
    monkeypatch.setenv("KOSH_DATABASE_URL", db_url)
    monkeypatch.delenv("KOSH_CODEC_KEYS", raising=False)
    monkeypatch.delenv("KOSH_CODEC_KEYS_FILE", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    yield


async def kosh(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli.main.app, list(args))


async def latest_run(rig: Rig, workflow_id: str) -> str | None:
    try:
        return (await rig.env.client.get_workflow_handle(workflow_id).describe()).run_id
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND
        return None


async def events(rig: Rig, stream: str) -> int:
    async with rig.pool.acquire() as conn:
        return await count_events(conn, case_id=stream)


def refused(result: Result, name: str, where: str) -> None:
    text = flat(result.stderr)
    assert result.exit_code == 2, result.output
    assert f"{name} already exists ({where})" in text, text
    assert "nothing was started" in text
    assert "submitted" not in result.stdout and "requested" not in result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit)


async def test_a_closed_cases_id_is_refused_and_nothing_starts(case_rig: Rig) -> None:
    handle = await case_rig.start(application(forged=True))
    await case_rig.finish(handle)  # rejected: the case has closed
    cid = handle.id.removeprefix("case-")
    run, recorded = await latest_run(case_rig, handle.id), await events(case_rig, cid)
    assert recorded > 0

    result = await kosh("submit", str(APPLICATION), "--case-id", cid)

    refused(result, f"case {cid}", "in Temporal, completed")
    assert "--case-id" in flat(result.stderr)
    assert await latest_run(case_rig, handle.id) == run  # no new run
    described = await case_rig.env.client.get_workflow_handle(handle.id).describe()
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert await events(case_rig, cid) == recorded  # nothing new in the record


async def test_an_id_only_the_record_knows_is_refused(case_rig: Rig) -> None:
    """Temporal forgets a closed case after its retention; the record keeps its events."""
    cid = f"rec-gone-{uuid.uuid4().hex[:10]}"
    async with case_rig.pool.acquire() as conn:
        await append(conn, cid, general(cid))
    recorded = await events(case_rig, cid)

    result = await kosh("submit", str(APPLICATION), "--case-id", cid)

    refused(result, f"case {cid}", "in the business record")
    assert await latest_run(case_rig, api.case_workflow_id(cid)) is None
    assert await events(case_rig, cid) == recorded


async def test_the_start_itself_refuses_a_used_id(
    case_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two submits racing both pass the check; Temporal's id reuse policy refuses the later."""
    handle = await case_rig.start(application(forged=True))
    await case_rig.finish(handle)
    cid = handle.id.removeprefix("case-")
    run = await latest_run(case_rig, handle.id)

    async def nothing_uses_it(*args: object) -> str:
        return ""

    monkeypatch.setattr(cli.handles, "_used_by", nothing_uses_it)
    result = await kosh("submit", str(APPLICATION), "--case-id", cid)

    refused(result, f"case {cid}", "in Temporal")
    assert await latest_run(case_rig, handle.id) == run


async def test_a_used_labour_request_id_is_refused(case_rig: Rig) -> None:
    handle = await start(case_rig, request(), shortage_days=5)  # refused: no shortage proven
    await asyncio.wait_for(handle.result(), 30)
    rid = handle.id.removeprefix("labour-")
    run, recorded = (
        await latest_run(case_rig, handle.id),
        await events(case_rig, labour_stream(rid)),
    )
    assert recorded > 0

    result = await kosh("employer", "request", str(REQUEST), "--request-id", rid)

    refused(result, f"labour request {rid}", "in Temporal, completed")
    assert "--request-id" in flat(result.stderr)
    assert await latest_run(case_rig, handle.id) == run
    assert await events(case_rig, labour_stream(rid)) == recorded
