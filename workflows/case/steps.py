"""A case's steps after scoring, one per stage: what is due now is done (an agency called, its
answer decided and recorded), else the case waits for a date or for staff. Each step runs
under the case's lock and lets it go while it waits. What is due, and when, is domain/'s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.payments import PaymentActivities
    from activities.verification import VerificationActivities
    from domain import commands as cmd
    from domain import events as ev
    from domain.agenda import (
        arrival_deadline,
        border_check_due,
        exit_check_due,
        fulfilment_due,
        monitoring_as_of,
        next_contract_rescreening,
        next_residence_check,
        next_wakeup,
        referral_due,
        repayment_referral_on,
        support_due,
    )

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.case.before_permit import kandas_status
from workflows.case.core import Case
from workflows.case.scoring import scoring


async def documents(case: Case) -> None:
    s = case.state
    assert s.application is not None
    result = await case.rt.call(
        VerificationActivities.verify_documents,
        m.CaseRef(case_id=s.case_id, application=s.application),
        summary="verify documents",
    )
    await case.record(cmd.RecordDocumentCheck(authentic=result.authentic, reasons=result.reasons))


async def decision(case: Case) -> None:
    await case.record(cmd.ComputeScore())


async def referral(case: Case) -> None:
    """Wait for an officer's decision; remind staff each time the decision window passes
    (a referral is never decided by the clock)."""
    run = case.run
    if run.timers.referral_due is None:
        run.timers = run.timers.model_copy(
            update={"referral_due": referral_due(case.state, case.rt.today())}
        )
        case.publish()
        reasons = "; ".join(case.state.breakdown.reasons) if case.state.breakdown else ""
        await case.notify("referral_due", f"referred to an officer: {reasons}")
        return
    if await case.rt.wait(run.timers.referral_due, label="referral decision due", human=True):
        return
    run.timers = run.timers.model_copy(
        update={"referral_due": referral_due(case.state, case.rt.today())}
    )
    case.publish()
    await case.notify(
        "referral_overdue", f"referral still undecided; next {run.timers.referral_due}"
    )


async def permit(case: Case) -> None:
    result = await case.rt.call(
        VerificationActivities.issue_permit,
        m.IssueInput(case_id=case.state.case_id),
        summary="issue residence permit",
    )
    await case.record(cmd.IssuePermit(permit_number=result.number))


async def relocation(case: Case) -> None:
    s = case.state
    if s.kandas_certificate is None:
        await kandas_status(case)
    elif s.region is None:
        await await_allocation(case)
    elif s.arrived_on is None:
        await await_arrival(case)
    else:
        await case.record(cmd.SignSocialContract())


async def await_allocation(case: Case) -> None:
    """The family lodges its candidacy and waits for its regions' allocation rounds
    (docs/decisions/014): a round's word (a place, or not reached) or the family's own choice
    of the general track arrives as input (workflows/case/core.py `take_allocation`)."""
    s = case.state
    if s.candidacy is None:
        await case.record(cmd.LodgeCandidacy())
        c = case.state.candidacy
        assert c is not None
        await case.notify(
            "candidacy_lodged",
            f"candidate for {', '.join(c.regions)} with score {c.score}: waiting for a round",
        )
        return
    await case.rt.wait(None, label="allocation round")


async def await_arrival(case: Case) -> None:
    run, s = case.run, case.state
    if run.timers.arrival_due is None:
        assert s.region is not None
        run.timers = run.timers.model_copy(
            update={"arrival_due": arrival_deadline(s, case.rt.today())}
        )
        case.publish()
        await case.rt.call(
            VerificationActivities.watch_registration,
            m.WatchInput(
                case_id=s.case_id,
                region=s.region,
                request_key=f"{s.case_id}:registration:{s.region}",
            ),
            summary=f"watch address registry for {s.region}",
        )
        await case.notify("arrival_due", f"arrival in {s.region} awaited")
        return
    if not await case.rt.wait(run.timers.arrival_due, label="arrival deadline", human=True):
        await case.record(cmd.LapseRelocation())


async def monitoring(case: Case) -> None:
    s, today = case.state, case.rt.today()
    for due in support_due(s, monitoring_as_of(s, today)):
        receipt = await case.rt.call(
            PaymentActivities.disburse_support,
            m.DisburseInput(
                case_id=s.case_id,
                idempotency_key=due.idempotency_key,
                amount_tiyn=due.amount_tiyn,
                purpose=due.measure,
                payee=due.payee,
            ),
            summary=f"pay {due.measure} {due.period}",
        )
        await case.record(
            cmd.RecordSupportPayment(
                measure=due.measure,
                period=due.period,
                amount_tiyn=due.amount_tiyn,
                idempotency_key=due.idempotency_key,
                payment_reference=receipt.reference,
            )
        )
    s = case.state
    check, screen = next_residence_check(s), next_contract_rescreening(s)
    if check is not None and check <= today and (screen is None or check <= screen):
        # As of the day it was due: a check caught up late (workers or the record away for a
        # while) asks where the family was then, not where it is now. The last one is the
        # final check as of the contract's last day, and a discrepancy it (or any check)
        # found is re-checked before the contract is settled.
        await residence_check(case, check)
        return
    if screen is not None and screen <= today:
        await rescreen(case)
        return
    if fulfilment_due(s, today):
        await case.record(cmd.FulfilContract())
        return
    await case.rt.wait(next_wakeup(s), label="next contract obligation")


async def rescreen(case: Case) -> None:
    """Under a social contract, the periodic security re-screening the general track makes
    (domain/agenda.py `next_contract_rescreening`); a denial is a revocation for cause."""
    s = case.state
    reply = await case.rt.call(
        VerificationActivities.check_authority,
        m.AuthorityCheckInput(case_id=s.case_id, application=s.application, authority="security"),
        summary="periodic re-screening under contract",
    )
    await case.record(cmd.RecordRescreening(outcome=reply.outcome, reason=reply.reason))


async def residence_check(case: Case, as_of: date) -> None:
    s = case.state
    assert s.region is not None and s.contract_starts_on is not None
    result = await case.rt.call(
        VerificationActivities.check_residence,
        m.ResidenceCheckInput(
            case_id=s.case_id, settled_region=s.region, settled_on=s.contract_starts_on, on=as_of
        ),
        summary="verify residence in region",
    )
    events = await case.record(
        cmd.RecordResidenceCheck(reported_region=result.region, checked_on=as_of)
    )
    if any(isinstance(e, ev.ResidenceDiscrepancyFound) for e in events):
        await case.notify("discrepancy_found", "registered address outside the region")


async def repayment(case: Case) -> None:
    s = case.state
    if s.repayment_invoice is None:
        assert s.repayment_due_on is not None
        issued = await case.rt.call(
            PaymentActivities.issue_repayment_invoice,
            m.InvoiceInput(
                case_id=s.case_id,
                idempotency_key=f"{s.case_id}:repayment:invoice",
                amount_tiyn=s.outstanding_tiyn,
                due_on=s.repayment_due_on,
            ),
            summary="invoice the repayment",
        )
        await case.record(cmd.RecordInvoice(invoice=issued.invoice))
        return
    await case.notify(
        "repayment_due", f"repayment due by {s.repayment_due_on}", once_key="repayment_due"
    )
    if await case.rt.wait(repayment_referral_on(s), label="repayment due date", human=True):
        return
    if case.state.stage == "repayment":
        await case.record(cmd.ReferRepayment())


async def residence(case: Case) -> None:
    """General track: each re-screening, and the card's renewal at its end, after asking border
    control about the time up to it (domain/agenda.py `border_check_due`)."""
    s = case.state
    check = border_check_due(s, case.rt.today())
    if check is None:
        await case.rt.wait(next_wakeup(s), label="next re-screening")
        return
    departed = await case.rt.call(
        VerificationActivities.check_departure,
        m.DepartureCheckInput(case_id=s.case_id, since=check.since, until=check.until),
        summary="border crossings",
    )
    if departed.departed_on is not None:
        await case.record(cmd.RecordDeparture(departed_on=departed.departed_on, source="border"))
        return
    if check.final:  # permanent residence: the card is renewed (docs/decisions/019)
        await case.record(cmd.RenewPermit())
        return
    reply = await case.rt.call(
        VerificationActivities.check_authority,
        m.AuthorityCheckInput(case_id=s.case_id, application=s.application, authority="security"),
        summary="periodic re-screening",
    )
    await case.record(cmd.RecordRescreening(outcome=reply.outcome, reason=reply.reason))


async def exit_check(case: Case) -> None:
    """The closed case's last step: border control asked about its crossings up to the
    closing day (domain/agenda.py `exit_check_due`); no exit on record where the closing left
    no ground to stay is flagged to staff."""
    check = exit_check_due(case.state)
    if check is None:
        return
    s = case.state
    found = await case.rt.call(
        VerificationActivities.check_departure,
        m.DepartureCheckInput(case_id=s.case_id, since=check.since, until=check.until),
        summary="exit check: border crossings",
    )
    events = await case.record(
        cmd.RecordExitCheck(since=check.since, until=check.until, departed_on=found.departed_on)
    )
    if any(isinstance(e, ev.ExitChecked) and e.flagged for e in events):
        await case.notify("exit_flagged", f"no exit recorded after closing ({s.closed_reason})")


STEPS: dict[str, Callable[[Case], Awaitable[None]]] = {
    "documents": documents,
    "scoring": scoring,
    "decision": decision,
    "referral": referral,
    "permit": permit,
    "relocation": relocation,
    "monitoring": monitoring,
    "repayment": repayment,
    "residence": residence,
}
