"""The employer's subsidy and the housing certificate (docs/decisions/018): when they fall
due, paid once, and never owed back by a family that leaves early."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from domain import commands as cmd
from domain.agenda import SupportDue, support_due, support_schedule
from domain.decider import decide
from domain.errors import InvalidCommandError, WrongStageError
from domain.policy import POLICY_2026_1
from domain.policy_parts import ContractRules
from tests.domain.helpers import (
    CASE_ID,
    GENERAL_TO_RESIDENCE,
    KANDAS_TO_MONITORING,
    MRP_2026,
    RENT_TIYN,
    SUBSIDY_TIYN,
    TIYN,
    Step,
    given,
    history,
    on,
    pay_rent,
    pay_subsidy,
    types,
    when,
)

STARTED = date(2026, 5, 4)
TWO_YEARS = date(2028, 5, 4)
EMPLOYER_KEY = f"{CASE_ID}:support:employer_subsidy:member-2"
CERTIFICATE_KEY = f"{CASE_ID}:support:housing_certificate:once"
# 400 MRP per resettler, at the MRP of the year it falls due (POLICY_2026_1's for 2028).
EMPLOYER_TIYN = 400 * POLICY_2026_1.mrp(2028) * TIYN


def employ(member: int = 2, started: date = STARTED, employer: str = "BIN-990140000123") -> Step:
    return (
        on(started),
        cmd.RecordEmployment(
            member=member, employer_id=employer, started_on=started, housing_provided=True
        ),
    )


def certify(price_kzt: int, when: datetime | None = None, ref: str = "HC-1") -> Step:
    return (
        when or on(date(2026, 6, 1)),
        cmd.IssueHousingCertificate(reference=ref, region="Pavlodar", price_tiyn=price_kzt * TIYN),
    )


def pay(item: SupportDue, when: datetime, ref: str = "p") -> Step:
    return (
        when,
        cmd.RecordSupportPayment(
            measure=item.measure,
            period=item.period,
            amount_tiyn=item.amount_tiyn,
            idempotency_key=item.idempotency_key,
            payment_reference=ref,
        ),
    )


def item(steps: list[Step], key: str) -> SupportDue:
    state = given(steps)
    return next(s for s in support_schedule(state, POLICY_2026_1) if s.idempotency_key == key)


def last(steps: list[Step]) -> Any:
    """The last event the script records (typed loosely: tests read its own fields)."""
    return history(steps)[-1]


EMPLOYED = [*KANDAS_TO_MONITORING, employ()]


# --- the employer's subsidy ------------------------------------------------------------------


def test_an_employment_with_housing_earns_its_employer_400_mrp_after_two_years() -> None:
    recorded = last(EMPLOYED)
    assert recorded.type == "EmploymentRecorded"
    assert (recorded.member, recorded.subsidy_due_on) == (2, TWO_YEARS)
    due = item(EMPLOYED, EMPLOYER_KEY)
    assert due == SupportDue(
        measure="employer_subsidy",
        period="member-2",
        amount_tiyn=EMPLOYER_TIYN,
        due_on=TWO_YEARS,
        idempotency_key=EMPLOYER_KEY,
        payee="BIN-990140000123",
    )
    assert EMPLOYER_TIYN == 400 * 4325 * 100 == 173_000_000  # 1,730,000 KZT at the 2026 MRP
    state = given(EMPLOYED)
    assert EMPLOYER_KEY not in {s.idempotency_key for s in support_due(state, date(2028, 5, 3))}
    assert EMPLOYER_KEY in {s.idempotency_key for s in support_due(state, TWO_YEARS)}


def test_the_employer_subsidy_is_paid_once() -> None:
    due = item(EMPLOYED, EMPLOYER_KEY)
    with pytest.raises(InvalidCommandError) as early:
        when(EMPLOYED, pay(due, on(date(2028, 5, 3)))[1], on(date(2028, 5, 3)))
    assert early.value.rule == "payment_not_due"
    paid = [*EMPLOYED, pay(due, on(TWO_YEARS), ref="PAY-E")]
    event = last(paid)
    assert (event.type, event.measure, event.amount_tiyn) == (
        "SupportPaid",
        "employer_subsidy",
        EMPLOYER_TIYN,
    )
    assert when(paid, pay(due, on(TWO_YEARS), ref="PAY-E2")[1], on(TWO_YEARS)) == []
    # once per resettler: a new employment of the same member earns its employer nothing more
    ended = [*paid, (on(date(2028, 6, 1)), cmd.EndEmployment(member=2))]
    with pytest.raises(InvalidCommandError) as again:
        when(ended, employ(started=date(2028, 6, 2))[1], on(date(2028, 6, 2)))
    assert again.value.rule == "employer_subsidy_paid"


def test_an_employment_ended_before_two_years_earns_nothing() -> None:
    ended = [*EMPLOYED, (on(date(2027, 9, 1)), cmd.EndEmployment(member=2))]
    state = given(ended)
    assert EMPLOYER_KEY not in {s.idempotency_key for s in support_schedule(state, POLICY_2026_1)}
    due = item(EMPLOYED, EMPLOYER_KEY)
    with pytest.raises(InvalidCommandError) as refused:
        when(ended, pay(due, on(TWO_YEARS))[1], on(TWO_YEARS))
    assert refused.value.rule == "payment_not_in_contract"
    # the member may start another employment, counted from its own start
    again = [*ended, employ(started=date(2027, 10, 1), employer="BIN-2")]
    assert item(again, EMPLOYER_KEY).due_on == date(2029, 10, 1)


@pytest.mark.parametrize(
    ("steps", "command", "now", "rule"),
    [
        (
            KANDAS_TO_MONITORING,
            cmd.RecordEmployment(
                member=1, employer_id="BIN-1", started_on=STARTED, housing_provided=False
            ),
            on(STARTED),
            "employer_subsidy_needs_housing",
        ),
        (KANDAS_TO_MONITORING, employ(member=4)[1], on(STARTED), "employment_member"),
        (
            KANDAS_TO_MONITORING,
            employ(started=date(2026, 3, 31))[1],
            on(STARTED),
            "employment_before_contract",
        ),
        (
            KANDAS_TO_MONITORING,
            employ(started=date(2029, 4, 2))[1],
            on(date(2029, 4, 2)),
            "employment_beyond_contract",
        ),
        (KANDAS_TO_MONITORING, employ()[1], on(date(2026, 5, 3)), "date_in_future"),
        (EMPLOYED, employ(employer="BIN-2")[1], on(STARTED), "employment_recorded"),
        (KANDAS_TO_MONITORING, cmd.EndEmployment(member=1), on(STARTED), "employment_unknown"),
        (
            EMPLOYED,
            cmd.EndEmployment(member=2, ended_on=date(2026, 5, 1)),
            on(STARTED),
            "employment_end_before_start",
        ),
    ],
)
def test_an_employment_is_refused(
    steps: list[Step], command: cmd.Command, now: datetime, rule: str
) -> None:
    with pytest.raises(InvalidCommandError) as refused:
        when(steps, command, now)
    assert refused.value.rule == rule


def test_an_employment_recorded_twice_is_recorded_once() -> None:
    assert when(EMPLOYED, employ()[1], on(date(2026, 6, 1))) == []


def test_the_employer_subsidy_is_for_a_family_under_contract_only() -> None:
    with pytest.raises(WrongStageError) as refused:
        when(GENERAL_TO_RESIDENCE, employ(member=1)[1], on(STARTED))
    assert refused.value.rule == "employment_stage"


# --- the housing certificate ------------------------------------------------------------------

CAP_TIYN = 1625 * MRP_2026 * TIYN  # 7,028,125 KZT in 2026


@pytest.mark.parametrize(
    ("price_kzt", "amount_tiyn"),
    [
        (10_000_000, 5_000_000 * TIYN),  # half the price, under the cap
        (14_056_250, CAP_TIYN),  # half is exactly the cap
        (20_000_000, CAP_TIYN),  # half is more: the cap
    ],
)
def test_the_certificate_is_half_the_price_up_to_1625_mrp(price_kzt: int, amount_tiyn: int) -> None:
    issued = last([*KANDAS_TO_MONITORING, certify(price_kzt)])
    assert (issued.type, issued.amount_tiyn) == ("HousingCertificateIssued", amount_tiyn)
    assert CAP_TIYN == 702_812_500
    due = item([*KANDAS_TO_MONITORING, certify(price_kzt)], CERTIFICATE_KEY)
    assert (due.measure, due.amount_tiyn, due.due_on, due.payee) == (
        "housing_certificate",
        amount_tiyn,
        date(2026, 6, 1),
        "family",
    )


def test_the_certificate_is_issued_and_paid_once() -> None:
    issued = [*KANDAS_TO_MONITORING, certify(10_000_000)]
    assert when(issued, certify(10_000_000)[1], on(date(2026, 6, 2))) == []
    with pytest.raises(InvalidCommandError) as second:
        when(issued, certify(12_000_000, ref="HC-2")[1], on(date(2026, 6, 2)))
    assert second.value.rule == "housing_certificate_issued"
    due = item(issued, CERTIFICATE_KEY)
    paid = [*issued, pay(due, on(date(2026, 6, 1)))]
    assert types(history(paid)[-1:]) == ["SupportPaid"]
    assert when(paid, pay(due, on(date(2026, 6, 1)))[1], on(date(2026, 6, 2))) == []


def test_the_certificate_is_for_a_home_in_the_contracts_region() -> None:
    elsewhere = cmd.IssueHousingCertificate(reference="HC-1", region="Almaty", price_tiyn=10**9)
    with pytest.raises(InvalidCommandError) as refused:
        when(KANDAS_TO_MONITORING, elsewhere, on(date(2026, 6, 1)))
    assert refused.value.rule == "housing_outside_region"


# --- the clawback ------------------------------------------------------------------------------

MAY = on(date(2026, 5, 1))
EVERYTHING_PAID = [
    *KANDAS_TO_MONITORING,
    pay_subsidy(),
    pay_rent("2026-04", MAY),
    certify(10_000_000),
    pay(item([*KANDAS_TO_MONITORING, certify(10_000_000)], CERTIFICATE_KEY), on(date(2026, 6, 1))),
    employ(),
    pay(item(EMPLOYED, EMPLOYER_KEY), on(TWO_YEARS)),
]
LEAVES = (cmd.RecordMove(new_region="Almaty"), on(date(2028, 6, 10)))


def test_a_family_that_leaves_early_owes_all_support_but_the_certificate_and_the_subsidy() -> None:
    state = given(EVERYTHING_PAID)
    assert state.paid_tiyn == SUBSIDY_TIYN + RENT_TIYN + 500_000_000 + EMPLOYER_TIYN
    events = when(EVERYTHING_PAID, *LEAVES)
    assert types(events) == ["RegionLeft", "RepaymentDemanded"]
    assert events[1].amount_tiyn == SUBSIDY_TIYN + RENT_TIYN == 90_825_000 + 9_515_000


def test_the_policy_names_what_is_not_clawed_back() -> None:
    everything = POLICY_2026_1.model_copy(update={"contract": ContractRules(not_clawed_back=())})
    events: list[Any] = decide(given(EVERYTHING_PAID), LEAVES[0], now=LEAVES[1], policy=everything)
    assert events[1].amount_tiyn == given(EVERYTHING_PAID).paid_tiyn


def test_no_employer_subsidy_after_the_family_left() -> None:
    left = [
        *KANDAS_TO_MONITORING,
        pay_subsidy(),
        employ(),
        (on(date(2027, 1, 10)), cmd.RecordMove(new_region="Almaty")),
    ]
    assert given(left).stage == "repayment"
    assert support_due(given(left), TWO_YEARS) == ()
    with pytest.raises(InvalidCommandError) as refused:
        when(left, pay(item(EMPLOYED, EMPLOYER_KEY), on(TWO_YEARS))[1], on(TWO_YEARS))
    assert refused.value.rule == "no_payment_after_breach"
