"""An applicant's case: `kosh submit`, `kosh status`, and staff input (`kosh interview`,
`kosh fact`) sent as validated updates by the signed-in member."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from cli import handles
from cli.common import JsonFlag, StateOpt, _emit, _validation_lines, fail, read_input
from cli.connect import temporal
from domain.application import Application, intake_problems
from workflows import api

SubmittedId = Annotated[str, typer.Argument(help="The case id printed by `kosh submit`.")]


def submit(
    application: Annotated[Path, typer.Argument(help="Application JSON file.")],
    case_id: Annotated[
        str | None, typer.Option(help="Case id (default: generated); a used one is refused.")
    ] = None,
    seconds_per_year: Annotated[
        float | None,
        typer.Option(
            help="Demo clock for this case: wall seconds per case year (default: real).", min=0.01
        ),
    ] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate an application and open its case; prints the case id."""
    parsed = read_input(application, Application, "application", intake_problems)
    cid = case_id or f"c-{uuid.uuid4().hex[:12]}"
    try:
        inp = api.CaseInput(
            case_id=cid,
            application=parsed,
            seconds_per_year=seconds_per_year,
            human_floor_seconds=60.0 if seconds_per_year else 0.0,
        )
    except ValidationError as exc:
        fail(f"invalid case id:\n{_validation_lines(exc)}", 2)

    async def go() -> None:
        await handles.start(
            await temporal(state),
            handles.case(cid),
            api.WORKFLOW_NAME,
            inp,
            state=state,
            source=application,
            id_option="--case-id",
            static_summary=api.static_summary(inp),
            static_details=api.static_details(inp),
        )

    asyncio.run(go())
    _emit({"case_id": cid}, as_json, f"submitted: case [bold]{cid}[/bold]")


def status(case_id: SubmittedId, state: StateOpt = None, as_json: JsonFlag = False) -> None:
    """A case's stage, what it waits for, its score, money, and refused inputs."""
    s = handles.query(state, handles.case(case_id), api.QUERY_STATUS, api.CaseStatus)
    lines = [
        f"case {s.case_id}: stage [bold]{s.stage}[/bold], track {s.track}, policy {s.policy_id}",
        f"  waiting for: {s.waiting_for}   case date: {s.case_time.date()}",
    ]
    for what, day in sorted(s.deadlines.items(), key=lambda kv: kv[1]):
        lines.append(f"  due: {what} by {day}")
    if s.procedure_flags:
        lines.append(f"  the pilot's limit to the decision: {', '.join(s.procedure_flags)}")
    if s.decision:
        lines.append(
            f"  decision: {s.decision} (score {s.score_total}): " + "; ".join(s.decision_reasons)
        )
    if s.breakdown is not None:
        for g in s.breakdown.gates:
            lines.append(f"    gate {g.name}: {g.outcome} ({g.reason})")
        for c in s.breakdown.components:
            lines.append(f"    {c.name}: {c.points}/{c.max_points} ({c.reason})")
    if s.contract_ends_on:
        lines.append(f"  contract in {s.region} until {s.contract_ends_on}")
    elif s.region:
        lines.append(f"  quota place reserved in {s.region}")
    lines.append(
        f"  support paid: {s.support_paid_tiyn / 100:,.2f} KZT, "
        f"owed: {s.outstanding_tiyn / 100:,.2f} KZT, events: {s.events}"
    )
    for p in s.payments:
        sign = "-" if p.kind == "repayment" else " "
        lines.append(
            f"   {sign}{p.amount_tiyn / 100:>14,.2f} KZT  {p.on}  {p.measure} {p.period}"
            f"  ({p.reference})"
        )
    if s.repayment_due_on:
        lines.append(f"  repayment due by {s.repayment_due_on}")
    handles.show_status(s, lines, as_json)


def interview(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    passed: Annotated[bool, typer.Option("--pass/--fail", help="The interview's outcome.")],
    points: Annotated[int, typer.Option(help="Points awarded (0..policy maximum).")],
    notes: Annotated[str, typer.Option(help="Notes for the record.")] = "",
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an interview outcome (a validated Update: accepted, or refused with the rule).
    The interviewer is the signed-in member (`kosh login`); the case checks their role."""
    outcome = {"passed": passed, "points": points, "notes": notes}
    target = handles.case(case_id)
    payload = handles.staff_payload(
        state, outcome, api.InterviewOutcome, "interview outcome", target
    )
    handles.report(asyncio.run(send(state, case_id, api.UPDATE_INTERVIEW, payload)), as_json)


def fact(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    kind: Annotated[
        str,
        typer.Argument(
            help="arrival | move | departure | repayment | referral | withdrawal | death | "
            "citizenship | revocation | employment | employment_end | housing_certificate"
            " | general_track"
        ),
    ],
    region: Annotated[
        str | None,
        typer.Option(help="arrival: the region; move: new region; housing_certificate: its."),
    ] = None,
    on: Annotated[
        str | None, typer.Option(help="Date of the fact, YYYY-MM-DD (default today).")
    ] = None,
    amount_tiyn: Annotated[
        int | None,
        typer.Option(help="repayment: amount in tiyn; housing_certificate: the home's price."),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(help="repayment: bank reference; housing_certificate: the application."),
    ] = None,
    approve: Annotated[
        bool | None, typer.Option("--approve/--reject", help="referral: the officer's decision.")
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(help="referral/withdrawal/revocation/general_track: the reason."),
    ] = None,
    fault: Annotated[
        bool | None,
        typer.Option(
            "--fault/--no-fault",
            help="revocation: for the holder's fault (a breach under a social contract) or not.",
        ),
    ] = None,
    member: Annotated[
        int | None, typer.Option(help="employment(_end): the family member, 1 the applicant.")
    ] = None,
    employer_id: Annotated[str | None, typer.Option(help="employment: the employer's BIN.")] = None,
    housing: Annotated[
        bool | None,
        typer.Option("--housing/--no-housing", help="employment: the employer gives housing."),
    ] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a real-world fact on a case (validated Update: accepted or refused with the rule).
    The actor is the signed-in member (`kosh login`); the case checks their role."""
    given = {
        "kind": kind,
        "region": region,
        "on": on,
        "amount_tiyn": amount_tiyn,
        "reference": reference,
        "approve": approve,
        "reason": reason,
        "fault": fault,
        "member": member,
        "employer_id": employer_id,
        "housing_provided": housing,
    }
    payload = handles.staff_payload(state, given, api.StaffFact, "fact", handles.case(case_id))
    handles.report(asyncio.run(send(state, case_id, api.UPDATE_FACT, payload)), as_json)


async def send(
    state: Path | None, case_id: str, name: str, payload: dict[str, Any]
) -> api.UpdateResult:
    """Send a case an update (`name`) from staff."""
    client = await temporal(state)
    return await handles.update(client, handles.case(case_id), name, payload, api.UpdateResult)
