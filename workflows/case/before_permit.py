"""Two steps the public figures set before the permit: the local executive body's kandas
status decision (asked, looked up when due, each of its steps decided by domain/, an overdue
decision flagged and told to staff), and the watch over the scoring pilot's limit from
submission to the decision (flagged at risk, then exceeded: a notice and an event, never a
silent pass). When to act is domain/pilot.py's; this module only orchestrates."""

from __future__ import annotations

from pydantic import ValidationError
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.verification import VerificationActivities
    from adapters.ports import KandasStep
    from domain import commands as cmd
    from domain import events as ev
    from domain.errors import DomainError
    from domain.pilot import (
        kandas_decision_pending,
        kandas_next_look,
        kandas_overdue,
        procedure_flag_due,
        procedure_flag_on,
    )

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.case.core import Case


async def kandas_status(case: Case) -> None:
    """Ask the body once; then look at once, and again on each look-up date (domain/pilot.py
    `kandas_next_look`), recording what it decided since."""
    s, rt = case.state, case.rt
    assert s.application is not None
    if s.kandas_request is None:
        ack = await rt.call(
            VerificationActivities.request_kandas_status,
            m.KandasRequestInput(
                case_id=s.case_id,
                application=s.application,
                requested_on=rt.today(),
                request_key=f"{s.case_id}:kandas",
            ),
            summary="ask the local executive body for kandas status",
        )
        await case.record(cmd.RequestKandasStatus(reference=ack.reference))
        return
    today, request, run = rt.today(), s.kandas_request, case.run
    look = run.timers.kandas_look  # None: looked at once, on the day of the request
    if look is not None and today < look:
        await rt.wait(look, label=f"kandas {request.awaiting} due {request.due_on.isoformat()}")
        return
    found = await rt.call(
        VerificationActivities.kandas_decisions,
        m.KandasLookupInput(
            case_id=s.case_id,
            reference=request.reference,
            requested_on=request.requested_on,
            on=today,
        ),
        summary="kandas status decision",
    )
    for step in found.steps:
        if not kandas_decision_pending(case.state):
            break
        await kandas_step(case, step)
    if kandas_overdue(case.state, today):
        pending = case.state.kandas_request
        assert pending is not None
        await case.record(cmd.MarkKandasDecisionOverdue())
        await case.notify(
            "kandas_decision_overdue",
            f"the local executive body's {pending.awaiting} was due by "
            f"{pending.due_on.isoformat()}; asked again each working day",
        )
    run.timers = run.timers.model_copy(update={"kandas_look": kandas_next_look(case.state, today)})
    case.publish()


async def kandas_step(case: Case, step: KandasStep) -> None:
    """One of the body's steps, decided by domain/; one it may not take (a second extension,
    a refusal without a hearing) is told to staff once and otherwise ignored."""
    try:
        events = await case.record(kandas_command(step))
    except (DomainError, ValidationError) as exc:
        rule = exc.rule if isinstance(exc, DomainError) else "kandas_step_invalid"
        await case.notify(
            "kandas_step_refused",
            f"the local executive body's {step.kind} of {step.on.isoformat()} was not taken "
            f"({rule})",
            once_key=f"kandas:{step.kind}:{step.on.isoformat()}",
        )
        return
    if any(isinstance(e, ev.KandasStatusRefused) for e in events):
        await case.notify(
            "kandas_status_refused",
            "kandas status refused after the hearing: the permit stands, general track, no support",
        )


def kandas_command(step: KandasStep) -> cmd.Command:
    reason = step.reason or "no reason given"
    match step.kind:
        case "granted":
            return cmd.GrantKandasStatus(
                certificate_number=step.certificate_number or "", granted_on=step.on
            )
        case "preliminary_refusal":
            return cmd.RecordKandasPreliminaryRefusal(reason=reason, refused_on=step.on)
        case "hearing":
            return cmd.RecordKandasHearing(held_on=step.on)
        case "extended":
            assert step.until is not None, "an extension names its end"
            return cmd.ExtendKandasDecision(until=step.until, reason=reason, extended_on=step.on)
        case "refused":
            return cmd.RefuseKandasStatus(reason=reason, refused_on=step.on)


async def procedure_limit(case: Case) -> None:
    """Beside the case's steps from submission to the decision: raise each flag of the limit
    on its day (domain/pilot.py), with a notice to staff; ends once the case is decided."""
    rt = case.rt
    while (nxt := procedure_flag_on(case.state)) is not None:
        level, day = nxt
        moved = await rt.wait_for(
            lambda: procedure_flag_on(case.state) != nxt,
            day,
            label=f"procedure limit {level} on {day.isoformat()}",
        )
        if moved:
            continue
        async with rt.lock:
            if procedure_flag_due(case.state, rt.today()) is None:
                continue
            events = await case.record(cmd.FlagProcedureLimit())
            for e in events:
                if isinstance(e, ev.ProcedureLimitFlagged):
                    kind = "procedure_at_risk" if e.level == "at_risk" else "procedure_exceeded"
                    await case.notify(
                        kind,
                        f"the decision is due by {e.limit_on.isoformat()} (the pilot's limit): "
                        + ("at risk" if e.level == "at_risk" else "exceeded"),
                    )
