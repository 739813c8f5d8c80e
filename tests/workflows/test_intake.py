"""Cases that end before a permit: the gates of intake and the interview deadline."""

from __future__ import annotations

from itertools import pairwise

import pytest

from domain.policy import policy_by_id
from tests.workflows.harness import Rig, application, of_type, one, types


async def test_forged_passport_is_rejected_at_the_document_check(case_rig: Rig) -> None:
    h = await case_rig.start(application(forged=True))
    result = await case_rig.finish(h)

    assert result.closed_reason == "rejected"
    assert "check digit" in result.detail
    events = await case_rig.events(result.case_id)
    assert types(events) == [
        "ApplicationSubmitted",
        "DocumentsRejected",
        "CaseClosed",
        "ExitChecked",
    ]
    assert any("check digit" in r for r in one(events, "DocumentsRejected").reasons)
    assert case_rig.staff.kinds(result.case_id) == ["exit_flagged"]


async def test_no_kazakh_fails_three_kaztest_attempts_and_is_rejected_without_interview(
    case_rig: Rig,
) -> None:
    h = await case_rig.start(application(kazakh="none"))
    result = await case_rig.finish(h)

    assert result.closed_reason == "rejected"
    assert "KAZTEST" in result.detail
    events = await case_rig.events(result.case_id)
    attempts = of_type(events, "LanguageTestScored")
    assert [(a.attempt, a.passed) for a in attempts] == [(1, False), (2, False), (3, False)]
    wait = policy_by_id(attempts[0].policy_id).language.retake_wait_days
    days = [(b.at.date() - a.at.date()).days for a, b in pairwise(attempts)]
    assert days == [wait, wait]  # each retake on the first day it is allowed
    breakdown = one(events, "ScoreComputed").breakdown
    assert breakdown.decision == "reject"
    assert [g.outcome for g in breakdown.gates if g.name == "language_test"] == ["deny"]
    assert not of_type(events, "InterviewRecorded") and not of_type(events, "InterviewMissed")
    assert case_rig.staff.kinds(result.case_id) == ["exit_flagged"]  # no interview asked for


async def test_questionnaire_below_the_minimum_is_rejected_without_interview(
    case_rig: Rig,
) -> None:
    h = await case_rig.start(application(weak=True))
    result = await case_rig.finish(h)

    assert result.closed_reason == "rejected"
    assert "questionnaire_minimum" in result.detail
    events = await case_rig.events(result.case_id)
    scored = one(events, "QuestionnaireScored")
    assert scored.points < policy_by_id(scored.policy_id).questionnaire.min_points
    assert one(events, "ScoreComputed").breakdown.decision == "reject"
    assert "InterviewRecorded" not in types(events)
    assert case_rig.staff.kinds(result.case_id) == ["exit_flagged"]


async def test_no_interview_by_the_deadline_escalates_then_rejects(case_rig: Rig) -> None:
    h = await case_rig.start(application())
    result = await case_rig.finish(h)

    assert result.closed_reason == "rejected"
    assert "interview: no interview held by the deadline" in result.detail
    kinds = case_rig.staff.kinds(result.case_id)
    # the rejected applicant's exit is not on record: flagged last (docs/decisions/013)
    assert kinds[0] == "interview_due" and kinds[-2:] == ["interview_overdue", "exit_flagged"]
    assert kinds.count("interview_reminder") >= 1
    assert kinds.count("interview_escalated") == 1
    escalated_at = kinds.index("interview_escalated")
    assert "interview_reminder" in kinds[:escalated_at]  # reminded before the deadline...
    assert "interview_reminder" in kinds[escalated_at:]  # ...and in the supervisor's window
    assert set(kinds) == {
        "interview_due",
        "interview_reminder",
        "interview_escalated",
        "interview_overdue",
        "exit_flagged",
    }

    events = await case_rig.events(result.case_id)
    deadlines = policy_by_id(events[0].policy_id).deadlines
    checks_done = max(
        e.at for e in events if e.type in ("LanguageTestScored", "SecurityCheckCompleted")
    )
    escalation = one(events, "InterviewEscalated")
    assert (escalation.deadline - checks_done.date()).days == deadlines.interview_days
    assert escalation.at.date() == escalation.deadline
    assert (escalation.until - escalation.deadline).days == deadlines.interview_escalation_days
    missed = one(events, "InterviewMissed")
    assert missed.deadline.date() == escalation.until
    assert missed.at >= missed.deadline
    gates = one(events, "ScoreComputed").breakdown.gates
    assert [g.reason for g in gates if g.name == "interview"] == [
        "no interview held by the deadline"
    ]
    assert types(events)[-2:] == ["CaseClosed", "ExitChecked"]


async def test_an_application_a_desk_would_refuse_closes_the_case_recording_nothing(
    case_rig: Rig,
) -> None:
    """Started by a tool other than kosh's (which refuses it before sending): a NUL in a
    name could never be stored, and a family member listed twice is not two people."""
    base = application()
    twice = base.family[0]
    hostile = base.model_copy(
        update={"full_name": "Nurlan\x00Testov", "family": (twice, twice.model_copy())}
    )
    h = await case_rig.start(hostile)
    result = await case_rig.finish(h)

    assert result.closed_reason == "refused_at_intake"
    assert result.detail.startswith("full_name: must be plain text, without control")
    assert "family.1: repeats family.0" in result.detail
    assert await case_rig.events(result.case_id) == []
    status = await case_rig.status(h)
    assert [(r.name, r.rule) for r in status.refused] == [("application", "invalid_application")]


async def test_a_closed_cases_id_started_again_by_a_raw_client_records_nothing(
    case_rig: Rig,
) -> None:
    """`kosh submit` refuses a used id; a raw client with Temporal's default reuse policy can
    still start one. The new run finds the id's stream in the record and ends, saying so,
    instead of pausing for good on a conflict."""
    first = await case_rig.start(application(forged=True))
    done = await case_rig.finish(first)
    recorded = await case_rig.events(done.case_id)

    again = await case_rig.start(application(), case_id=done.case_id)
    result = await case_rig.finish(again)

    assert result.closed_reason == "refused_at_intake"
    assert result.detail == f"case_id: {done.case_id} is already used by a case in the record"
    assert await case_rig.events(done.case_id) == recorded
    assert await case_rig.task_failures(again) == []


@pytest.mark.parametrize("case_id", ["policy-versions", "round-x", "labour-y"])
async def test_a_case_id_that_names_one_of_the_records_own_streams_is_refused(
    case_rig: Rig, case_id: str
) -> None:
    """A raw client may start a case under an id that would write its application into the
    published policy versions, a round or a labour request: refused, nothing recorded."""
    h = await case_rig.start(application(), case_id=case_id)
    result = await case_rig.finish(h)
    assert result.closed_reason == "refused_at_intake"
    assert result.detail == (
        f"case_id: a case id may not start with {case_id.split('-')[0] + '-'!r}: "
        "the record's own streams do"
    )
    assert await case_rig.events(case_id) == []
