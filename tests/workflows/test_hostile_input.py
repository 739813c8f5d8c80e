"""Hostile input at the edge: whatever JSON arrives in a signal or update, parsing it either
yields a valid input or a refusal naming the rule, never any other exception (which would
fail the workflow task)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from workflows import api
from workflows.case import inputs


def parse_interview(raw: Any) -> Any:
    return inputs.parse_value(api.SIGNAL_INTERVIEW, raw).value


def parse_fact(raw: Any) -> Any:
    return inputs.parse_value(api.SIGNAL_FACT, raw).value


def parse_authority_reply(raw: Any) -> Any:
    return inputs.parse_value(api.SIGNAL_AUTHORITY, raw).value


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)
PROOF = {"assertion": "ka1.claims.signature"}  # read later, by the activity: here any will do
INTERVIEW = {"passed": True, "points": 1, **PROOF}
REPLY = {"authority": "security", "reference": "AR-1", "outcome": "clear", "reason": "ok"}
TRICKS = st.sampled_from(
    [
        "'; DROP TABLE events; --",
        "\u202eevil\u202c",  # right-to-left override
        "A\u0301",  # combining accent
        "\x00",
        "x" * 100_000,
        "2026-02-30",
        "-1",
        "1e309",
        "Almaty\n",
        "ＰＡＶＬＯＤＡＲ",  # full-width letters
    ]
)
FIELDS = st.sampled_from(
    [
        "kind",
        "region",
        "on",
        "amount_tiyn",
        "reference",
        "approve",
        "actor_id",
        "assertion",
        "reason",
        "passed",
        "points",
        "notes",
        "request_id",
        "authority",
        "outcome",
    ]
)
NEAR_VALID = st.fixed_dictionaries(
    {"kind": st.sampled_from(["arrival", "repayment", "referral", "departure", "death"])},
    optional={"x": st.none(), "assertion": st.text(min_size=1, max_size=20)},
).flatmap(lambda base: st.dictionaries(FIELDS, TRICKS | JSON, max_size=6).map(lambda d: base | d))


def parsed_or_refused(parse: Any, raw: Any) -> None:
    try:
        parse(raw)
    except DomainError as exc:
        assert exc.rule in ("invalid_input", "missing_field", "unauthenticated") and exc.reason


@settings(max_examples=300, deadline=None)
@given(raw=JSON | NEAR_VALID | TRICKS)
def test_any_fact_is_parsed_or_refused_with_a_rule(raw: Any) -> None:
    parsed_or_refused(
        lambda v: inputs.command_for(inputs.parse_value(api.SIGNAL_FACT, v), "officer-3"), raw
    )


@settings(max_examples=300, deadline=None)
@given(raw=JSON | NEAR_VALID | TRICKS)
def test_any_interview_is_parsed_or_refused_with_a_rule(raw: Any) -> None:
    parsed_or_refused(
        lambda v: inputs.command_for(inputs.parse_value(api.SIGNAL_INTERVIEW, v), "staff-7"), raw
    )


@settings(max_examples=200, deadline=None)
@given(raw=JSON | NEAR_VALID | TRICKS)
def test_any_authority_reply_is_parsed_or_refused_with_a_rule(raw: Any) -> None:
    parsed_or_refused(
        lambda v: inputs.command_for(inputs.parse_value(api.SIGNAL_AUTHORITY, v), ""), raw
    )


def test_a_huge_note_is_refused_naming_the_field() -> None:
    raw = {**INTERVIEW, "notes": "x" * 100_000}
    try:
        parse_interview(raw)
    except DomainError as exc:
        assert exc.reason.startswith("notes:")
    else:
        raise AssertionError("a 100 kB note was accepted")


@pytest.mark.parametrize(
    ("parse", "raw", "field"),
    [
        (parse_interview, {**INTERVIEW, "notes": "ok\x00"}, "notes"),
        (parse_interview, {**INTERVIEW, "notes": "\u202eevil"}, "notes"),
        (parse_fact, {"kind": "repayment", "reference": "TRN\x1b[2J", **PROOF}, "reference"),
        (parse_fact, {"kind": "withdrawal", "reason": "x\u2066y", **PROOF}, "reason"),
        (parse_authority_reply, {**REPLY, "reference": "AR-1\n"}, "reference"),
    ],
)
def test_control_characters_are_refused_naming_the_field(parse: Any, raw: Any, field: str) -> None:
    """PostgreSQL cannot store NUL in jsonb (the append would fail for ever), and bidi
    overrides make a record read differently from what it says."""
    with pytest.raises(DomainError) as refused:
        parse(raw)
    assert refused.value.rule == "invalid_input"
    assert refused.value.reason.startswith(f"{field}: Value error, must be plain text")


def test_notes_may_have_line_breaks() -> None:
    assert parse_interview({**INTERVIEW, "notes": "line one\nline two\ttab"}).notes


@pytest.mark.parametrize("name", [api.SIGNAL_INTERVIEW, api.SIGNAL_FACT])
def test_staff_input_without_an_assertion_is_unauthenticated_whatever_it_names(name: str) -> None:
    """The attack: a raw signal naming a staff member as its actor. Naming proves nothing; it
    is refused before its shape is even read."""
    for raw in (
        {"interviewer_id": "staff-demo", "passed": True, "points": 100},
        {"kind": "withdrawal", "actor_id": "officer-3", "reason": "by someone else"},
        {"passed": True, "points": 100, "assertion": ""},
    ):
        with pytest.raises(DomainError) as refused:
            inputs.parse_value(name, raw)
        assert refused.value.rule == "unauthenticated"
