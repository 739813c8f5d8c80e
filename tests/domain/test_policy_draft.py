"""Policy drafts (domain/policy_draft.py) and the rules every figure keeps
(domain/policy_rules.py): a draft is built by the versions' own model, refused naming each
figure and rule, compared figure by figure, and never a version in force."""

from __future__ import annotations

from typing import Any

import pytest

from domain.policy import POLICY_2026_1, UnknownPolicyError, policy_by_id, versions
from domain.policy_draft import DraftError, diff, read_draft, revised
from domain.policy_rules import PolicyRuleError, figure_problems
from domain.provenance import Illustrative

DRAFTED = {"kind": "illustrative", "reason": "a draft for the regions' consultation"}


def draft(changes: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": "2027.1",
        "effective_from": "2027-03-01",
        "note": "West Kazakhstan's quota doubled; the questionnaire's minimum raised",
        "changes": {path: {"value": v, "provenance": DRAFTED} for path, v in changes.items()},
    } | fields


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(DraftError) as refused:
        read_draft(data, versions())
    return refused.value.problems


def test_a_draft_is_a_version_built_by_the_same_model_and_compared_figure_by_figure() -> None:
    built = read_draft(
        draft({"kandas_quota.2027.West Kazakhstan": 60, "questionnaire.min_points": 450}),
        versions(),
    )
    assert (built.quota("West Kazakhstan", 2027), built.questionnaire.min_points) == (60, 450)
    assert built.quota("Pavlodar", 2027) == POLICY_2026_1.quota("Pavlodar", 2027)

    changes = {c.path: (c.before, c.after, c.provenance) for c in diff(POLICY_2026_1, built)}
    said = "ILLUSTRATIVE: a draft for the regions' consultation"
    assert changes == {
        "questionnaire.min_points": (400, 450, said),
        "kandas_quota.2027.West Kazakhstan": (30, 60, said),
    }


def test_the_regions_a_draft_leaves_alone_keep_their_provenance() -> None:
    built = read_draft(draft({"kandas_quota.2027.West Kazakhstan": 60}), versions())
    figures = {f.path: f for f in built.figures()}
    assert figures["kandas_quota.2027.West Kazakhstan"].provenance == Illustrative(
        DRAFTED["reason"]
    )
    pavlodar = figures["kandas_quota.2027.Pavlodar"]
    assert pavlodar.provenance == POLICY_2026_1.sources["kandas_quota.2027"]
    assert pavlodar.stated_by == "version"


def test_a_draft_may_add_a_year_to_a_year_table() -> None:
    built = read_draft(draft({"kandas_quota.2032": {"Pavlodar": 900}}), versions())
    assert built.quota("Pavlodar", 2032) == 900
    assert [c.path for c in diff(POLICY_2026_1, built)] == ["kandas_quota.2032.Pavlodar"]


def test_a_draft_is_never_a_version_in_force() -> None:
    before = versions()
    read_draft(draft({"questionnaire.min_points": 450}), versions())
    assert versions() == before
    with pytest.raises(UnknownPolicyError):
        policy_by_id("2027.1")


def test_every_problem_is_named_at_once_with_its_figure_and_rule() -> None:
    found = problems(
        draft(
            {
                "questionnaire.min_points": -1,
                "questionnaire.criminal_record_points": 50,
                "language.min_section_percent": 130,
                "language.max_attempts": "three",
                "contract.term_years": 0,
                "deadlines.procedure_at_risk_days": 40,
                "contract.term_yrs": 5,
                "questionnaire.age_bands.0.points": 5,
                "kandas_quota.2033": {"Almaty": 10},
            },
            id="2026.1",
        )
    )
    assert dict(found) == {
        "changes.contract.term_yrs": (
            "no figure of version 2026.1 has this path (kosh policy show)"
        ),
        "changes.questionnaire.age_bands.0.points": (
            "a list of rows is changed whole: write questionnaire.age_bands"
        ),
        "id": "2026.1 is a version in force already: a draft takes a new id",
        "changes.questionnaire.min_points": "must be 0 or more",
        "changes.questionnaire.criminal_record_points": (
            "a penalty takes points off: must be 0 or less"
        ),
        "changes.language.min_section_percent": "a percentage: must be 100 or less",
        "changes.language.max_attempts": (
            "Input should be a valid integer, unable to parse string as an integer"
        ),
        "changes.contract.term_years": "must be at least 1",
        "changes.deadlines.procedure_at_risk_days": (
            "must be less than the limit (deadlines.procedure_limit_days = 29)"
        ),
        "changes.kandas_quota.2033.Almaty": (
            "kandas places go to the labour-deficit regions only (Abai, Akmola, Atyrau, "
            "East Kazakhstan, Kostanay, North Kazakhstan, Pavlodar, West Kazakhstan)"
        ),
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], [("draft", "must be a mapping of id, effective_from, note, changes")]),
        (
            {"id": "2027.1"},
            [
                ("effective_from", "Field required"),
                ("note", "Field required"),
                ("changes", "Field required"),
            ],
        ),
        (
            draft({}, effective_from="2027-13-01"),
            [
                (
                    "effective_from",
                    "Input should be a valid date or datetime, month value is outside expected"
                    " range of 1-12",
                )
            ],
        ),
        (draft({}, base="2030.9"), [("base", "no version '2030.9' (known: 2026.1)")]),
        (
            draft({}) | {"changes": {"questionnaire.min_points": {"value": 450}}},
            [("changes.questionnaire.min_points.provenance", "Field required")],
        ),
    ],
    ids=["not-a-mapping", "fields-missing", "bad-date", "unknown-base", "no-provenance"],
)
def test_a_draft_that_cannot_be_read_is_refused_naming_the_field(
    data: Any, expected: list[tuple[str, str]]
) -> None:
    assert problems(data) == expected


def test_the_versions_in_force_keep_the_rules_and_a_version_that_breaks_one_is_refused() -> None:
    for v in versions():
        assert figure_problems(v.model_dump(mode="json")) == []
    with pytest.raises(ValueError, match=r"contract\.monitoring_interval_days: must be at least 1"):
        revised(
            POLICY_2026_1,
            id="2026.x",
            effective_from=POLICY_2026_1.effective_from,
            note="broken",
            changes={"contract.monitoring_interval_days": (0, Illustrative("test"))},
        )
    assert issubclass(PolicyRuleError, ValueError)
