"""A phased introduction on the time-skipping server (issue #22, item 3): a version published
in the record for Pavlodar first is taken by a family applying there, not by one applying in
Akmola nor by the general track (the rest of the country starts later); the version is in the
case's record, its status and its `KoshPolicyVersion` search attribute; a worker that never
read the record replays the case from its history alone.

Runs on a database of its own: a version published in the session's shared one would reach
other tests' Pavlodar cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain import policy as pol
from domain.policy import POLICY_2026_1
from domain.policy_draft import revised
from domain.policy_record import PolicyVersionPublished
from domain.provenance import Illustrative
from store.embedded import EmbeddedPostgres
from store.labour import read_labour_events
from store.migrate import migrate
from store.policies import publish
from store.pool import create_pool
from store.staff import put_staff
from tests.conftest import TEST_STAFF
from tests.workflows.harness import Rig, all_runs, application, one, replayer, rig
from tests.workflows.test_employer import finish, request, start
from workflows import api


@pytest_asyncio.fixture
async def own_pool(tmp_path: Path) -> AsyncIterator[asyncpg.Pool]:
    with EmbeddedPostgres(tmp_path / "pgdata") as pg:
        pool = await create_pool(pg.url, min_size=1, max_size=10)
        async with pool.acquire() as conn:
            await migrate(conn)
            for member, roles in TEST_STAFF.items():
                await put_staff(conn, staff_id=member, roles=roles)
        yield pool
        await pool.close()


@pytest_asyncio.fixture
async def phase_rig(time_env: WorkflowEnvironment, own_pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    async with rig(time_env, own_pool) as r:
        yield r


@pytest.fixture(autouse=True)
def nothing_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pol, "_KNOWN", {})


async def test_a_pilot_region_takes_the_published_version_first(phase_rig: Rig) -> None:
    r = phase_rig
    today = (await r.env.get_current_time()).date()
    version = revised(
        POLICY_2026_1,
        id="2026.9-pilot",
        effective_from=date(2031, 1, 1),
        phased_from={"Pavlodar": today},
        note="a pilot in Pavlodar first",
        changes={"deadlines.interview_reminder_every_days": (5, Illustrative("a pilot"))},
    )
    async with r.pool.acquire() as conn:
        await publish(
            conn,
            PolicyVersionPublished(
                policy_id=version.id,
                at=datetime.now(UTC),
                version=version,
                published_by="policy-01",
                basis="the pilot's order (illustrative)",
            ),
        )
    pol._KNOWN.clear()  # the worker knows it only from the record, as a new process would

    pilot = await r.start(application(regions=("Pavlodar",)))
    elsewhere = await r.start(application(regions=("Akmola",)))
    general = await r.start(application(track="general"))
    taken = {}
    for h in (pilot, elsewhere, general):
        status = await r.wait_status(h, lambda s: s.stage not in ("new", "documents"))
        submitted = one(await r.events(h.id.removeprefix("case-")), "ApplicationSubmitted")
        attrs = (await r.latest(h).describe()).typed_search_attributes
        assert submitted.policy_id == status.policy_id == attrs.get(api.SA_POLICY)
        taken[h] = submitted.policy_id
    assert [taken[h] for h in (pilot, elsewhere, general)] == ["2026.9-pilot", "2026.1", "2026.1"]

    pol._KNOWN.clear()  # a worker that never read the record: the history holds the version
    for history in await all_runs(r.env.client, pilot.id):
        await replayer().replay_workflow(history)

    # an employer's request takes the version in force in its vacancy's region too
    taken_by = {}
    for region in ("Pavlodar", "Atyrau"):
        result, _ = await finish(r, await start(r, request(region=region)))
        stored = await labour_events(r, result.request_id)
        taken_by[region] = stored[0].event.policy_id
    assert taken_by == {"Pavlodar": "2026.9-pilot", "Atyrau": "2026.1"}


async def labour_events(r: Rig, request_id: str) -> list[Any]:
    async with r.pool.acquire() as conn:
        return list(await read_labour_events(conn, request_id=request_id))
