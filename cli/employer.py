"""`kosh employer ...`: an employer's work-permit requests (the labour path, #12)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from adapters.limits import PayloadTooLargeError
from cli.common import JsonFlag, StateOpt, _emit, _validation_lines, fail, out
from cli.identity import acting_member
from cli.records import _row, _table, _with_db
from domain.labour import EmployerRequest, request_problems
from domain.model import tenge
from store.labour import labour_requests
from workflows import api
from workflows import employer_api as eapi

employer_app = typer.Typer(
    no_args_is_help=True,
    help="Employers' work-permit requests: a foreign worker only where a shortage is proven.",
)


def read_request(path: Path) -> EmployerRequest:
    """The request file, validated; exit 2 naming every field and rule it breaks."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        fail(f"{path}: no such file", 2)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path}: not JSON ({exc})", 2)
    except OSError as exc:
        fail(f"{path}: cannot be read ({exc.strerror})", 2)
    try:
        parsed = EmployerRequest.model_validate(raw)
    except ValidationError as exc:
        fail(f"{path} is not a valid employer request:\n{_validation_lines(exc)}", 2)
    problems = request_problems(parsed, date.today())
    if problems:
        lines = "\n".join(f"  {field}: {rule}" for field, rule in problems)
        fail(f"{path} is not a valid employer request:\n{lines}", 2)
    return parsed


@employer_app.command("request")
def request(
    file: Annotated[Path, typer.Argument(help="Employer request JSON file.")],
    request_id: Annotated[str | None, typer.Option(help="Request id (default: generated).")] = None,
    seconds_per_year: Annotated[
        float | None,
        typer.Option(help="Demo clock: wall seconds per case year (default: real).", min=0.01),
    ] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate an employer's request and open it; prints the request id. The request is
    refused, with the rule, when the shortage is not proven or no quota place is left."""
    parsed = read_request(file)
    rid = request_id or f"lr-{uuid.uuid4().hex[:12]}"
    try:
        inp = eapi.LabourInput(request_id=rid, request=parsed, seconds_per_year=seconds_per_year)
    except ValidationError as exc:
        fail(f"invalid request id:\n{_validation_lines(exc)}", 2)
    asyncio.run(start(state, inp, file))
    _emit({"request_id": rid}, as_json, f"requested: labour request [bold]{rid}[/bold]")


async def start(state: Path | None, inp: eapi.LabourInput, source: Path | str) -> None:
    from cli.main import _client  # the one way the CLI reaches Temporal

    client = await _client(state)
    r = inp.request
    try:
        await client.start_workflow(
            eapi.WORKFLOW_NAME,
            inp,
            id=eapi.request_workflow_id(inp.request_id),
            task_queue=api.TASK_QUEUE,
            static_summary=f"labour request {inp.request_id}: {r.industry} in {r.region}",
        )
    except PayloadTooLargeError as exc:
        fail(f"{source}: {exc}", 2)
    except WorkflowAlreadyStartedError:
        fail(f"labour request {inp.request_id} already exists: give another --request-id", 2)


@employer_app.command("status")
def status(
    request_id: Annotated[str, typer.Argument(help="The id printed by `kosh employer request`.")],
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A labour request's stage, checks, permit, reviews, violations and liability."""

    async def go() -> eapi.LabourStatus:
        from cli.main import _client

        client = await _client(state)
        handle = client.get_workflow_handle(eapi.request_workflow_id(request_id))
        try:
            return await handle.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)
        except RPCError as exc:
            fail(f"labour request {request_id}: {exc.message}", 1)

    s = asyncio.run(go())
    where = f"{s.industry} in {s.region}" + (f", project {s.project}" if s.project else "")
    lines = [
        f"labour request {s.request_id}: stage [bold]{s.stage}[/bold], {where}, "
        f"policy {s.policy_id}",
        f"  employer {s.employer_key} (hashed)   waiting for: {s.waiting_for}   "
        f"case date: {s.case_time.date()}",
    ]
    for authority, outcome in sorted(s.checks.items()):
        lines.append(f"  check {authority}: {outcome}")
    if s.permit_number:
        lines.append(f"  permit {s.permit_number} until {s.valid_until}, reviews: {s.reviews}")
    if s.next_review:
        lines.append(f"  next obligations review: {s.next_review}")
    if s.violations:
        lines.append(f"  violations: {', '.join(s.violations)}")
    if s.employer_fine_tiyn:
        lines.append(
            f"  employer fined {tenge(s.employer_fine_tiyn)}, quota rights suspended until "
            f"{s.quota_rights_suspended_until}"
        )
    if s.worker_exit_by:
        lines.append(f"  worker's permit revoked: exit by {s.worker_exit_by}")
    if s.closed_reason:
        lines.append(f"  closed: {s.closed_reason} — {s.closed_detail}")
    for r in s.refused:
        lines.append(f"  refused {r.name} at {r.received_at:%Y-%m-%d %H:%M}: {r.rule}: {r.reason}")
    _emit(s.model_dump(mode="json"), as_json, "\n".join(lines))


@employer_app.command("fact")
def fact(
    request_id: Annotated[str, typer.Argument(help="Labour request id.")],
    kind: Annotated[str, typer.Argument(help="violation | employment_ended")],
    violation: Annotated[
        list[str] | None,
        typer.Option(
            help="violation: wage_below_floor | address_not_registered | end_not_notified "
            "(repeat for several)."
        ),
    ] = None,
    on: Annotated[str | None, typer.Option(help="employment_ended: the day, YYYY-MM-DD.")] = None,
    notified_on: Annotated[
        str | None, typer.Option(help="employment_ended: the day the employer gave notice.")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="violation: what the inspection found.")] = (
        None
    ),
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an inspection's violation or the end of an employment (a validated Update:
    accepted, or refused with the rule). The actor is the signed-in case officer."""
    payload: dict[str, Any] = {
        k: v
        for k, v in {
            "kind": kind,
            "violations": violation,
            "on": on,
            "notified_on": notified_on,
            "reason": reason,
        }.items()
        if v is not None
    }
    try:
        eapi.LabourFact.model_validate({**payload, "actor_id": "x"})
    except ValidationError as exc:
        fail(f"invalid fact:\n{_validation_lines(exc)}", 2)
    payload["actor_id"] = acting_member(state)
    result = asyncio.run(_send(state, request_id, payload))
    _emit(
        result.model_dump(),
        as_json,
        "accepted" if result.accepted else f"[red]refused:[/red] {result.reason}",
    )
    if not result.accepted:
        raise typer.Exit(2)


async def _send(
    state: Path | None, request_id: str, payload: dict[str, Any]
) -> eapi.LabourUpdateResult:
    from cli.main import _client

    client = await _client(state)
    handle = client.get_workflow_handle(eapi.request_workflow_id(request_id))
    try:
        return await handle.execute_update(
            eapi.UPDATE_FACT, payload, result_type=eapi.LabourUpdateResult
        )
    except WorkflowUpdateFailedError as exc:
        return eapi.LabourUpdateResult(accepted=False, reason=str(exc.cause))
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            fail(f"labour request {request_id}: {exc.message}", 1)
        try:
            closed = (await handle.describe()).status != WorkflowExecutionStatus.RUNNING
        except RPCError:
            fail(f"no labour request {request_id}; nothing was sent", 1)
        if closed:
            fail(f"labour request {request_id} is closed; nothing was sent", 1)
        fail(f"labour request {request_id}: {exc.message}", 1)


@employer_app.command("list")
def list_requests(
    stage: Annotated[str | None, typer.Option(help="Only this stage (e.g. permit, closed).")] = (
        None
    ),
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Labour requests in the business record, most recently changed first."""
    rows = _with_db(state, lambda conn: labour_requests(conn, stage=stage, limit=limit))
    if as_json:
        _emit([r.model_dump(mode="json") for r in rows], True, "")
        return
    if not rows:
        out.print("no labour requests" + (f" in stage {stage}" if stage else ""))
        return
    table = _table("Labour requests", "Request", "Industry", "Region", "Project", "Stage", "Closed")
    for r in rows:
        _row(table, r.request_id, r.industry, r.region, r.project, r.stage, r.closed_reason)
    out.print(table)


@employer_app.command("schema")
def schema() -> None:
    """The JSON Schema an employer request file must satisfy."""
    typer.echo(json.dumps(EmployerRequest.model_json_schema(), indent=2))
