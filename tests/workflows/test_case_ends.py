"""Ends that can come at any stage: withdrawal, death, citizenship, revocation.

These tests send the fact while the case waits on a long timer, with the clock at wall speed
(no test awaits the result yet), so they also show that input is applied at once, not when
the timer fires.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from domain.policy import policy_by_id
from tests.workflows.harness import (
    OFFICER,
    Rig,
    application,
    arrive,
    as_staff,
    interview,
    of_type,
    one,
    types,
)
from workflows import api


async def test_a_withdrawal_during_a_kaztest_retake_wait_stops_the_checks(case_rig: Rig) -> None:
    h = await case_rig.start(application(kazakh="none"))
    cid = h.id.removeprefix("case-")
    assert await case_rig.recorded(cid, "LanguageTestScored")  # attempt 1 failed: a retake wait

    fact = {"kind": "withdrawal", "reason": "the family decided to stay"}
    answer = await as_staff(h, api.UPDATE_FACT, fact, by=OFFICER)
    result = await case_rig.finish(h)

    assert answer == api.UpdateResult(accepted=True)
    assert result.closed_reason == "withdrawn"
    events = await case_rig.events(cid)
    [attempt] = of_type(events, "LanguageTestScored")
    retake_wait = policy_by_id(attempt.policy_id).language.retake_wait_days
    closed = one(events, "CaseClosed")
    assert closed.at < attempt.at + timedelta(days=retake_wait)  # not held until the retake
    assert types(events)[-2:] == ["CaseClosed", "ExitChecked"]
    assert not of_type(events, "ScoreComputed")
    assert await case_rig.task_failures(h) == []


async def test_a_withdrawal_while_an_authority_is_being_asked_waits_for_that_call(
    case_rig: Rig,
) -> None:
    entered, release = case_rig.sim.gate("request")
    h = await case_rig.start(application())
    cid = h.id.removeprefix("case-")
    await asyncio.wait_for(entered.wait(), 10)  # an authority request is in flight

    fact = {"kind": "withdrawal", "reason": "the family decided to stay"}
    answering = asyncio.create_task(as_staff(h, api.UPDATE_FACT, fact, by=OFFICER))
    assert await case_rig.recorded(cid, "CaseClosed")  # closed while the call still runs
    release.set()
    assert (await answering).accepted
    result = await case_rig.finish(h)

    assert result.closed_reason == "withdrawn"
    # the workflow closed only after every call it made had an outcome: none abandoned
    history = await h.fetch_history()
    scheduled = {
        e.event_id for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
    }
    ended = {
        attrs.scheduled_event_id
        for e in history.events
        for attrs in (
            e.activity_task_completed_event_attributes,
            e.activity_task_failed_event_attributes,
            e.activity_task_canceled_event_attributes,
            e.activity_task_timed_out_event_attributes,
        )
        if attrs.scheduled_event_id
    }
    assert scheduled and scheduled == ended
    assert await case_rig.task_failures(h) == []


def _settled(kind: str) -> tuple[str, str]:
    """(track, event that shows the case settled into its long wait)"""
    return {
        "death": ("kandas", "SupportPaid"),
        "citizenship": ("general", "PermitIssued"),
        "revocation": ("kandas", "QuotaPlaceReserved"),
    }[kind]


@pytest.mark.parametrize(
    ("fact", "closed_reason"),
    [
        ({"kind": "death"}, "died"),
        ({"kind": "citizenship"}, "citizenship_granted"),
        (
            {"kind": "revocation", "reason": "false statements in the application", "fault": True},
            "revoked",
        ),
    ],
    ids=["death-under-contract", "citizenship-in-residence", "revocation-before-arrival"],
)
async def test_a_case_closes_at_any_stage_with_its_reason(
    case_rig: Rig, fact: dict[str, Any], closed_reason: str
) -> None:
    track, settled = _settled(fact["kind"])
    case_rig.staff.on("interview_due", interview)
    if fact["kind"] == "death":
        case_rig.staff.on("arrival_due", arrive)
    h = await case_rig.start(application(track=track))
    cid = h.id.removeprefix("case-")
    assert await case_rig.recorded(cid, settled, timeout=10)
    await case_rig.wait_status(h, lambda s: s.stage in ("monitoring", "residence", "relocation"))

    answer = await as_staff(h, api.UPDATE_FACT, fact, by=OFFICER)
    result = await case_rig.finish(h)

    assert answer.accepted, answer.reason
    assert result.closed_reason == closed_reason
    events = await case_rig.events(cid)
    assert types(events)[-2:] == ["CaseClosed", "ExitChecked"]
    # none of these ends is a breach: nothing is demanded back
    assert not of_type(events, "RepaymentDemanded") and not of_type(events, "RegionLeft")
    assert result.repaid_tiyn == 0
    if fact["kind"] == "death":
        assert one(events, "DeathRecorded").died_on == one(events, "CaseClosed").at.date()
        assert result.support_paid_tiyn == case_rig.sim.total_paid(cid) > 0
    if fact["kind"] == "revocation":
        revoked = one(events, "PermitRevoked")
        assert revoked.reason == fact["reason"]
        released = one(events, "QuotaPlaceReleased")
        assert released.region == one(events, "QuotaPlaceReserved").region
        assert fact["reason"] not in result.detail  # free text stays in the record
    status = await case_rig.status(h)
    assert (status.stage, status.outstanding_tiyn) == ("closed", 0)
