"""The steps the public figures set before the permit, with known answers: the working-day
calendar, the kandas status decision (preliminary refusal, hearing, one extension, overdue),
the KAZTEST ban for breaking the rules, the consent of the country of citizenship, and the
scoring pilot's 29-day limit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import commands as cmd
from domain.agenda import Timers, deadlines, language_retake_on, next_language_attempt, waiting_for
from domain.calendar import add_working_days, is_working_day
from domain.checks import early_rejection
from domain.errors import DomainError
from domain.pilot import kandas_next_look, procedure_limit_on
from domain.policy import POLICY_2026_1
from tests.domain.helpers import (
    CHECKS_OK,
    DECIDED,
    DOCUMENTS_OK,
    KANDAS_TO_PERMIT,
    PASS,
    T0,
    Step,
    authorities,
    given,
    interview,
    language,
    on,
    submit,
    types,
    when,
)

HOLIDAYS = POLICY_2026_1.deadlines.holidays


def refused(steps: list[Step], command: cmd.Command, day: date) -> str:
    with pytest.raises(DomainError) as caught:
        when(steps, command, on(day))
    return caught.value.rule


# ---- working days ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "days", "holidays", "due"),
    [
        (date(2026, 3, 2), 3, frozenset(), date(2026, 3, 5)),  # Monday -> Thursday
        (date(2026, 3, 6), 3, frozenset(), date(2026, 3, 11)),  # Friday -> Wednesday
        (date(2026, 3, 7), 1, frozenset(), date(2026, 3, 9)),  # a Saturday request
        (date(2026, 3, 20), 3, frozenset(), date(2026, 3, 25)),
        (date(2026, 3, 20), 3, HOLIDAYS, date(2026, 3, 26)),  # Nauryz Monday 23 March
        (date(2026, 12, 15), 2, HOLIDAYS, date(2026, 12, 18)),  # Independence Day, 16 Dec
        (date(2026, 3, 2), 0, HOLIDAYS, date(2026, 3, 2)),
    ],
)
def test_working_days_skip_weekends_and_the_policys_holidays(
    start: date, days: int, holidays: frozenset[tuple[int, int]], due: date
) -> None:
    assert add_working_days(start, days, holidays) == due


def test_a_holiday_and_a_weekend_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 3, 23), HOLIDAYS)
    assert is_working_day(date(2026, 3, 23))
    assert not is_working_day(date(2026, 3, 28))
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 3, 2), -1)


# ---- the kandas status decision -------------------------------------------------------------
FRI = date(2026, 3, 6)  # requested on a Friday: due on Wednesday 11 March
DUE = date(2026, 3, 11)
ASKED: list[Step] = [*KANDAS_TO_PERMIT, (on(FRI), cmd.RequestKandasStatus(reference="KR-1"))]
PRELIM_ON = date(2026, 3, 10)  # Tuesday: the hearing is due by Thursday 12 March
HEARING_BY = date(2026, 3, 12)
PRELIM: list[Step] = [
    *ASKED,
    (
        on(PRELIM_ON),
        cmd.RecordKandasPreliminaryRefusal(reason="no proof of origin", refused_on=PRELIM_ON),
    ),
]
HEARD: list[Step] = [*PRELIM, (on(HEARING_BY), cmd.RecordKandasHearing(held_on=HEARING_BY))]


def test_the_request_is_due_within_three_working_days() -> None:
    [asked] = when(KANDAS_TO_PERMIT, cmd.RequestKandasStatus(reference="KR-1"), on(FRI))
    assert (asked.type, asked.requested_on, asked.due_on) == ("KandasStatusRequested", FRI, DUE)
    state = given(ASKED)
    assert waiting_for(state) == "kandas_decision"
    assert deadlines(state, Timers())["kandas_decision"] == DUE
    assert when(ASKED, cmd.RequestKandasStatus(reference="KR-1"), on(FRI)) == []
    assert refused(ASKED, cmd.RequestKandasStatus(reference="KR-2"), FRI) == (
        "kandas_status_requested"
    )


def test_a_grant_records_the_bodys_date_and_opens_the_quota() -> None:
    grant = cmd.GrantKandasStatus(certificate_number="KS-1", granted_on=date(2026, 3, 10))
    [granted] = when(ASKED, grant, on(date(2026, 3, 12)))
    assert (granted.type, granted.granted_on) == ("KandasStatusGranted", date(2026, 3, 10))
    late = cmd.GrantKandasStatus(certificate_number="KS-1", granted_on=date(2026, 3, 5))
    assert refused(ASKED, late, DUE) == "kandas_date_before_request"
    future = cmd.GrantKandasStatus(certificate_number="KS-1", granted_on=date(2026, 3, 13))
    assert refused(ASKED, future, DUE) == "date_in_future"


def test_a_preliminary_refusal_sets_the_hearing_two_working_days_on() -> None:
    state = given(PRELIM)
    assert state.kandas_request is not None
    assert (state.kandas_request.awaiting, state.kandas_request.due_on) == ("hearing", HEARING_BY)
    assert deadlines(state, Timers())["kandas_hearing"] == HEARING_BY
    again = cmd.RecordKandasPreliminaryRefusal(reason="again", refused_on=date(2026, 3, 11))
    assert refused(PRELIM, again, date(2026, 3, 11)) == "kandas_preliminary_refusal_once"


def test_the_hearing_follows_a_preliminary_refusal_and_a_late_one_is_marked() -> None:
    assert refused(ASKED, cmd.RecordKandasHearing(held_on=FRI), FRI) == (
        "kandas_hearing_without_refusal"
    )
    [held] = when(PRELIM, cmd.RecordKandasHearing(held_on=HEARING_BY), on(HEARING_BY))
    assert (held.type, held.late) == ("KandasHearingHeld", False)
    late_day = date(2026, 3, 16)
    [late] = when(PRELIM, cmd.RecordKandasHearing(held_on=late_day), on(late_day))
    assert late.late is True
    early = cmd.RecordKandasHearing(held_on=date(2026, 3, 9))
    assert refused(PRELIM, early, HEARING_BY) == "kandas_hearing_before_refusal"


def test_after_the_hearing_status_is_granted_or_refused_finally() -> None:
    grant = cmd.GrantKandasStatus(certificate_number="KS-1", granted_on=HEARING_BY)
    assert types(when(HEARD, grant, on(HEARING_BY))) == ["KandasStatusGranted"]
    final = cmd.RefuseKandasStatus(reason="no proof of origin", refused_on=HEARING_BY)
    [refusal] = when(HEARD, final, on(HEARING_BY))
    assert refusal.type == "KandasStatusRefused"
    state = given([*HEARD, (on(HEARING_BY), final)])
    # docs/decisions/016: the permit stands, on the general track without support
    assert (state.track, state.stage, state.permit_number) == ("general", "residence", "RP-0001")
    assert state.kandas_request is not None and state.kandas_request.refused
    assert deadlines(state, Timers())["rescreening"] > HEARING_BY
    place = cmd.ReserveQuotaPlace(region="Pavlodar", year=2026)
    assert refused([*HEARD, (on(HEARING_BY), final)], place, HEARING_BY) == "relocation_stage"


def test_a_final_refusal_needs_the_hearing() -> None:
    final = cmd.RefuseKandasStatus(reason="r", refused_on=PRELIM_ON)
    assert refused(PRELIM, final, PRELIM_ON) == "kandas_refusal_before_hearing"
    assert refused(ASKED, final, PRELIM_ON) == "kandas_refusal_before_hearing"


def test_one_extension_of_up_to_six_months() -> None:
    longest = date(2026, 9, 11)  # six months after the due date
    extend = cmd.ExtendKandasDecision(until=longest, reason="archive search", extended_on=DUE)
    [extended] = when(ASKED, extend, on(DUE))
    assert (extended.type, extended.until) == ("KandasDecisionExtended", longest)
    once: list[Step] = [*ASKED, (on(DUE), extend)]
    state = given(once)
    assert state.kandas_request is not None and state.kandas_request.due_on == longest
    assert when(once, extend, on(DUE)) == []  # the same extension told twice
    # the body is asked every two weeks during the extension, and the day after it ends
    assert kandas_next_look(state, DUE) == DUE + timedelta(days=14)
    assert kandas_next_look(state, DUE + timedelta(days=14)) == DUE + timedelta(days=28)
    assert kandas_next_look(state, date(2026, 9, 5)) == date(2026, 9, 9)
    assert kandas_next_look(state, date(2026, 9, 10)) == date(2026, 9, 12)
    second = cmd.ExtendKandasDecision(until=date(2026, 9, 1), reason="more", extended_on=DUE)
    assert refused(once, second, DUE) == "kandas_extension_once"
    too_long = cmd.ExtendKandasDecision(until=date(2026, 9, 12), reason="r", extended_on=DUE)
    assert refused(ASKED, too_long, DUE) == "kandas_extension_max"
    earlier = cmd.ExtendKandasDecision(until=DUE, reason="r", extended_on=DUE)
    assert refused(ASKED, earlier, DUE) == "kandas_extension_earlier"
    assert refused(PRELIM, extend, DUE) == "kandas_extension_after_refusal"


def test_an_overdue_decision_is_flagged_once_per_due_date() -> None:
    state = given(ASKED)
    assert kandas_next_look(state, FRI) == DUE + timedelta(days=1)
    overdue = cmd.MarkKandasDecisionOverdue()
    assert refused(ASKED, overdue, DUE) == "kandas_decision_not_due"
    thursday = date(2026, 3, 12)
    [flag] = when(ASKED, overdue, on(thursday))
    assert (flag.type, flag.due_on, flag.awaiting) == ("KandasDecisionOverdue", DUE, "decision")
    flagged: list[Step] = [*ASKED, (on(thursday), overdue)]
    assert when(flagged, overdue, on(date(2026, 3, 13))) == []
    # asked again the next working day (Friday), then Monday
    assert kandas_next_look(given(flagged), thursday) == date(2026, 3, 13)
    assert kandas_next_look(given(flagged), date(2026, 3, 13)) == date(2026, 3, 16)
    # a missed hearing is flagged for its own due date
    missed = when(PRELIM, overdue, on(date(2026, 3, 13)))
    assert (missed[0].due_on, missed[0].awaiting) == (HEARING_BY, "hearing")


# ---- the KAZTEST ban ------------------------------------------------------------------------
SCORING: list[Step] = [*submit(), *DOCUMENTS_OK]
BROKEN = cmd.RecordLanguageAttempt(attempt=1, section_percent={}, rules_broken=True)
BANNED_UNTIL = T0.date() + timedelta(days=30)  # 2026-04-01


def test_breaking_the_rules_bans_the_next_sitting_for_thirty_days() -> None:
    [sat] = when(SCORING, BROKEN)
    assert (sat.passed, sat.rules_broken, sat.banned_until) == (False, True, BANNED_UNTIL)
    banned: list[Step] = [*SCORING, (T0, BROKEN)]
    state = given(banned)
    # the banned sitting was attempt 1 of 3 (docs/decisions/017)
    assert next_language_attempt(state) == 2
    assert language_retake_on(state, T0.date()) == BANNED_UNTIL  # not the 7-day retake wait
    assert deadlines(state, Timers())["kaztest_ban_ends"] == BANNED_UNTIL
    retake = cmd.RecordLanguageAttempt(attempt=2, section_percent=PASS)
    assert refused(banned, retake, BANNED_UNTIL - timedelta(days=1)) == "kaztest_ban"
    [passed] = when(banned, retake, on(BANNED_UNTIL))
    assert (passed.attempt, passed.passed) == (2, True)


def test_a_third_attempt_ending_for_broken_rules_rejects_the_application() -> None:
    fail = {"listening": 10, "reading": 10}
    steps: list[Step] = [
        *SCORING,
        *language(fail, fail),
        (T0, cmd.ScoreQuestionnaire()),
        *authorities(),
    ]
    third = cmd.RecordLanguageAttempt(attempt=3, section_percent={}, rules_broken=True)
    done: list[Step] = [*steps, (T0, third)]
    assert early_rejection(given(done))
    scored, closed = when(done, cmd.ComputeScore())
    assert closed.reason == "rejected"
    assert any("breaking the test's rules" in r for r in scored.breakdown.reasons)
    fourth = cmd.RecordLanguageAttempt(attempt=4, section_percent=PASS)
    assert refused(done, fourth, BANNED_UNTIL) == "language_attempts_exhausted"


# ---- the consent of the country of citizenship ----------------------------------------------
def test_consent_is_asked_like_an_authority_check_with_its_own_due_date() -> None:
    ask = cmd.RequestAuthorityCheck(authority="citizenship_consent", reference="CC-1")
    [asked] = when(SCORING, ask)
    assert asked.due_on == T0.date() + timedelta(days=20)  # citizenship_consent_days
    checks: list[Step] = [*SCORING, *language(PASS), (T0, cmd.ScoreQuestionnaire())]
    without_consent = [
        (t, c)
        for t, c in authorities()
        if not (isinstance(c, cmd.RecordAuthorityCheck) and c.authority == "citizenship_consent")
    ]
    with pytest.raises(DomainError) as early:
        when([*checks, *without_consent], interview()[0][1])
    assert early.value.rule == "interview_before_checks"


def test_consent_refused_rejects_the_application_with_the_reason() -> None:
    steps: list[Step] = [
        *SCORING,
        *language(PASS),
        (T0, cmd.ScoreQuestionnaire()),
        *authorities(citizenship_consent="deny"),
    ]
    assert early_rejection(given(steps))
    scored, closed = when(steps, cmd.ComputeScore())
    assert scored.breakdown.decision == "reject"
    assert "citizenship_consent: checked" in scored.breakdown.reasons
    assert closed.reason == "rejected"


# ---- the 29-day limit -----------------------------------------------------------------------
LIMIT = date(2026, 3, 31)  # submitted 2 March 2026: 29 days on
AT_RISK = date(2026, 3, 26)  # five days before


def test_the_limit_runs_from_submission_to_the_decision() -> None:
    state = given(SCORING)
    assert procedure_limit_on(state) == LIMIT
    assert deadlines(state, Timers())["procedure_limit"] == LIMIT
    decided = given([*SCORING, *CHECKS_OK, *DECIDED])
    assert decided.stage == "permit"
    assert procedure_limit_on(decided) is None
    assert "procedure_limit" not in deadlines(decided, Timers())


def test_the_limit_is_flagged_at_risk_then_exceeded_never_passed_silently() -> None:
    flag = cmd.FlagProcedureLimit()
    assert refused(SCORING, flag, AT_RISK - timedelta(days=1)) == "procedure_limit_not_due"
    [risk] = when(SCORING, flag, on(AT_RISK))
    assert (risk.type, risk.level, risk.limit_on) == ("ProcedureLimitFlagged", "at_risk", LIMIT)
    at_risk: list[Step] = [*SCORING, (on(AT_RISK), flag)]
    assert refused(at_risk, flag, LIMIT) == "procedure_limit_not_due"  # the last day is in time
    [over] = when(at_risk, flag, on(LIMIT + timedelta(days=1)))
    assert over.level == "exceeded"
    both: list[Step] = [*at_risk, (on(LIMIT + timedelta(days=1)), flag)]
    assert given(both).procedure_flags == ("at_risk", "exceeded")
    assert when(both, flag, on(LIMIT + timedelta(days=9))) == []
    # a case first looked at after the limit is flagged exceeded at once
    [late] = when(SCORING, flag, on(LIMIT + timedelta(days=5)))
    assert late.level == "exceeded"
    decided: list[Step] = [*SCORING, *CHECKS_OK, *DECIDED]
    assert refused(decided, flag, LIMIT + timedelta(days=1)) == "procedure_limit_stage"
