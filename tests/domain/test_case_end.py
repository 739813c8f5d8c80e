"""The contract's end, the other ends and the exit check (docs/decisions/011-013).

A family under contract is lived through by the agenda, as the workflow's monitoring step
does: support paid as it falls due, the registry asked on each check's date, re-screened,
and the contract fulfilled only once its rules allow it. Known answers: policy 2026.1
(residence checks every 182 days, a 30-day grace), arrival 2026-04-01, the contract's end
2031-04-01, a family of three paid 205,005,000 tiyn (2,050,050 KZT) in all.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.agenda import (
    ExitCheck,
    exit_check_due,
    fulfilment_due,
    monitoring_as_of,
    next_contract_rescreening,
    next_residence_check,
    next_wakeup,
    support_due,
)
from domain.case import CaseState, fold
from domain.decider import decide
from domain.errors import DomainError, InvalidCommandError, WrongStageError
from domain.regions import Region
from tests.domain.helpers import (
    ARRIVED,
    CONTRACT_ENDS,
    GENERAL_TO_RESIDENCE,
    KANDAS_TO_MONITORING,
    KANDAS_TO_PERMIT,
    RENT_TIYN,
    SUBSIDY_TIYN,
    T0,
    Step,
    given,
    on,
    pay_rent,
    pay_subsidy,
    submit,
    types,
    when,
)

ALL_SUPPORT = 205_005_000  # 70 MRP x 3 + 12 x 22 MRP, at 4,325 KZT, in tiyn
LAST_DAY = date(2031, 3, 31)  # the contract's last day of residence: the final check
LAST_PERIODIC = date(2031, 3, 26)  # the tenth 182-day check
PAID_ONCE = SUBSIDY_TIYN


class Family:
    """Where the address registry has the family on each day: home (Pavlodar) except from
    `away_on` (until `back_on`, if they come back)."""

    def __init__(
        self, away_on: date | None = None, *, back_on: date | None = None, to: Region = "Almaty"
    ) -> None:
        self.away_on, self.back_on, self.to = away_on, back_on, to

    def registered(self, day: date) -> Region:
        away = self.away_on is not None and day >= self.away_on
        back = self.back_on is not None and day >= self.back_on
        return self.to if away and not back else "Pavlodar"


def live(family: Family, steps: list[Step] = KANDAS_TO_MONITORING) -> tuple[CaseState, list[Any]]:
    """The contract's years as the monitoring step lives them (workflows/case/steps.py),
    waking on the agenda's dates, until the case leaves monitoring."""
    state, events, today = given(steps), list[Any](), ARRIVED

    def do(command: cmd.Command) -> None:
        nonlocal state
        new = decide(state, command, now=on(today))
        state = fold(new, state)
        events.extend(new)

    for _ in range(100):
        if state.stage != "monitoring":
            return state, events
        for due in support_due(state, monitoring_as_of(state, today)):
            do(
                cmd.RecordSupportPayment(
                    measure=due.measure,
                    period=due.period,
                    amount_tiyn=due.amount_tiyn,
                    idempotency_key=due.idempotency_key,
                    payment_reference=f"pay-{due.period}",
                )
            )
        check, screen = next_residence_check(state), next_contract_rescreening(state)
        if check is not None and check <= today:
            region = family.registered(check)
            do(cmd.RecordResidenceCheck(reported_region=region, checked_on=check))
        elif screen is not None and screen <= today:
            do(cmd.RecordRescreening(outcome="clear", reason="no findings"))
        elif fulfilment_due(state, today):
            do(cmd.FulfilContract())
        else:
            wake = next_wakeup(state)
            assert wake is not None and wake > today, (wake, today)
            today = wake
    raise AssertionError("the contract never ended")


# --- 1. residence confirmed to the last day ----------------------------------------------------

LATE_MOVES = {
    # month n of the contract runs from the start + (n - 1) months
    "month 58": (date(2030, 11, 15), LAST_PERIODIC),
    "month 59": (date(2030, 12, 15), LAST_PERIODIC),
    "month 60": (date(2031, 2, 15), LAST_PERIODIC),
    "after the last periodic check": (date(2031, 3, 28), LAST_DAY),
    "on the last day": (LAST_DAY, LAST_DAY),
}


@pytest.mark.parametrize(("moved_on", "found_on"), LATE_MOVES.values(), ids=LATE_MOVES.keys())
def test_a_late_move_only_the_registry_reports_owes_all_support(
    moved_on: date, found_on: date
) -> None:
    state, events = live(Family(moved_on))

    assert state.stage == "repayment"
    assert "ContractFulfilled" not in types(events)
    found = next(e for e in events if isinstance(e, ev.ResidenceDiscrepancyFound))
    left = next(e for e in events if isinstance(e, ev.RegionLeft))
    demanded = next(e for e in events if isinstance(e, ev.RepaymentDemanded))
    assert (found.checked_on, found.reported_region) == (found_on, "Almaty")
    # the re-check falls after the contract's end and is made all the same
    assert found.confirm_on == found_on + timedelta(days=30) > CONTRACT_ENDS
    assert (left.left_on, left.source, left.at.date()) == (found_on, "registry", found.confirm_on)
    assert demanded.amount_tiyn == ALL_SUPPORT == state.paid_tiyn
    assert demanded.due_on == found.confirm_on + timedelta(days=90)


def test_a_family_that_stays_is_fulfilled_after_the_final_check() -> None:
    state, events = live(Family())
    assert state.closed_reason == "fulfilled"
    checks = [e.checked_on for e in events if isinstance(e, ev.ResidenceConfirmed)]
    assert checks == [ARRIVED + timedelta(days=182 * k) for k in range(1, 11)] + [LAST_DAY]
    fulfilled = next(e for e in events if isinstance(e, ev.ContractFulfilled))
    assert (fulfilled.ended_on, fulfilled.at.date()) == (CONTRACT_ENDS, CONTRACT_ENDS)
    assert state.paid_tiyn == ALL_SUPPORT and state.demanded_tiyn == 0


def test_leaving_on_the_end_date_itself_owes_nothing() -> None:
    state, _ = live(Family(CONTRACT_ENDS))
    assert (state.closed_reason, state.demanded_tiyn) == ("fulfilled", 0)


def test_a_trip_over_the_contracts_end_cleared_by_the_recheck_is_fulfilled() -> None:
    state, events = live(Family(date(2031, 3, 29), back_on=date(2031, 4, 20)))
    assert state.closed_reason == "fulfilled"
    cleared = [e for e in events if isinstance(e, ev.ResidenceConfirmed)][-1]
    assert cleared.checked_on == LAST_DAY + timedelta(days=30)
    assert "RegionLeft" not in types(events)


FINAL_DUE = [*KANDAS_TO_MONITORING, pay_subsidy(), pay_rent("2026-04", on(date(2026, 5, 1)))]
FOUND_AWAY = (
    on(LAST_PERIODIC),
    cmd.RecordResidenceCheck(reported_region="Almaty", checked_on=LAST_PERIODIC),
)


@pytest.mark.parametrize(
    ("steps", "rule"),
    [(FINAL_DUE, "final_residence_check_due"), ([*FINAL_DUE, FOUND_AWAY], "residence_unconfirmed")],
    ids=["final-check-outstanding", "discrepancy-open"],
)
def test_the_contract_is_not_fulfilled_while_residence_is_unconfirmed(
    steps: list[Step], rule: str
) -> None:
    with pytest.raises(InvalidCommandError) as refused:
        when(steps, cmd.FulfilContract(), on(CONTRACT_ENDS + timedelta(days=5)))
    assert refused.value.rule == rule


def test_a_move_after_the_end_does_not_settle_an_open_discrepancy() -> None:
    after = on(CONTRACT_ENDS + timedelta(days=3))
    with pytest.raises(InvalidCommandError) as refused:
        when([*FINAL_DUE, FOUND_AWAY], cmd.RecordMove(new_region="Almaty"), after)
    assert refused.value.rule == "residence_unconfirmed"
    departed = when([*FINAL_DUE, FOUND_AWAY], cmd.RecordDeparture(source="border"), after)
    assert types(departed) == ["DepartureRecorded"]  # the re-check decides
    # without a discrepancy, a move reported on or after the end date settles the contract
    moved = when(FINAL_DUE, cmd.RecordMove(new_region="Almaty"), after)
    assert types(moved) == ["ContractFulfilled", "CaseClosed"]


# --- 2. citizenship, revocation, death ---------------------------------------------------------

CITIZEN_ON = date(2028, 5, 1)  # contract month 26
CITIZEN = [*FINAL_DUE, (on(CITIZEN_ON), cmd.RecordCitizenship(granted_on=CITIZEN_ON))]


def test_citizenship_during_the_contract_keeps_it_running_to_its_end() -> None:
    granted = when(FINAL_DUE, cmd.RecordCitizenship(granted_on=CITIZEN_ON), on(CITIZEN_ON))
    assert types(granted) == ["CitizenshipGranted"]
    state = given(CITIZEN)
    assert (state.stage, state.citizenship_granted_on) == ("monitoring", CITIZEN_ON)
    # the support the contract promises goes on being paid (docs/decisions/012)
    assert [s.period for s in support_due(state, date(2026, 7, 1))] == ["2026-05", "2026-06"]
    # the same grant again changes nothing; another date is refused
    assert when(CITIZEN, cmd.RecordCitizenship(granted_on=CITIZEN_ON), on(CITIZEN_ON)) == []
    with pytest.raises(InvalidCommandError) as refused:
        when(CITIZEN, cmd.RecordCitizenship(granted_on=date(2028, 4, 1)), on(CITIZEN_ON))
    assert refused.value.rule == "citizenship_recorded"


def test_a_citizen_who_stays_fulfils_and_one_who_moves_repays_everything() -> None:
    stays, _ = live(Family(), CITIZEN)
    assert (stays.closed_reason, stays.paid_tiyn, stays.demanded_tiyn) == (
        "fulfilled",
        ALL_SUPPORT,
        0,
    )
    moves, events = live(Family(date(2030, 12, 15)), CITIZEN)
    assert moves.stage == "repayment" and moves.demanded_tiyn == ALL_SUPPORT
    assert types(events).count("CitizenshipGranted") == 0  # granted before: not repeated


def test_citizenship_while_repaying_keeps_the_debt() -> None:
    moved = [*FINAL_DUE, (on(date(2027, 1, 5)), cmd.RecordMove(new_region="Almaty"))]
    assert given(moved).stage == "repayment"
    granted = when(moved, cmd.RecordCitizenship(), on(date(2027, 2, 1)))
    assert types(granted) == ["CitizenshipGranted"]
    state = fold(granted, given(moved))
    assert (state.stage, state.outstanding_tiyn) == ("repayment", OWED_BY_MAY)


def test_a_citizen_is_neither_rescreened_nor_revoked() -> None:
    state = given(CITIZEN)
    assert next_contract_rescreening(given(FINAL_DUE)) == ARRIVED + timedelta(days=365)
    assert next_contract_rescreening(state) is None
    refusals: list[tuple[cmd.Command, str]] = [
        (cmd.RevokePermit(reason="false statements", fault=True), "citizen_has_no_permit"),
        (cmd.RecordRescreening(outcome="deny", reason="finding"), "citizen_not_rescreened"),
    ]
    for command, rule in refusals:
        with pytest.raises(InvalidCommandError) as refused:
            when(CITIZEN, command, on(date(2028, 6, 1)))
        assert refused.value.rule == rule


OWED_BY_MAY = SUBSIDY_TIYN + RENT_TIYN


@pytest.mark.parametrize(
    ("command", "then", "owed"),
    [
        (
            cmd.RevokePermit(reason="false statements in the application", fault=True),
            ["PermitRevoked", "RepaymentDemanded"],
            OWED_BY_MAY,
        ),
        (
            cmd.RecordRescreening(outcome="deny", reason="security finding"),
            ["RescreeningCompleted", "PermitRevoked", "RepaymentDemanded"],
            OWED_BY_MAY,
        ),
        (
            cmd.RevokePermit(reason="issued in error", fault=False),
            ["PermitRevoked", "CaseClosed"],
            0,
        ),
        (cmd.RecordRescreening(outcome="clear", reason="no findings"), ["RescreeningCompleted"], 0),
        (cmd.RecordDeath(), ["DeathRecorded", "CaseClosed"], 0),
    ],
    ids=["revoked-for-fault", "rescreening-denied", "revoked-no-fault", "rescreened", "died"],
)
def test_what_each_end_under_contract_owes(
    command: cmd.Command, then: list[str], owed: int
) -> None:
    day = on(date(2027, 4, 2))
    events = when(FINAL_DUE, command, day)
    assert types(events) == then
    state = fold(events, given(FINAL_DUE))
    assert state.demanded_tiyn == owed
    if owed:
        revoked = next(e for e in events if isinstance(e, ev.PermitRevoked))
        assert revoked.fault is True and state.stage == "repayment"
        assert events[-1].rule == "full"
        assert events[-1].due_on == day.date() + timedelta(days=90)


def test_a_revocation_for_fault_before_any_support_owes_nothing_and_closes() -> None:
    events = when(KANDAS_TO_MONITORING, cmd.RevokePermit(reason="fraud", fault=True), on(ARRIVED))
    assert types(events) == ["PermitRevoked", "CaseClosed"]
    assert events[-1].reason == "revoked"


def test_a_general_track_denial_revokes_for_the_holders_fault() -> None:
    events = when(GENERAL_TO_RESIDENCE, cmd.RecordRescreening(outcome="deny", reason="finding"), T0)
    assert types(events) == ["RescreeningCompleted", "PermitRevoked", "CaseClosed"]
    assert events[1].fault is True


def test_revocation_fault_is_required_and_a_boolean() -> None:
    with pytest.raises(ValueError, match="fault"):
        cmd.RevokePermit.model_validate({"reason": "x"})
    with pytest.raises(ValueError, match="fault"):
        cmd.RevokePermit.model_validate({"reason": "x", "fault": "maybe"})


# --- 3. the exit check ------------------------------------------------------------------------

REJECTED = [*submit(), (T0, cmd.RecordDocumentCheck(authentic=False))]
# the general track has no term (decision 019): a revocation without fault ends this one
GENERAL_ENDED = [
    *GENERAL_TO_RESIDENCE,
    (on(date(2031, 3, 3)), cmd.RevokePermit(reason="permit annulled", fault=False)),
]
FULFILLED = [
    *FINAL_DUE,
    (on(LAST_DAY), cmd.RecordResidenceCheck(reported_region="Pavlodar", checked_on=LAST_DAY)),
    (on(CONTRACT_ENDS), cmd.FulfilContract()),
]


@pytest.mark.parametrize(
    ("steps", "since", "until", "departed_on", "flagged"),
    [
        (REJECTED, T0.date(), T0.date(), None, True),
        (REJECTED, T0.date(), T0.date(), T0.date(), False),
        (GENERAL_ENDED, T0.date(), date(2031, 3, 3), None, True),
        (GENERAL_ENDED, T0.date(), date(2031, 3, 3), date(2031, 3, 1), False),
        (FULFILLED, T0.date(), CONTRACT_ENDS, None, False),
    ],
    ids=[
        "rejected-still-here",
        "rejected-gone",
        "term-ended-still-here",
        "term-ended-gone",
        "fulfilled-stays",
    ],
)
def test_every_closed_case_is_checked_at_the_border_once(
    steps: list[Step], since: date, until: date, departed_on: date | None, flagged: bool
) -> None:
    state = given(steps)
    assert exit_check_due(state) == ExitCheck(since=since, until=until)
    command = cmd.RecordExitCheck(since=since, until=until, departed_on=departed_on)
    [checked] = when(steps, command, on(until))
    assert (checked.type, checked.departed_on, checked.flagged) == (
        "ExitChecked",
        departed_on,
        flagged,
    )
    after = fold([checked], state)
    assert exit_check_due(after) is None
    with pytest.raises(InvalidCommandError) as again:
        decide(after, command, now=on(until))
    assert again.value.rule == "exit_checked"


def test_the_exit_check_refuses_bad_answers_and_open_cases() -> None:
    refusals: list[tuple[list[Step], cmd.RecordExitCheck, type[DomainError], str]] = [
        (
            REJECTED,
            cmd.RecordExitCheck(since=T0.date(), until=T0.date(), departed_on=date(2027, 1, 1)),
            InvalidCommandError,
            "departure_outside_window",
        ),
        (
            REJECTED,
            cmd.RecordExitCheck(since=T0.date(), until=T0.date() - timedelta(days=1)),
            InvalidCommandError,
            "exit_window",
        ),
        (
            KANDAS_TO_PERMIT,
            cmd.RecordExitCheck(since=T0.date(), until=T0.date()),
            WrongStageError,
            "exit_check_when_closed",
        ),
    ]
    for steps, command, error, rule in refusals:
        with pytest.raises(error) as refused:
            when(steps, command)
        assert refused.value.rule == rule
    assert exit_check_due(given(KANDAS_TO_PERMIT)) is None


def test_a_revoked_permit_closed_as_a_breach_is_flagged_without_an_exit() -> None:
    revoked = [*FINAL_DUE, (on(date(2027, 4, 2)), cmd.RevokePermit(reason="fraud", fault=True))]
    repaid = [
        *revoked,
        (on(date(2027, 5, 1)), cmd.RecordRepayment(amount_tiyn=OWED_BY_MAY, reference="r-1")),
    ]
    state = given(repaid)
    assert state.closed_reason == "breach_repaid"
    check = exit_check_due(state)
    assert check is not None
    [checked] = decide(
        state, cmd.RecordExitCheck(since=check.since, until=check.until), now=on(check.until)
    )
    assert isinstance(checked, ev.ExitChecked) and checked.flagged is True
