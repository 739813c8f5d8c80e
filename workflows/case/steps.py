"""A case's steps after scoring, one per stage: what is due now is done (an agency called, its
answer decided and recorded), else the case waits for a date or for staff. Each step runs
under the case's lock and lets it go while it waits. What is due, and when, is domain/'s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.payments import PaymentActivities
    from activities.verification import VerificationActivities
    from domain import commands as cmd
    from domain import events as ev
    from domain.agenda import (
        arrival_deadline,
        border_check_due,
        monitoring_as_of,
        next_residence_check,
        next_wakeup,
        referral_due,
        repayment_referral_on,
        support_due,
    )
    from domain.errors import DomainError

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.case.core import Case
from workflows.case.scoring import scoring
from workflows.runtime import refusal


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
        result = await case.rt.call(
            VerificationActivities.grant_kandas_status,
            m.IssueInput(case_id=s.case_id),
            summary="grant kandas status",
        )
        await case.record(cmd.GrantKandasStatus(certificate_number=result.number))
    elif s.region is None:
        await reserve_place(case)
    elif s.arrived_on is None:
        await await_arrival(case)
    else:
        await case.record(cmd.SignSocialContract())


async def reserve_place(case: Case) -> None:
    """The family's regions in their order of preference, the first with a place left; none:
    the general track without support."""
    assert case.state.application is not None
    year, tried = case.rt.now().year, []
    for region in case.state.application.preferred_regions:
        tried.append(region)
        try:
            await case.record(cmd.ReserveQuotaPlace(region=region, year=year))
            return
        except DomainError:
            continue
        except (ActivityError, ApplicationError) as exc:
            found = refusal(exc)
            if found is not None and found.type == "QuotaExhausted":
                continue
            raise
    await case.record(cmd.GiveUpSupport(regions_tried=tuple(tried)))


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
    check = next_residence_check(case.state)
    if check is not None and check <= today:
        # As of the day it was due: a check caught up late (workers or the record away for a
        # while) asks where the family was then, not where it is now.
        await residence_check(case, check)
        return
    ends = case.state.contract_ends_on
    if ends is not None and today >= ends and case.state.stage == "monitoring":
        await case.record(cmd.FulfilContract())
        return
    await case.rt.wait(next_wakeup(case.state), label="next contract obligation")


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
    """General track: each re-screening, and the permit's end, after asking border control
    about the time up to it (domain/agenda.py `border_check_due`)."""
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
    if check.final:
        await case.record(cmd.EndPermitTerm())
        return
    reply = await case.rt.call(
        VerificationActivities.check_authority,
        m.AuthorityCheckInput(case_id=s.case_id, application=s.application, authority="security"),
        summary="periodic re-screening",
    )
    await case.record(cmd.RecordRescreening(outcome=reply.outcome, reason=reply.reason))


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
