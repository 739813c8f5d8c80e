"""Every figure of every policy version says where it comes from (decision 015)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

import pytest
from pydantic import ValidationError

from domain.labour import LabourRules
from domain.policy import (
    NOT_FIGURES,
    POLICIES,
    POLICY_2026_1,
    ContractRules,
    Deadlines,
    Policy,
)
from domain.policy_draft import revised
from domain.provenance import Illustrative, Projection, Published, problems
from tests.policy_versions import SECOND_PHASE

VERSIONS = [*POLICIES, SECOND_PHASE]


def leaves(value: Any, path: str) -> Iterator[str]:
    """Every scalar in a version's JSON, by dotted path: nested models, dicts, bands, lines."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, f"{path}.{i}")
    else:
        yield path


def every_leaf(policy: Policy) -> list[str]:
    data = policy.model_dump(mode="json", exclude=NOT_FIGURES)
    return [leaf for key, value in data.items() for leaf in leaves(value, key)]


@pytest.mark.parametrize("policy", VERSIONS, ids=lambda p: p.id)
def test_every_leaf_figure_has_a_provenance(policy: Policy) -> None:
    figures = policy.figures()
    assert problems(figures) == []
    covering = {f.path: f for f in figures}
    naked = [
        leaf
        for leaf in every_leaf(policy)
        if not any(leaf == p or leaf.startswith(p + ".") for p in covering)
    ]
    assert naked == [], f"figures without provenance: {naked}"
    # the labour rules (domain/labour) are walked too, and no figure is counted twice
    assert any(p.startswith("labour.") for p in covering)
    paths = [f.path for f in figures]
    assert len(paths) == len(set(paths))


def test_the_kinds_are_where_the_sources_put_them() -> None:
    kinds = {f.path: type(f.provenance) for f in POLICY_2026_1.figures()}
    assert kinds["support.relocation_subsidy_mrp_per_member"] is Published
    assert kinds["deadlines.kandas_status_working_days"] is Published
    assert kinds["questionnaire.min_points"] is Published
    assert kinds["kandas_quota.2026"] is Published
    assert kinds["questionnaire.education"] is Illustrative
    assert kinds["contract.monitoring_interval_days"] is Illustrative
    assert kinds["labour.shortage_days"] is Illustrative
    assert kinds["kandas_quota.2027"] is Projection
    assert "deadlines.document_check_days" not in kinds  # published once, never used: gone


class DeadlinesWithANewFigure(Deadlines):
    hearing_working_days: int = 2  # added without provenance


class LabourRulesWithANewFigure(LabourRules):
    appeal_days: Annotated[int, "a note is no provenance"] = 10


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"deadlines": DeadlinesWithANewFigure()}, "deadlines.hearing_working_days: no provenance"),
        (
            {"labour": LabourRulesWithANewFigure(quotas=POLICY_2026_1.labour.quotas)},
            "labour.appeal_days: no provenance",
        ),
        ({"mrp_tenge": {**POLICY_2026_1.mrp_tenge, 2037: 4325}}, "mrp_tenge.2037: no provenance"),
        (
            {"kandas_quota": {**POLICY_2026_1.kandas_quota, 2032: {"Abai": 1}}},
            "kandas_quota.2032.Abai: no provenance",
        ),
    ],
)
def test_a_figure_added_without_provenance_is_refused_by_name(
    changes: dict[str, Any], named: str
) -> None:
    fields = {name: getattr(POLICY_2026_1, name) for name in type(POLICY_2026_1).model_fields}
    with pytest.raises(ValidationError, match=re.escape(named)):
        Policy(**{**fields, **changes})


def test_a_changed_figure_does_not_inherit_its_defaults_provenance() -> None:
    fields = {name: getattr(POLICY_2026_1, name) for name in type(POLICY_2026_1).model_fields}
    quarterly = ContractRules(monitoring_interval_days=91)
    with pytest.raises(
        ValidationError, match=re.escape("contract.monitoring_interval_days: changed from")
    ):
        Policy(**{**fields, "id": "x", "contract": quarterly})
    stated = {**POLICY_2026_1.sources, "contract.monitoring_interval_days": Illustrative("why")}
    ok = Policy(**{**fields, "id": "x", "contract": quarterly, "sources": stated})
    assert ok.contract.monitoring_interval_days == 91


def test_a_source_for_no_figure_is_refused() -> None:
    sources = {**POLICY_2026_1.sources, "contract.monitoring_days": Illustrative("typo")}
    with pytest.raises(
        ValidationError, match=re.escape("'contract.monitoring_days', which is no figure")
    ):
        Policy.model_validate({**POLICY_2026_1.model_dump(), "sources": sources})


def test_a_revision_of_one_entry_splits_its_table() -> None:
    """A version that changes one point of a table states that point; the rest keep the
    default's provenance."""
    why = Illustrative("a test: master's degrees count more")
    p = revised(
        POLICY_2026_1,
        id="t",
        effective_from=date(2027, 1, 1),
        note="t",
        changes={"questionnaire.education.master": (160, why)},
    )
    by_path = {f.path: f for f in p.figures()}
    assert "questionnaire.education" not in by_path
    assert (
        by_path["questionnaire.education.master"].provenance,
        by_path["questionnaire.education.master"].value,
    ) == (why, 160)
    assert by_path["questionnaire.education.none"].stated_by == "default"
    assert p.questionnaire.education["master"] == 160


def test_a_revision_may_publish_a_projected_year() -> None:
    published = Published(row="MRP", source="a budget law", says="4,500 KZT (2027)")
    p = revised(
        POLICY_2026_1,
        id="t",
        effective_from=date(2027, 1, 1),
        note="t",
        changes={"mrp_tenge.2027": (4500, published)},
    )
    assert p.mrp(2027) == 4500
    assert p.sources["mrp_tenge.2027"] == published
    assert POLICY_2026_1.mrp(2027) == 4325  # the earlier version is untouched


def test_the_json_form_round_trips_with_its_sources() -> None:
    again = Policy.model_validate_json(POLICY_2026_1.model_dump_json())
    assert again == POLICY_2026_1
    assert again.figures() == POLICY_2026_1.figures()
