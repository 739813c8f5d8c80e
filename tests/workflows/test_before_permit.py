"""The steps before the permit on the time-skipping server: the local executive body's kandas
status decision (a preliminary refusal and the hearing, a final refusal, an overdue decision,
a second extension refused), the KAZTEST ban for broken rules, the consent of the country of
citizenship, and the scoring pilot's 29-day limit. Each outcome is planned in the simulator's
World for one case; every other case gets the default (granted at once, consent given)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.ports import StaffNotice
from adapters.simulator import Simulator
from domain.calendar import add_working_days
from domain.policy import policy_by_id
from tests.workflows.harness import (
    Handle,
    Rig,
    application,
    approve_referral,
    interview,
    new_case_id,
    of_type,
    one,
    types,
    withdraw,
)
from workflows import api


async def kandas_case(
    rig: Rig, outcome: str, *, departs_after_days: int | None = None
) -> tuple[str, api.CaseResult, list[Any]]:
    """A kandas case whose status request gets `outcome`; staff hold the interview and the
    family withdraws once a place is reserved (the contract is not this test's subject); on
    the general track, which has no term (decision 019), the person leaves after
    `departs_after_days`."""
    rig.staff.on("interview_due", interview)
    rig.staff.on("arrival_due", withdraw)
    cid = new_case_id()
    rig.sim.world.plan_kandas(cid, outcome)
    if departs_after_days is not None:
        rig.sim.world.plan_departure(cid, after_days=departs_after_days)
    h = await rig.start(application(), case_id=cid)
    result = await rig.finish(h)
    return cid, result, await rig.events(cid)


def working_days(events: list[Any], day: Any, n: int) -> Any:
    holidays = policy_by_id(events[0].policy_id).deadlines.holidays
    return add_working_days(day, n, holidays)


async def test_a_preliminary_refusal_is_heard_then_status_is_granted(case_rig: Rig) -> None:
    cid, result, events = await kandas_case(case_rig, "hearing_granted")

    assert result.closed_reason == "withdrawn"
    asked = one(events, "KandasStatusRequested")
    assert asked.due_on == working_days(events, asked.requested_on, 3)
    prelim = one(events, "KandasStatusPreliminarilyRefused")
    heard = one(events, "KandasHearingHeld")
    granted = one(events, "KandasStatusGranted")
    assert prelim.hearing_by == working_days(events, prelim.refused_on, 2)
    assert prelim.refused_on <= asked.due_on
    assert (heard.late, heard.held_on <= prelim.hearing_by) == (False, True)
    assert granted.granted_on == heard.held_on
    assert granted.certificate_number == Simulator.kandas_certificate(cid)
    order = types(events)
    assert order.index("KandasStatusRequested") < order.index("KandasStatusPreliminarilyRefused")
    assert order.index("KandasHearingHeld") < order.index("KandasStatusGranted")
    assert order.index("KandasStatusGranted") < order.index("QuotaPlaceReserved")
    assert "KandasDecisionOverdue" not in order
    assert "kandas_decision_overdue" not in case_rig.staff.kinds(cid)


async def test_a_final_refusal_keeps_the_permit_on_the_general_track(case_rig: Rig) -> None:
    cid, result, events = await kandas_case(case_rig, "hearing_refused", departs_after_days=500)

    # docs/decisions/016: no support, no quota place; the permit stands on the general track
    # (permanent: decision 019), monitored until the person leaves
    assert result.closed_reason == "departed"
    assert result.support_paid_tiyn == 0
    refused = one(events, "KandasStatusRefused")
    assert refused.refused_on == one(events, "KandasHearingHeld").held_on
    assert "heard, upheld" in refused.reason
    for never in ("KandasStatusGranted", "QuotaPlaceReserved", "SocialContractSigned"):
        assert never not in types(events)
    assert of_type(events, "RescreeningCompleted")  # monitored as the general track is
    assert "kandas_status_refused" in case_rig.staff.kinds(cid)
    assert "arrival_due" not in case_rig.staff.kinds(cid)


async def test_a_decision_past_three_working_days_is_flagged_and_told_to_staff(
    case_rig: Rig,
) -> None:
    cid, result, events = await kandas_case(case_rig, "late")

    assert result.closed_reason == "withdrawn"
    asked = one(events, "KandasStatusRequested")
    overdue = one(events, "KandasDecisionOverdue")
    granted = one(events, "KandasStatusGranted")
    assert (overdue.due_on, overdue.awaiting) == (asked.due_on, "decision")
    assert overdue.at.date() == asked.due_on + timedelta(days=1)  # the first day it was late
    assert granted.granted_on == working_days(events, asked.requested_on, 5)
    assert granted.at.date() >= granted.granted_on > asked.due_on
    kinds = case_rig.staff.kinds(cid)
    assert kinds.count("kandas_decision_overdue") == 1
    assert kinds.index("kandas_decision_overdue") < kinds.index("arrival_due")


async def test_one_extension_is_taken_and_a_second_refused_and_told(case_rig: Rig) -> None:
    cid, result, events = await kandas_case(case_rig, "extended_twice")

    assert result.closed_reason == "withdrawn"
    asked = one(events, "KandasStatusRequested")
    extended = one(events, "KandasDecisionExtended")  # the second was not recorded
    granted = one(events, "KandasStatusGranted")
    assert extended.extended_on == asked.due_on
    assert extended.until <= asked.due_on + timedelta(days=31 * 6)
    assert granted.granted_on == extended.until
    assert "KandasDecisionOverdue" not in types(events)
    refused = [n for n in case_rig.sim.notice_log if n.kind == "kandas_step_refused"]
    assert [n.case_id for n in refused] == [cid]
    assert "kandas_extension_once" in refused[0].message


async def test_broken_rules_ban_the_next_sitting_for_thirty_days(case_rig: Rig) -> None:
    case_rig.staff.on("interview_due", interview)
    cid = new_case_id()
    case_rig.sim.world.plan_rules_broken(cid, attempt=1)
    case_rig.sim.world.plan_departure(cid, after_days=200)  # the general track has no term
    h = await case_rig.start(application(track="general"), case_id=cid)
    result = await case_rig.finish(h)

    assert result.closed_reason == "departed"
    first, second = of_type(events := await case_rig.events(cid), "LanguageTestScored")
    ban = policy_by_id(first.policy_id).language.rules_breach_ban_days
    assert (first.attempt, first.passed, first.rules_broken) == (1, False, True)
    assert first.banned_until == first.at.date() + timedelta(days=ban)
    # the banned sitting was one of the three attempts (docs/decisions/017)
    assert (second.attempt, second.passed) == (2, True)
    assert second.at.date() == first.banned_until
    # thirty days of ban cannot fit the pilot's 29 days: flagged, never passed silently
    flags = of_type(events, "ProcedureLimitFlagged")
    assert [f.level for f in flags] == ["at_risk", "exceeded"]
    assert {"procedure_at_risk", "procedure_exceeded"} <= set(case_rig.staff.kinds(cid))


async def test_consent_refused_rejects_the_application_with_its_reason(case_rig: Rig) -> None:
    cid = new_case_id()
    reason = "the country of citizenship refused its written consent"
    case_rig.sim.world.plan_verdict(cid, "citizenship_consent", "deny", reason)
    h = await case_rig.start(application(), case_id=cid)
    result = await case_rig.finish(h)

    assert result.closed_reason == "rejected"
    assert f"citizenship_consent: {reason}" in result.detail
    events = await case_rig.events(cid)
    assert "InterviewRecorded" not in types(events)
    assert one(events, "ScoreComputed").breakdown.decision == "reject"


async def test_consent_never_given_escalates_and_the_29_day_limit_is_flagged(
    case_rig: Rig,
) -> None:
    seen: list[api.CaseStatus] = []

    async def officer(handle: Handle, notice: StaffNotice) -> None:
        seen.append(await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus))
        await approve_referral(handle, notice)

    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("procedure_exceeded", officer)  # the limit passed: an officer decides
    case_rig.staff.on("arrival_due", withdraw)
    cid = new_case_id()
    case_rig.sim.world.plan_silence(cid, "citizenship_consent")
    h = await case_rig.start(application(), case_id=cid)
    result = await case_rig.finish(h)

    assert result.closed_reason == "withdrawn"
    events = await case_rig.events(cid)
    submitted = events[0].at.date()
    rules = policy_by_id(events[0].policy_id).deadlines
    overdue = one(events, "AuthorityCheckOverdue")
    assert overdue.authority == "citizenship_consent"
    assert overdue.due_on == submitted + timedelta(days=rules.citizenship_consent_days)
    assert one(events, "ScoreComputed").breakdown.decision == "refer"

    limit = submitted + timedelta(days=rules.procedure_limit_days)
    at_risk, exceeded = of_type(events, "ProcedureLimitFlagged")
    assert (at_risk.level, at_risk.limit_on) == ("at_risk", limit)
    assert at_risk.at.date() == limit - timedelta(days=rules.procedure_at_risk_days)
    assert (exceeded.level, exceeded.at.date()) == ("exceeded", limit + timedelta(days=1))
    resolved = one(events, "ReferralResolved")
    assert resolved.at >= exceeded.at
    # what staff saw when told: the flags and the limit in the status query
    [status] = seen
    assert status.stage == "referral"
    assert status.procedure_flags == ("at_risk", "exceeded")
    assert status.deadlines["procedure_limit"] == limit
    kinds = case_rig.staff.kinds(cid)
    assert kinds.index("authority_overdue") < kinds.index("procedure_at_risk")
    assert kinds.index("procedure_at_risk") < kinds.index("procedure_exceeded")
    # decided: the limit no longer shows and nothing more is flagged
    assert len(of_type(events, "ProcedureLimitFlagged")) == 2
