"""A phased introduction (issue #22, item 3): a version takes effect in some regions before
the rest of the country; a new case takes the version in force for its region on its
application date; a published version is known by id once registered, and never replaced."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain import policy as pol
from domain.policy import (
    POLICY_2026_1,
    PolicyConflictError,
    UnknownPolicyError,
    in_force,
    policy_by_id,
    register,
    versions,
)
from domain.policy_draft import DraftError, read_draft, revised
from domain.provenance import Illustrative

DRAFTED = Illustrative("a draft for the regions' consultation")


@pytest.fixture(autouse=True)
def nothing_published(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pol, "_KNOWN", {})


def phased(**fields: Any) -> pol.Policy:
    return revised(
        POLICY_2026_1,
        id=fields.pop("id", "2027.1"),
        effective_from=fields.pop("effective_from", date(2027, 7, 1)),
        phased_from=fields.pop(
            "phased_from", {"Pavlodar": date(2027, 3, 1), "Kostanay": date(2027, 3, 1)}
        ),
        note="the questionnaire's minimum raised",
        changes={"questionnaire.min_points": (450, DRAFTED)},
    )


def test_pilot_regions_take_a_version_first_and_the_rest_on_its_date() -> None:
    v = phased()
    among = (POLICY_2026_1, v)
    assert in_force(date(2027, 2, 28), "Pavlodar", among) is POLICY_2026_1
    assert in_force(date(2027, 3, 1), "Pavlodar", among) is v
    assert in_force(date(2027, 3, 1), "Kostanay", among) is v
    assert in_force(date(2027, 3, 1), "Akmola", among) is POLICY_2026_1
    assert in_force(date(2027, 6, 30), None, among) is POLICY_2026_1  # no region yet: the rest
    assert in_force(date(2027, 7, 1), "Akmola", among) is v
    assert in_force(date(2027, 7, 1), None, among) is v
    with pytest.raises(UnknownPolicyError, match="in Akmola on 2025-12-31"):
        in_force(date(2025, 12, 31), "Akmola", among)


def test_of_two_versions_the_one_that_took_effect_there_last_applies() -> None:
    early = phased(id="2027.1")
    later = phased(
        id="2027.2", effective_from=date(2027, 5, 1), phased_from={"Abai": date(2027, 4, 1)}
    )
    among = (POLICY_2026_1, early, later)
    assert in_force(date(2027, 4, 15), "Pavlodar", among) is early  # 2027.2 not yet there
    assert in_force(date(2027, 4, 15), "Abai", among) is later
    assert in_force(date(2027, 5, 1), "Pavlodar", among) is later
    assert in_force(date(2027, 7, 1), "Pavlodar", among) is later  # 2027.1's rest date: later


def test_a_region_cannot_start_after_the_rest_of_the_country() -> None:
    with pytest.raises(ValueError, match="phased_from: Pavlodar would start after"):
        phased(phased_from={"Pavlodar": date(2027, 8, 1)})


def test_a_draft_names_a_late_region_with_its_rule() -> None:
    data = {
        "id": "2027.1",
        "effective_from": "2027-07-01",
        "phased_from": {"Pavlodar": "2027-08-01", "Atlantis": "2027-01-01"},
        "note": "a phased draft",
        "changes": {
            "questionnaire.min_points": {
                "value": 450,
                "provenance": {"kind": "illustrative", "reason": "a draft"},
            }
        },
    }
    with pytest.raises(DraftError) as refused:
        read_draft(data, versions())
    fields = [field for field, _ in refused.value.problems]
    assert any(f.startswith("phased_from") and "Atlantis" in f for f in fields)
    data["phased_from"] = {"Pavlodar": "2027-08-01"}
    with pytest.raises(DraftError) as refused:
        read_draft(data, versions())
    [(field, rule)] = refused.value.problems
    assert field == "phased_from.Pavlodar" and "after the rest of the country" in rule
    data["phased_from"] = {"Pavlodar": "2027-03-01"}
    assert read_draft(data, versions()).starts_in("Pavlodar") == date(2027, 3, 1)


def test_a_published_version_is_known_once_registered_and_never_replaced() -> None:
    v = phased()
    with pytest.raises(UnknownPolicyError):
        policy_by_id("2027.1")
    assert register(v) is v
    assert register(phased()) is v  # the same document again: idempotent
    assert policy_by_id("2027.1") is v
    assert [p.id for p in versions()] == ["2026.1", "2027.1"]
    other = revised(
        POLICY_2026_1,
        id="2027.1",
        effective_from=date(2027, 7, 1),
        note="another document under the same id",
        changes={"questionnaire.min_points": (460, DRAFTED)},
    )
    with pytest.raises(PolicyConflictError, match=r"2027\.1 is already a different version"):
        register(other)
    with pytest.raises(PolicyConflictError):
        register(POLICY_2026_1.model_copy(update={"note": "rewritten"}))
    assert policy_by_id("2027.1") is v
    assert pol.policy_in_force(date(2027, 8, 1)) is POLICY_2026_1  # built-ins only
