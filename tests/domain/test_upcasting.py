"""Upcasting: an event stored under an older schema folds into today's state."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from domain import commands as cmd
from domain import events as ev
from domain.case import fold
from domain.upcasting import UPCASTERS, parse_event, parse_event_json, upcast
from tests.domain.helpers import (
    CASE_ID,
    KANDAS_TO_MONITORING,
    SUBSIDY_TIYN,
    TIYN,
    history,
    on,
    pay_subsidy,
)

SUBSIDY_TENGE = SUBSIDY_TIYN // TIYN


def support_paid_v1(**over: Any) -> dict[str, Any]:
    """A SupportPaid as schema version 1 stored it: whole tenge in `amount_tenge`."""
    return {
        "type": "SupportPaid",
        "schema_version": 1,
        "policy_id": "2026.1",
        "at": "2026-04-01T09:00:00+00:00",
        "measure": "relocation_subsidy",
        "period": "once",
        "amount_tenge": SUBSIDY_TENGE,
        "idempotency_key": f"{CASE_ID}:support:relocation_subsidy:once",
        "payment_reference": "pay-1",
    } | over


def test_a_v1_support_payment_folds_into_todays_state() -> None:
    before = history(KANDAS_TO_MONITORING)
    paid = parse_event(support_paid_v1())
    state = fold([*before, paid])
    assert state.paid_tiyn == SUBSIDY_TIYN
    assert state.paid_keys == {f"{CASE_ID}:support:relocation_subsidy:once"}
    # the same fact, decided today, folds into the same state
    assert state == fold(history([*KANDAS_TO_MONITORING, pay_subsidy()]))


def test_v1_to_v2_moves_tenge_to_tiyn() -> None:
    raw = support_paid_v1(amount_tenge=3)
    up = upcast(raw)
    assert (up["schema_version"], up["amount_tiyn"]) == (2, 300)
    assert "amount_tenge" not in up
    assert raw["amount_tenge"] == 3 and raw["schema_version"] == 1  # the input is untouched


def test_a_record_without_a_version_is_version_one() -> None:
    raw = support_paid_v1()
    del raw["schema_version"]
    assert parse_event(raw).amount_tiyn == SUBSIDY_TIYN  # type: ignore[union-attr]


def test_support_paid_is_written_as_version_two() -> None:
    paid = history([*KANDAS_TO_MONITORING, pay_subsidy()])[-1]
    assert isinstance(paid, ev.SupportPaid)
    assert paid.schema_version == 2
    assert upcast(paid.model_dump(mode="json")) == paid.model_dump(mode="json")


def test_a_v1_record_is_not_read_without_upcasting() -> None:
    with pytest.raises(ValidationError):
        ev.EVENT_ADAPTER.validate_python(support_paid_v1())


OLD_RECORDS = {("SupportPaid", 1): support_paid_v1()}
"""One stored record per upcaster: a new upcaster needs an example here."""


@pytest.mark.parametrize("key", UPCASTERS, ids=lambda k: f"{k[0]}-v{k[1]}")
def test_every_upcaster_raises_the_version_by_one_and_parses(key: tuple[str, int]) -> None:
    raw = OLD_RECORDS[key]
    assert UPCASTERS[key](raw)["schema_version"] == key[1] + 1
    assert parse_event(raw).type == key[0]


def test_every_old_record_has_an_upcaster() -> None:
    assert set(OLD_RECORDS) == set(UPCASTERS)


def test_events_without_an_upcaster_pass_through() -> None:
    [submitted] = history(KANDAS_TO_MONITORING)[:1]
    raw = submitted.model_dump(mode="json")
    assert upcast(raw) == raw
    assert parse_event(raw) == submitted


def test_every_event_of_a_case_round_trips_through_json_payloads() -> None:
    steps = [
        *KANDAS_TO_MONITORING,
        pay_subsidy(),
        (on(date(2026, 6, 10)), cmd.RecordMove(new_region="Almaty")),
    ]
    events = history(steps)
    parsed = [parse_event_json(ev.EVENT_ADAPTER.dump_json(e)) for e in events]
    assert parsed == events
    assert parse_event_json(json.dumps(support_paid_v1())).amount_tiyn == SUBSIDY_TIYN  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "broken",
    [{"amount_tenge": None}, {"amount_tenge": "12"}, {"measure": "bonus"}],
    ids=["no-amount", "amount-not-int", "unknown-measure"],
)
def test_a_broken_v1_record_is_a_validation_error(broken: dict[str, Any]) -> None:
    """The store turns ValidationError into StoreError; nothing else may escape."""
    raw = {k: v for k, v in support_paid_v1(**broken).items() if v is not None}
    with pytest.raises(ValidationError):
        parse_event(raw)


def test_a_payload_that_is_not_an_object_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        parse_event_json("[1, 2]")
