"""The agenda: what a running case owes, under which idempotency key, and when to wake."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import commands as cmd
from domain.agenda import (
    BorderCheck,
    Timers,
    border_check_due,
    deadlines,
    monitoring_as_of,
    next_rescreening,
    next_residence_check,
    next_wakeup,
    repayment_referral_on,
    support_due,
    support_schedule,
)
from domain.case import CaseState
from domain.decider import decide
from domain.policy import POLICY_2026_1, PolicyYearError
from tests.domain.helpers import (
    ARRIVED,
    CASE_ID,
    CONTRACT_ENDS,
    GENERAL_TO_RESIDENCE,
    KANDAS_TO_MONITORING,
    KANDAS_TO_RELOCATION,
    MRP_2026,
    RENT_TIYN,
    SUBSIDY_TIYN,
    given,
    kandas_application,
    on,
    pay_rent,
    pay_subsidy,
)

MONITORING = given(KANDAS_TO_MONITORING)


def starting(day: date, family: int = 3) -> CaseState:
    members = [{"relation": "child", "full_name": "C", "born_on": "2020-01-01"}] * (family - 1)
    return MONITORING.model_copy(
        update={"contract_starts_on": day, "application": kandas_application(family=members)}
    )


def test_schedule_is_one_relocation_subsidy_and_twelve_rent_payments() -> None:
    schedule = support_schedule(MONITORING, POLICY_2026_1)
    assert [s.measure for s in schedule] == ["relocation_subsidy"] + ["rent"] * 12
    subsidy, *rent = schedule
    assert subsidy.idempotency_key == f"{CASE_ID}:support:relocation_subsidy:once"
    assert (subsidy.amount_tiyn, subsidy.due_on, subsidy.period) == (SUBSIDY_TIYN, ARRIVED, "once")
    assert [r.idempotency_key for r in rent] == [
        f"{CASE_ID}:support:rent:{p}"
        for p in [f"2026-{m:02d}" for m in range(4, 13)] + ["2027-01", "2027-02", "2027-03"]
    ]
    assert [r.period for r in rent] == [r.idempotency_key.rsplit(":", 1)[1] for r in rent]
    assert {r.amount_tiyn for r in rent} == {RENT_TIYN}
    # rent is paid in arrears: each month on the first day of the next
    assert rent[0].due_on == date(2026, 5, 1) and rent[-1].due_on == date(2027, 4, 1)


@pytest.mark.parametrize(("family", "rent_mrp"), [(1, 15), (2, 15), (3, 22), (4, 22), (5, 30)])
def test_amounts_follow_family_size(family: int, rent_mrp: int) -> None:
    subsidy, first_rent, *_ = support_schedule(starting(ARRIVED, family), POLICY_2026_1)
    assert subsidy.amount_tiyn == 70 * family * MRP_2026 * 100 == family * 30_275_000
    assert first_rent.amount_tiyn == rent_mrp * MRP_2026 * 100


def test_schedule_from_a_month_end_clamps_due_dates_but_keeps_twelve_months() -> None:
    schedule = support_schedule(starting(date(2027, 1, 31)), POLICY_2026_1)
    rent = schedule[1:]
    assert [r.period for r in rent] == [f"2027-{m:02d}" for m in range(1, 13)]
    assert [r.due_on for r in rent[:3]] == [date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    assert len({s.idempotency_key for s in schedule}) == 13


def test_rent_in_a_projected_year_is_paid_at_the_projection_and_beyond_it_is_an_error() -> None:
    """A contract that starts in 2031 is paid at 2026's MRP carried forward (a marked
    projection, to 2036: the end of the last contract the version signs); one whose payments
    fall in 2037, a year with no figure, is an error that names the year: the case waits for
    the policy to give it, it is never paid at a reused MRP."""
    late = support_schedule(starting(date(2031, 12, 1)), POLICY_2026_1)
    assert late[-1].period == "2032-11" and late[-1].amount_tiyn == RENT_TIYN
    with pytest.raises(PolicyYearError, match="none for 2037"):
        support_schedule(starting(date(2036, 2, 1)), POLICY_2026_1)


def test_a_figure_is_asked_only_when_its_payment_falls_due() -> None:
    """The contract from 2036-02 pays its 2036 months and wakes for its next one; the year
    with no figure stops nothing until its first payment is due (then it names the year)."""
    late = starting(date(2036, 2, 1))
    assert [s.period for s in support_due(late, date(2036, 12, 1))][-1] == "2036-11"
    woken = next_wakeup(late)  # its dates alone: no figure is asked for
    assert woken is not None and woken <= date(2036, 2, 1)
    with pytest.raises(PolicyYearError, match="none for 2037"):
        support_due(late, date(2037, 2, 1))


def test_no_schedule_before_the_contract() -> None:
    assert support_schedule(given(KANDAS_TO_RELOCATION), POLICY_2026_1) == ()
    assert support_schedule(CaseState(), POLICY_2026_1) == ()


def test_support_due_by_date_and_unpaid() -> None:
    assert [s.period for s in support_due(MONITORING, ARRIVED - timedelta(days=1))] == []
    assert [s.period for s in support_due(MONITORING, ARRIVED)] == ["once"]
    assert [s.period for s in support_due(MONITORING, date(2026, 6, 1))] == [
        "once",
        "2026-04",
        "2026-05",
    ]
    paid = given([*KANDAS_TO_MONITORING, pay_subsidy(), pay_rent("2026-04", on(date(2026, 5, 1)))])
    assert [s.period for s in support_due(paid, date(2026, 6, 1))] == ["2026-05"]


def test_support_due_only_in_monitoring() -> None:
    assert support_due(given(KANDAS_TO_RELOCATION), date(2027, 1, 1)) == ()
    assert support_due(given(GENERAL_TO_RESIDENCE), date(2027, 1, 1)) == ()


def test_next_wakeup_in_monitoring_is_the_earliest_unpaid_payment() -> None:
    assert next_wakeup(MONITORING) == ARRIVED
    paid = given([*KANDAS_TO_MONITORING, pay_subsidy()])
    assert next_wakeup(paid) == date(2026, 5, 1)


def test_after_all_support_the_next_wakeup_is_the_residence_check() -> None:
    paid = MONITORING.model_copy(
        update={
            "paid_keys": frozenset(
                s.idempotency_key for s in support_schedule(MONITORING, POLICY_2026_1)
            )
        }
    )
    assert next_residence_check(paid) == ARRIVED + timedelta(days=182)
    assert next_wakeup(paid) == ARRIVED + timedelta(days=182)
    tenth = paid.model_copy(update={"residence_checks": 9})
    assert next_residence_check(tenth) == ARRIVED + timedelta(days=1820) == date(2031, 3, 26)
    # day 2002 is past the five years: the final check, as of the last day of residence
    done = paid.model_copy(update={"residence_checks": 10, "rescreenings": 5})
    assert next_residence_check(done) == CONTRACT_ENDS - timedelta(days=1)
    assert next_wakeup(done) == CONTRACT_ENDS - timedelta(days=1)


def test_a_pending_discrepancy_is_checked_on_its_confirmation_day() -> None:
    pending = MONITORING.model_copy(update={"discrepancy_confirm_on": date(2026, 5, 10)})
    assert next_residence_check(pending) == date(2026, 5, 10)


def test_next_wakeup_while_repaying_is_the_day_after_the_due_date() -> None:
    left = given(
        [
            *KANDAS_TO_MONITORING,
            pay_subsidy(),
            (on(date(2026, 6, 10)), cmd.RecordMove(new_region="Almaty")),
        ]
    )
    assert (left.stage, left.repayment_due_on) == ("repayment", date(2026, 9, 8))
    assert repayment_referral_on(left) == date(2026, 9, 9)  # paying on the due date is in time
    assert next_wakeup(left) == date(2026, 9, 9)
    assert support_due(left, date(2027, 1, 1)) == ()


def test_a_repayment_can_be_referred_on_the_day_the_agenda_names() -> None:
    left = given(
        [
            *KANDAS_TO_MONITORING,
            pay_subsidy(),
            (on(date(2026, 6, 10)), cmd.RecordMove(new_region="Almaty")),
        ]
    )
    day = repayment_referral_on(left)
    assert day is not None
    events = decide(left, cmd.ReferRepayment(), now=on(day, hour=0))
    assert [e.type for e in events] == ["RepaymentReferred", "CaseClosed"]


def test_no_referral_day_outside_repayment() -> None:
    assert repayment_referral_on(CaseState()) is None
    assert repayment_referral_on(given(KANDAS_TO_MONITORING)) is None


def test_general_track_wakes_for_rescreening_then_the_card_renewal() -> None:
    state = given(GENERAL_TO_RESIDENCE)
    assert next_rescreening(state) == date(2027, 3, 2)
    assert next_wakeup(state) == date(2027, 3, 2)
    tenth = state.model_copy(update={"rescreenings": 9})
    assert next_rescreening(tenth) == date(2036, 2, 28)  # 10 x 365 days, three leap years
    done = state.model_copy(update={"rescreenings": 10})
    assert next_rescreening(done) is None
    assert next_wakeup(done) == date(2036, 3, 2)  # the card's renewal
    # renewed: permanent residence goes on, re-screened at the same interval
    renewed = done.model_copy(update={"permit_valid_until": date(2046, 3, 2)})
    assert next_rescreening(renewed) == date(2037, 2, 27)
    assert deadlines(renewed, Timers()) == {
        "rescreening": date(2037, 2, 27),
        "permit_renewal": date(2046, 3, 2),
    }


def test_a_late_wake_catches_up_each_border_check_as_of_its_own_date() -> None:
    state = given(GENERAL_TO_RESIDENCE)
    issued, ends = date(2026, 3, 2), date(2036, 3, 2)
    assert (state.permit_issued_on, state.permit_valid_until) == (issued, ends)
    assert border_check_due(state, date(2027, 3, 1)) is None  # nothing due yet
    first = BorderCheck(since=issued, until=date(2027, 3, 2))
    assert border_check_due(state, date(2027, 3, 2)) == first
    # woken years late, after the card's end: the first re-screening's window comes first
    assert border_check_due(state, date(2037, 1, 1)) == first
    fifth = state.model_copy(update={"rescreenings": 4})
    assert border_check_due(fifth, date(2037, 1, 1)) == BorderCheck(
        since=issued, until=date(2031, 3, 1)
    )
    # every re-screening made: a check up to the card's last day, not today, then renewal
    done = state.model_copy(update={"rescreenings": 10})
    assert border_check_due(done, date(2036, 3, 1)) is None
    final = BorderCheck(since=issued, until=ends, final=True)
    assert border_check_due(done, ends) == final
    assert border_check_due(done, date(2037, 1, 1)) == final
    assert border_check_due(given(KANDAS_TO_MONITORING), date(2037, 1, 1)) is None


def test_a_late_wake_pays_support_due_before_each_residence_check_then_checks() -> None:
    first_check = ARRIVED + timedelta(days=182)
    assert monitoring_as_of(MONITORING, ARRIVED) == ARRIVED
    assert monitoring_as_of(MONITORING, first_check) == first_check
    # woken two years late: support due by the first check, then the check as of its date
    late = date(2028, 6, 1)
    assert monitoring_as_of(MONITORING, late) == first_check
    assert {s.due_on for s in support_due(MONITORING, first_check)} == {
        ARRIVED,
        *(date(2026, m, 1) for m in range(5, 10)),
    }
    checked = MONITORING.model_copy(update={"residence_checks": 10})
    assert monitoring_as_of(checked, late) == late


def test_a_confirmation_due_after_the_contract_ends_is_still_made() -> None:
    on_the_last_day = MONITORING.model_copy(update={"discrepancy_confirm_on": CONTRACT_ENDS})
    assert next_residence_check(on_the_last_day) == CONTRACT_ENDS
    after = MONITORING.model_copy(
        update={"discrepancy_confirm_on": CONTRACT_ENDS + timedelta(days=1)}
    )
    # the discrepancy is resolved before the contract is settled (docs/decisions/011)
    assert next_residence_check(after) == CONTRACT_ENDS + timedelta(days=1)


def test_nothing_to_wake_for_when_only_a_person_can_act() -> None:
    assert next_wakeup(CaseState()) is None
    assert next_wakeup(given(KANDAS_TO_RELOCATION)) is None


def test_deadlines_come_from_the_cases_own_policy() -> None:
    from datetime import timedelta

    from domain.agenda import (
        arrival_deadline,
        interview_deadline,
        interview_reminder_after,
        language_retake_on,
        next_language_attempt,
    )
    from domain.policy import policy_by_id
    from tests.domain.helpers import DOCUMENTS_OK, given, language, submit

    state = given([*submit(), *DOCUMENTS_OK, *language({"listening": 10, "reading": 90})])
    rules = policy_by_id(state.policy_id)
    day = date(2026, 3, 2)
    assert next_language_attempt(state) == 2
    assert language_retake_on(state, day) == day + timedelta(days=rules.language.retake_wait_days)
    assert interview_deadline(state, day) == day + timedelta(days=rules.deadlines.interview_days)
    assert interview_reminder_after(state, day) == day + timedelta(
        days=rules.deadlines.interview_reminder_every_days
    )
    assert arrival_deadline(state, day) == day + timedelta(days=rules.deadlines.arrival_days)
    passed = given([*submit(), *DOCUMENTS_OK, *language({"listening": 50, "reading": 50})])
    assert next_language_attempt(passed) is None
