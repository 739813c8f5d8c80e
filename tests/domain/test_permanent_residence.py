"""Permanent residence on general grounds (docs/decisions/019): no term, a card renewed at its
end, re-screened and border-checked for as long as it lasts; it ends only by an exit."""

from __future__ import annotations

from datetime import date

import pytest

from domain import commands as cmd
from domain.errors import InvalidCommandError, WrongStageError
from tests.domain.helpers import (
    GENERAL_TO_RESIDENCE,
    KANDAS_TO_MONITORING,
    KANDAS_TO_PERMIT,
    T0,
    Step,
    given,
    on,
    types,
    when,
)

CARD_ENDS = date(2036, 3, 2)  # issued 2026-03-02, a card of 10 years (ILLUSTRATIVE)
RENEWED = [*GENERAL_TO_RESIDENCE, (on(CARD_ENDS), cmd.RenewPermit())]


def test_the_general_track_card_runs_ten_years_and_a_kandas_permit_five() -> None:
    assert given(GENERAL_TO_RESIDENCE).permit_valid_until == CARD_ENDS
    assert given(KANDAS_TO_PERMIT).permit_valid_until == date(2031, 3, 2)


def test_the_card_is_renewed_at_its_end_and_the_case_goes_on() -> None:
    with pytest.raises(InvalidCommandError) as early:
        when(GENERAL_TO_RESIDENCE, cmd.RenewPermit(), on(date(2036, 3, 1)))
    assert early.value.rule == "permit_valid"
    state = given(RENEWED)
    assert (state.stage, state.closed_reason, state.permit_valid_until) == (
        "residence",
        None,
        date(2046, 3, 2),
    )


def test_a_renewal_caught_up_late_runs_from_the_old_cards_end() -> None:
    [renewed] = when(GENERAL_TO_RESIDENCE, cmd.RenewPermit(), on(date(2037, 7, 1)))
    assert (renewed.permit_number, renewed.valid_until) == ("RP-0001", date(2046, 3, 2))


def test_a_kandas_family_that_gave_up_support_renews_its_permit_as_permanent_residence() -> None:
    gave_up = [
        *KANDAS_TO_PERMIT,
        (T0, cmd.GrantKandasStatus(certificate_number="KC-1")),
        (T0, cmd.GiveUpSupport(regions_tried=("Pavlodar",))),
    ]
    [renewed] = when(gave_up, cmd.RenewPermit(), on(date(2031, 3, 2)))
    assert renewed.valid_until == date(2041, 3, 2)


def test_only_permanent_residence_is_renewed() -> None:
    with pytest.raises(WrongStageError) as refused:
        when(KANDAS_TO_MONITORING, cmd.RenewPermit(), on(date(2031, 3, 2)))
    assert refused.value.rule == "permit_renewal_stage"


EXITS: list[tuple[cmd.Command, list[str], str]] = [
    (
        cmd.RecordDeparture(departed_on=date(2040, 1, 5), source="border"),
        ["DepartureRecorded", "CaseClosed"],
        "departed",
    ),
    (
        cmd.RecordRescreening(outcome="deny", reason="wanted abroad"),
        ["RescreeningCompleted", "PermitRevoked", "CaseClosed"],
        "revoked",
    ),
    (
        cmd.RevokePermit(reason="fraud found", fault=True),
        ["PermitRevoked", "CaseClosed"],
        "revoked",
    ),
    (cmd.RecordCitizenship(), ["CitizenshipGranted", "CaseClosed"], "citizenship_granted"),
    (cmd.RecordDeath(), ["DeathRecorded", "CaseClosed"], "died"),
    (cmd.Withdraw(reason="gave up residence"), ["CaseClosed"], "withdrawn"),
]


@pytest.mark.parametrize(("command", "kinds", "reason"), EXITS, ids=[e[2] for e in EXITS])
@pytest.mark.parametrize("steps", [GENERAL_TO_RESIDENCE, RENEWED], ids=["first", "renewed"])
def test_permanent_residence_ends_only_by_an_exit(
    steps: list[Step], command: cmd.Command, kinds: list[str], reason: str
) -> None:
    events = when(steps, command, on(date(2040, 2, 1)))
    assert types(events) == kinds
    assert events[-1].reason == reason
