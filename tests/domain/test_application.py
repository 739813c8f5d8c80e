"""Application validation: every refusal names the field and the rule it breaks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from domain.application import Application, age_on, intake_problems
from tests.domain.helpers import application_data, passport, questionnaire


def errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        Application.model_validate(data)
    return info.value.errors()  # type: ignore[return-value]


def test_valid_kandas_and_general_applications() -> None:
    kandas = Application.model_validate(application_data())
    general = Application.model_validate(
        application_data(
            ethnic_kazakh=False, track="general", family=[], preferred_regions=["Almaty"]
        )
    )
    assert (kandas.track, kandas.family_size) == ("kandas", 3)
    assert (general.track, general.family_size) == ("general", 1)


def test_an_ethnic_kazakh_may_take_the_general_track_in_any_region() -> None:
    app = Application.model_validate(
        application_data(track="general", preferred_regions=["Almaty", "Astana"])
    )
    assert app.ethnic_kazakh and app.track == "general"


# (case, data, field the error is about, rule: a phrase of the message or the pydantic type)
FIELD_ERRORS = [
    (
        "bad passport number",
        {"document": passport(number="n123")},
        ("document", "number"),
        "pattern",
    ),
    (
        "passport number without check digit",
        {"document": passport(number="AB1234567X")},
        ("document", "number"),
        "pattern",
    ),
    (
        "lowercase country",
        {"document": passport(country="chn")},
        ("document", "country"),
        "pattern",
    ),
    ("citizenship not alpha-3", {"citizenship": "CN"}, ("citizenship",), "pattern"),
    ("born before 1900", {"born_on": "1899-12-31"}, ("born_on",), "after 1900"),
    ("birth date not a date", {"born_on": "yesterday"}, ("born_on",), "date"),
    ("empty name", {"full_name": ""}, ("full_name",), "at least 1 character"),
    ("unknown region", {"preferred_regions": ["Mars"]}, ("preferred_regions", 0), "literal"),
    (
        "more than eight regions",
        {"track": "general", "preferred_regions": ["Almaty"] * 9},
        ("preferred_regions",),
        "at most 8",
    ),
    (
        "negative work years",
        {"questionnaire": questionnaire(work_years=-1)},
        ("questionnaire", "work_years"),
        "greater than or equal to 0",
    ),
    (
        "unknown education",
        {"questionnaire": questionnaire(education="phd")},
        ("questionnaire", "education"),
        "literal",
    ),
    ("unknown track", {"track": "investor"}, ("track",), "literal"),
    ("extra unknown field", {"salary": 1_000_000}, ("salary",), "extra"),
    (
        "extra field in a nested model",
        {"document": passport(issued_by="nobody")},
        ("document", "issued_by"),
        "extra",
    ),
    (
        "unknown family relation",
        {"family": [{"relation": "cousin", "full_name": "X", "born_on": "2000-01-01"}]},
        ("family", 0, "relation"),
        "literal",
    ),
]


@pytest.mark.parametrize(
    ("data", "loc", "rule"), [c[1:] for c in FIELD_ERRORS], ids=[c[0] for c in FIELD_ERRORS]
)
def test_field_errors_name_the_field_and_the_rule(
    data: dict[str, Any], loc: tuple[Any, ...], rule: str
) -> None:
    [error] = errors(application_data(**data))
    assert error["loc"] == loc
    assert rule in error["msg"].lower() or rule in error["type"]


# Cross-field rules: the message names the field and the rule.
TRACK_ERRORS = [
    (
        "kandas without ethnic_kazakh",
        {"ethnic_kazakh": False},
        "ethnic_kazakh",
        "track 'kandas' requires ethnic_kazakh = true",
    ),
    (
        "kandas region outside the labour-deficit set",
        {"preferred_regions": ["Pavlodar", "Almaty"]},
        "preferred_regions",
        "not labour-deficit regions",
    ),
    (
        "kandas without any region",
        {"preferred_regions": []},
        "preferred region",
        "track 'kandas' needs at least one",
    ),
    (
        "kandas duplicate regions",
        {"preferred_regions": ["Pavlodar", "Pavlodar"]},
        "preferred_regions",
        "must not repeat",
    ),
    (
        "general duplicate regions",
        {"track": "general", "preferred_regions": ["Almaty", "Astana", "Almaty"]},
        "preferred_regions",
        "must not repeat",
    ),
]


@pytest.mark.parametrize(
    ("data", "field", "rule"), [c[1:] for c in TRACK_ERRORS], ids=[c[0] for c in TRACK_ERRORS]
)
def test_cross_field_errors_name_the_field_and_the_rule(
    data: dict[str, Any], field: str, rule: str
) -> None:
    [error] = errors(application_data(**data))
    assert error["type"] == "value_error"
    assert field in error["msg"]
    assert rule in error["msg"]


def test_outside_regions_are_listed_in_the_error() -> None:
    [error] = errors(application_data(preferred_regions=["Almaty", "Shymkent", "Akmola"]))
    assert "'Almaty'" in error["msg"] and "'Shymkent'" in error["msg"]
    assert "['Almaty', 'Shymkent']" in error["msg"]


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"ethnic_kazakh": False}, ("ethnic_kazakh",)),
        ({"preferred_regions": ["Almaty"]}, ("preferred_regions",)),
        ({"preferred_regions": ["Pavlodar", "Pavlodar"]}, ("preferred_regions",)),
    ],
    ids=["kandas-not-ethnic", "kandas-region-outside", "duplicate-regions"],
)
def test_cross_field_errors_carry_the_field_in_loc(
    data: dict[str, Any], loc: tuple[str, ...]
) -> None:
    [error] = errors(application_data(**data))
    assert error["loc"] == loc


def test_a_kandas_application_without_the_regions_field_is_refused() -> None:
    data = application_data()
    del data["preferred_regions"]
    [error] = errors(data)
    assert error["loc"] == ("preferred_regions",)
    assert "track 'kandas' needs at least one preferred region" in error["msg"]


def test_an_invalid_track_is_the_only_error() -> None:
    """Cross-field rules skip a track that failed to validate, rather than guess."""
    [error] = errors(application_data(track="investor", ethnic_kazakh=False))
    assert error["loc"] == ("track",)


def test_application_is_frozen() -> None:
    app = Application.model_validate(application_data())
    with pytest.raises(ValidationError, match="frozen"):
        app.full_name = "someone else"  # type: ignore[misc]


def test_application_round_trips_through_json() -> None:
    app = Application.model_validate(application_data())
    assert Application.model_validate_json(app.model_dump_json()) == app


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        ("1996-05-10", "2026-05-09", 29),
        ("1996-05-10", "2026-05-10", 30),
        ("2000-02-29", "2026-02-28", 25),
        ("2000-02-29", "2026-03-01", 26),
    ],
)
def test_age_on_counts_whole_years(born: str, on: str, age: int) -> None:
    from datetime import date

    assert age_on(date.fromisoformat(born), date.fromisoformat(on)) == age


# intake: what the desk refuses before a case is opened ------------------------------------
TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("over", "field", "rule"),
    [
        ({"born_on": "2027-01-01"}, "born_on", "is after today (2026-11-25)"),
        ({"full_name": "Aigerim\u202eevil"}, "full_name", "without control characters (U+202E)"),
        ({"full_name": "Aigerim\x00"}, "full_name", "without control characters (U+0000)"),
        ({"full_name": " Aigerim"}, "full_name", "must not be blank or start or end with spaces"),
        (
            {"family": [{"relation": "child", "full_name": "Dana", "born_on": "2030-01-01"}]},
            "family.0.born_on",
            "is after today",
        ),
        (
            {"family": [{"relation": "parent", "full_name": "Old", "born_on": "1850-01-01"}]},
            "family.0.born_on",
            "must be after 1900",
        ),
        (
            {
                "family": [
                    {"relation": "child", "full_name": "Dana B.", "born_on": "2020-07-07"},
                    {"relation": "child", "full_name": "dana  b.", "born_on": "2020-07-07"},
                ]
            },
            "family.1",
            "repeats family.0 (same name and birth date)",
        ),
    ],
)
def test_intake_refuses_what_a_desk_would_naming_the_field(
    over: dict[str, Any], field: str, rule: str
) -> None:
    problems = intake_problems(Application.model_validate(application_data(**over)), TODAY)
    assert [f for f, _ in problems] == [field]
    assert rule in problems[0][1]


def test_intake_accepts_a_plain_application() -> None:
    assert intake_problems(Application.model_validate(application_data()), TODAY) == []


def test_a_family_is_at_most_twenty() -> None:
    member = {"relation": "child", "full_name": "C", "born_on": "2010-01-01"}
    [error] = errors(application_data(family=[member] * 21))
    assert error["loc"] == ("family",) and error["type"] == "too_long"
