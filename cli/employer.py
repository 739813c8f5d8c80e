"""`kosh employer ...`: an employer's work-permit requests (the labour path, #12)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from cli import handles
from cli.common import JsonFlag, StateOpt, _emit, _validation_lines, fail, out, read_input
from cli.connect import temporal, with_record
from cli.tables import row, table
from domain.labour import EmployerRequest, request_problems
from domain.model import tenge
from store.labour import labour_requests
from workflows import employer_api as eapi

employer_app = typer.Typer(
    no_args_is_help=True,
    help="Employers' work-permit requests: a foreign worker only where a shortage is proven.",
)

RequestedId = Annotated[str, typer.Argument(help="The id printed by `kosh employer request`.")]


def read_request(path: Path) -> EmployerRequest:
    """The request file, validated; exit 2 naming every field and rule it breaks."""
    return read_input(path, EmployerRequest, "employer request", request_problems)


@employer_app.command("request")
def request(
    file: Annotated[Path, typer.Argument(help="Employer request JSON file.")],
    request_id: Annotated[
        str | None, typer.Option(help="Request id (default: generated); a used one is refused.")
    ] = None,
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
    r = inp.request
    await handles.start(
        await temporal(state),
        handles.labour_request(inp.request_id),
        eapi.WORKFLOW_NAME,
        inp,
        state=state,
        source=source,
        id_option="--request-id",
        static_summary=f"labour request {inp.request_id}: {r.industry} in {r.region}",
    )


@employer_app.command("status")
def status(request_id: RequestedId, state: StateOpt = None, as_json: JsonFlag = False) -> None:
    """A labour request's stage, checks, permit, reviews, violations and liability."""
    target = handles.labour_request(request_id)
    s = handles.query(state, target, eapi.QUERY_STATUS, eapi.LabourStatus)
    where = f"{s.industry} in {s.region}" + (f", project {s.project}" if s.project else "")
    lines = [
        f"labour request {s.request_id}: stage [bold]{s.stage}[/bold], {where}, "
        f"policy {s.policy_id}",
        f"  employer {s.employer_key or 'unknown'} (keyed)   waiting for: {s.waiting_for}   "
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
    handles.show_status(s, lines, as_json)


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
    given = {
        "kind": kind,
        "violations": violation,
        "on": on,
        "notified_on": notified_on,
        "reason": reason,
    }
    target = handles.labour_request(request_id)
    payload = handles.staff_payload(state, given, eapi.LabourFact, "fact", target)
    handles.report(asyncio.run(send(state, request_id, payload)), as_json)


async def send(
    state: Path | None, request_id: str, payload: dict[str, Any]
) -> eapi.LabourUpdateResult:
    """Send a labour request a fact from staff."""
    client = await temporal(state)
    target = handles.labour_request(request_id)
    return await handles.update(client, target, eapi.UPDATE_FACT, payload, eapi.LabourUpdateResult)


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
    rows = with_record(state, lambda conn: labour_requests(conn, stage=stage, limit=limit))
    if as_json:
        _emit([r.model_dump(mode="json") for r in rows], True, "")
        return
    if not rows:
        out.print("no labour requests" + (f" in stage {stage}" if stage else ""))
        return
    shown = table(
        "Labour requests", "Request", "Employer", "Industry", "Region", "Project", "Stage", "Closed"
    )
    for r in rows:
        employer = r.employer_key or "unknown"  # keyed id; unknown: recorded before the key
        row(
            shown, r.request_id, employer, r.industry, r.region, r.project, r.stage, r.closed_reason
        )
    out.print(shown)


@employer_app.command("schema")
def schema() -> None:
    """The JSON Schema an employer request file must satisfy."""
    typer.echo(json.dumps(EmployerRequest.model_json_schema(), indent=2))
