"""Competent-authority checks: lodged, answered later by signal, escalated at their due date.

Authorities in these tests answer before the request activity returns (GatedSimulator), or
never (`World.plan_silence`), so no reply ever races the time-skipping clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.policy import policy_by_id
from tests.workflows.harness import (
    GOOD_INTERVIEW,
    INTERVIEWER,
    Handle,
    Rig,
    application,
    approve_referral,
    arrive,
    interview,
    of_type,
    one,
    signed,
    types,
    update,
    withdraw,
)
from workflows import api

AUTHORITIES = ["security", "criminal_record", "deportation", "citizenship_consent"]
ANSWERING = sorted(a for a in AUTHORITIES if a != "security")


async def test_an_authority_that_never_replies_refers_the_case_and_an_officer_approves(
    case_rig: Rig,
) -> None:
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("referral_overdue", approve_referral)  # decided after one reminder
    case_rig.staff.on("arrival_due", withdraw)
    h = await case_rig.start(application())
    cid = h.id.removeprefix("case-")
    case_rig.sim.world.plan_silence(cid, "security")
    result = await case_rig.finish(h)

    assert result.closed_reason == "withdrawn"
    events = await case_rig.events(cid)
    requested = of_type(events, "AuthorityCheckRequested")
    assert sorted(r.authority for r in requested) == sorted(AUTHORITIES)
    assert all(
        r.reference == case_rig.sim.requests[f"{cid}:authority:{r.authority}"] for r in requested
    )
    replied = of_type(events, "SecurityCheckCompleted")
    assert sorted(r.authority for r in replied) == ANSWERING

    deadlines = policy_by_id(events[0].policy_id).deadlines
    overdue = one(events, "AuthorityCheckOverdue")
    asked = next(r for r in requested if r.authority == "security")
    assert overdue.authority == "security"
    assert (
        overdue.due_on
        == asked.due_on
        == asked.at.date() + timedelta(days=deadlines.authority_check_days)
    )
    assert overdue.at.date() == overdue.due_on

    scored = one(events, "ScoreComputed").breakdown
    assert scored.decision == "refer"
    assert scored.reasons == (f"security: no reply by {overdue.due_on.isoformat()}",)
    resolved = one(events, "ReferralResolved")
    assert (resolved.officer_id, resolved.approve) == ("officer-3", True)
    waited = resolved.at.date() - one(events, "ScoreComputed").at.date()
    assert waited == timedelta(days=deadlines.referral_decision_days)  # after one reminder
    assert "PermitIssued" in types(events)

    kinds = case_rig.staff.kinds(cid)
    assert kinds.index("authority_overdue") < kinds.index("interview_due")
    assert (
        kinds.index("referral_due") < kinds.index("referral_overdue") < kinds.index("arrival_due")
    )


async def test_a_security_denial_rejects_without_an_interview(case_rig: Rig) -> None:
    h = await case_rig.start(application())
    cid = h.id.removeprefix("case-")
    case_rig.sim.world.plan_verdict(cid, "security", "deny", "listed by the security service")
    result = await case_rig.finish(h)

    assert result.closed_reason == "rejected"
    assert "security: listed by the security service" in result.detail
    events = await case_rig.events(cid)
    security = next(
        e for e in of_type(events, "SecurityCheckCompleted") if e.authority == "security"
    )
    assert (security.outcome, security.reason) == ("deny", "listed by the security service")
    assert "InterviewRecorded" not in types(events)
    assert one(events, "ScoreComputed").breakdown.decision == "reject"
    assert case_rig.staff.kinds(cid) == ["exit_flagged"]


async def signal_reply(h: Handle, **reply: Any) -> None:
    await h.signal(api.SIGNAL_AUTHORITY, reply)


async def test_late_duplicate_and_malformed_replies(case_rig: Rig) -> None:
    case_rig.staff.on("arrival_due", arrive)
    h = await case_rig.start(application())
    cid = h.id.removeprefix("case-")
    case_rig.sim.world.plan_silence(cid, "security")
    status = await case_rig.wait_status(h, lambda s: "security_reply" in s.deadlines)
    await case_rig.env.sleep(
        timedelta(days=1)
        + (  # past security's due date; then the clock
            status.deadlines["security_reply"] - status.case_time.date()  # runs at wall speed
        )
    )
    await case_rig.notice("interview_due")

    status = await case_rig.status(h)
    assert status.decision is None and "interview" in status.deadlines
    events = await case_rig.events(cid)
    security = next(
        e for e in of_type(events, "AuthorityCheckRequested") if e.authority == "security"
    )
    criminal = next(
        e for e in of_type(events, "AuthorityCheckRequested") if e.authority == "criminal_record"
    )

    await signal_reply(h, authority="security", reference="AR-FORGED", outcome="clear", reason="x")
    await signal_reply(
        h, authority="security", reference=security.reference, outcome="maybe", reason="x"
    )
    await signal_reply(
        h, authority="criminal_record", reference=criminal.reference, outcome="deny", reason="again"
    )
    await signal_reply(
        h,
        authority="security",
        reference=security.reference,
        outcome="clear",
        reason="cleared late",
    )
    status = await case_rig.wait_status(h, lambda s: len(s.refused) == 3)
    assert [(r.name, r.rule) for r in status.refused] == [
        ("authority", "authority_reference"),
        ("authority", "invalid_input"),
        ("authority", "authority_answered"),
    ]
    assert "outcome" in status.refused[1].reason

    # the late clear reply replaced the referral: the interview decides, no officer needed
    result = await update(h, api.UPDATE_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER))
    assert result.accepted, result.reason
    status = await case_rig.wait_status(h, lambda s: s.decision is not None)
    assert status.decision == "approve"
    await case_rig.wait_status(h, lambda s: s.stage in ("relocation", "monitoring"), timeout=10)
    events = await case_rig.events(cid)
    gates = {g.name: g for g in one(events, "ScoreComputed").breakdown.gates}
    assert (gates["security"].outcome, gates["security"].reason) == ("clear", "cleared late")
    assert types(events).index("AuthorityCheckOverdue") < next(
        i
        for i, e in enumerate(events)
        if e.type == "SecurityCheckCompleted" and e.authority == "security"
    )
