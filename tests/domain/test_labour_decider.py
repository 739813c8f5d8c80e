"""The labour request's decider: given the request's commands so far, when a command, then
events (or a refusal naming its rule). Pure: no Temporal, no record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain import labour as lab
from domain.calendar import add_months
from domain.errors import DomainError
from domain.labour import LabourState, fold_labour
from domain.labour import commands as c
from domain.labour.agenda import next_deadline, next_review, waiting_for
from domain.labour.decider import decide_labour
from domain.policy import POLICY_2026_1
from tests.domain.test_labour import request, vacancy

RULES = POLICY_2026_1.labour
START = date(2026, 3, 1)


def on(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


def run(
    steps: Sequence[tuple[date, c.LabourCommand]], state: LabourState | None = None
) -> LabourState:
    state = state or LabourState()
    for day, command in steps:
        state = fold_labour(decide_labour(state, command, now=on(day)), state)
    return state


EMPLOYER = "0a1b2c3d4e5f6a7b"  # the worker's keyed id of the request's employer


def submit(request: lab.EmployerRequest) -> c.SubmitRequest:
    return c.SubmitRequest(request_id="lr-1", request=request, employer_key=EMPLOYER)


CLEAR = tuple(
    c.WorkerCheck(authority=a, outcome="clear", reason="ok")
    for a in ("security", "criminal_record", "deportation")
)


def with_permit(months: int = 12) -> LabourState:
    return run(
        [
            (START, submit(request(months=months))),
            (START, c.RecordVacancy(vacancy=vacancy(), on=START)),
            (START, c.ReservePlace(year=2026)),
            (START, c.RecordWorkerChecks(results=CLEAR)),
            (START, c.IssueWorkPermit(number="WP-1")),
        ]
    )


def types(events: Sequence[object]) -> list[str]:
    return [e.type for e in events]  # type: ignore[attr-defined]


def refused(state: LabourState, command: c.LabourCommand, day: date) -> DomainError:
    with pytest.raises(DomainError) as caught:
        decide_labour(state, command, now=on(day))
    return caught.value


def test_a_request_with_a_proven_shortage_gets_a_place_and_a_permit() -> None:
    state = with_permit()
    assert state.stage == "permit" and state.quota_year == 2026
    assert (state.valid_from, state.valid_until) == (START, date(2027, 3, 1))
    assert next_review(state, RULES) == START + timedelta(days=91)


def test_a_request_the_calendar_refuses_is_not_recorded() -> None:
    young = request(worker={**request().worker.model_dump(), "born_on": date(2015, 1, 1)})
    err = refused(LabourState(), submit(young), START)
    assert err.rule == "invalid_request"
    assert err.reason == "worker.born_on: a foreign worker must be at least 18"


@pytest.mark.parametrize(
    ("facts", "rule"),
    [
        ({"posted_on": date(2026, 2, 20)}, "shortage_not_proven"),
        ({"local_hired": True}, "local_hire"),
        ({"employer_id": "BIN-9"}, "vacancy_not_employers"),
    ],
)
def test_no_shortage_refuses_and_closes_the_request(facts: dict[str, object], rule: str) -> None:
    state = run([(START, submit(request()))])
    events = decide_labour(
        state, c.RecordVacancy(vacancy=vacancy(**facts), on=START), now=on(START)
    )
    assert types(events) == ["LabourRequestRefused", "LabourRequestClosed"]
    closed = fold_labour(events, state)
    assert (closed.refused_rule, closed.closed_reason) == (rule, "refused")
    assert closed.closed_detail.startswith(f"{rule}: ")


def test_an_industry_without_a_quota_line_is_refused_with_the_policy_named() -> None:
    state = run(
        [
            (START, submit(request(industry="it"))),
            (START, c.RecordVacancy(vacancy=vacancy(industry="it"), on=START)),
        ]
    )
    events = decide_labour(state, c.ReservePlace(year=2026), now=on(START))
    assert types(events) == ["LabourRequestRefused", "LabourRequestClosed"]
    assert events[1].detail == "no_quota: policy 2026.1 sets no 2026 quota for it in Atyrau"  # type: ignore[union-attr]


def test_a_worker_who_fails_a_check_gives_the_place_back() -> None:
    state = run(
        [
            (START, submit(request())),
            (START, c.RecordVacancy(vacancy=vacancy(), on=START)),
            (START, c.ReservePlace(year=2026)),
        ]
    )
    results = (*CLEAR[:2], c.WorkerCheck(authority="deportation", outcome="deny", reason="1998"))
    events = decide_labour(state, c.RecordWorkerChecks(results=results), now=on(START))
    assert types(events)[-2:] == ["LabourPlaceReleased", "LabourRequestClosed"]
    after = fold_labour(events, state)
    assert after.closed_reason == "worker_failed_checks" and not after.holds_place
    assert after.closed_detail == "deportation: deny (1998)"


def test_reviews_until_the_term_ends_complete_it() -> None:
    state = with_permit(months=6)
    report = {"paid_monthly_wage_tiyn": 900_000_00, "address_registered_on": START}
    due: list[date] = []
    while (day := next_review(state, RULES)) != state.valid_until:
        assert day is not None
        due.append(day)
        review = c.RecordReview.model_validate({"report": {"on": day, **report}})
        events = decide_labour(state, review, now=on(day))
        assert types(events) == ["ObligationsReviewed"]
        state = fold_labour(events, state)
    assert due == [date(2026, 5, 31), date(2026, 8, 30)]
    last = c.RecordReview.model_validate({"report": {"on": date(2026, 9, 1), **report}})
    events = decide_labour(state, last, now=on(date(2026, 9, 1)))
    assert types(events) == ["ObligationsReviewed", "LabourRequestClosed"]
    assert fold_labour(events, state).closed_reason == "term_completed"


def test_a_violation_makes_employer_and_worker_liable_then_the_exit_closes() -> None:
    state = with_permit()
    day = date(2026, 4, 1)
    events = decide_labour(
        state,
        c.RecordViolation(violations=("wage_below_floor",), detail="payslips", found_by="o-3"),
        now=on(day),
    )
    assert types(events) == [
        "ViolationFound",
        "EmployerLiabilityImposed",
        "WorkerLiabilityImposed",
        "LabourPlaceReleased",
    ]
    state = fold_labour(events, state)
    assert state.fine_tiyn == 200 * 4325 * 100 and state.exit_by == date(2026, 4, 11)
    assert state.quota_rights_suspended_until == add_months(day, 12)
    assert (next_review(state, RULES), next_deadline(state, RULES)) == (None, state.exit_by)
    # While the exit is pending, staff facts are refused; the exit waits for its date.
    late = c.RecordEmploymentEnded(ended_on=day, recorded_by="o-3")
    assert refused(state, late, day).rule == "wrong_stage"
    assert refused(state, c.RecordExit(departed_on=None), day).rule == "exit_not_due"
    [closed] = decide_labour(state, c.RecordExit(departed_on=None), now=on(date(2026, 4, 11)))
    assert closed.detail == (  # type: ignore[union-attr]
        "wage_below_floor: employer fined 865,000.00 KZT, quota rights suspended until "
        "2027-04-01; permit revoked, no departure recorded by the exit date: referred to the "
        "migration police"
    )


@pytest.mark.parametrize(
    ("notified", "outcome"),
    [
        (date(2026, 5, 3), ["EmploymentEnded", "LabourPlaceReleased", "LabourRequestClosed"]),
        (None, ["EmploymentEnded", "ViolationFound", "EmployerLiabilityImposed"]),
        (date(2026, 5, 20), ["EmploymentEnded", "ViolationFound", "EmployerLiabilityImposed"]),
    ],
)
def test_an_end_notified_in_time_returns_the_place_and_a_late_one_is_a_violation(
    notified: date | None, outcome: list[str]
) -> None:
    ended = c.RecordEmploymentEnded(
        ended_on=date(2026, 5, 1), notified_on=notified, recorded_by="o-3"
    )
    events = decide_labour(with_permit(), ended, now=on(date(2026, 5, 25)))
    assert types(events)[:3] == outcome


def test_a_newcomer_changes_the_end_notice_period_in_the_policy_only() -> None:
    """The end-notice rule is the policy's figure: a version giving employers 30 days makes
    the same notice, 19 days late under 2026.1, an early end that returns the place."""
    longer = POLICY_2026_1.model_copy(
        update={"labour": RULES.model_copy(update={"end_notice_days": 30})}
    )
    ended = c.RecordEmploymentEnded(
        ended_on=date(2026, 5, 1), notified_on=date(2026, 5, 20), recorded_by="o-3"
    )
    now = on(date(2026, 5, 25))
    assert "ViolationFound" in types(decide_labour(with_permit(), ended, now=now))
    kept = decide_labour(with_permit(), ended, now=now, policy=longer)
    assert types(kept) == ["EmploymentEnded", "LabourPlaceReleased", "LabourRequestClosed"]


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        (
            c.RecordViolation(violations=("wage_below_floor",), detail="x", found_by="o"),
            "wrong_stage",
        ),
        (c.RecordEmploymentEnded(ended_on=START, recorded_by="o"), "wrong_stage"),
        (c.IssueWorkPermit(number="WP-2"), "checks_stage"),
        (c.ReservePlace(year=2026), "quota_stage"),
        (c.RecordExit(departed_on=None), "no_exit_ordered"),
    ],
)
def test_staff_facts_and_steps_out_of_stage_are_refused_naming_the_rule(
    command: c.LabourCommand, rule: str
) -> None:
    at_shortage = run([(START, submit(request()))])
    assert refused(at_shortage, command, START).rule == rule


def test_a_future_end_and_a_closed_request_are_refused() -> None:
    state = with_permit()
    future = c.RecordEmploymentEnded(ended_on=date(2026, 6, 1), recorded_by="o-3")
    assert refused(state, future, date(2026, 5, 1)).rule == "date_in_future"
    closed = run(
        [(START, c.RecordVacancy(vacancy=None, on=START))],
        run([(START, submit(request()))]),
    )
    assert closed.stage == "closed"
    assert refused(closed, c.ReservePlace(year=2026), START).rule == "request_closed"


def test_the_agenda_says_what_a_request_waits_for() -> None:
    submitted = run([(START, submit(request()))])
    assert (waiting_for(submitted), next_deadline(submitted, RULES)) == ("activities", None)
    state = with_permit()
    assert waiting_for(state) == "timer"
    assert next_deadline(state, RULES) == next_review(state, RULES)
