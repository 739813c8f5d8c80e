"""The versioned policy: which version is in force, and the public figures it encodes."""

from __future__ import annotations

import re
from datetime import date

import pytest

from domain.model import TIYN_PER_TENGE, tenge
from domain.policy import (
    POLICIES,
    POLICY_2026_1,
    Policy,
    PolicyYearError,
    UnknownPolicyError,
    policy_by_id,
    policy_in_force,
)
from domain.provenance import Projection, Published
from domain.regions import ALL_REGIONS, LABOUR_DEFICIT_REGIONS
from tests.policy_versions import SECOND_PHASE, with_second_phase


@pytest.mark.parametrize("day", [date(2026, 1, 1), date(2026, 7, 1), date(2031, 12, 31)])
def test_one_version_in_force_from_2026(day: date) -> None:
    assert policy_in_force(day).id == "2026.1"


def test_the_invented_second_phase_is_not_in_force() -> None:
    """kosh's own quarterly checks and 10-day interview (once "2026.2") have no public basis:
    no version in force sets them (decision 015)."""
    assert [p.id for p in POLICIES] == ["2026.1"]
    with pytest.raises(UnknownPolicyError):
        policy_by_id("2026.2")
    assert all(p.contract.monitoring_interval_days == 182 for p in POLICIES)


@pytest.mark.parametrize(
    ("day", "version"),
    [
        (date(2026, 1, 1), "2026.1"),
        (date(2026, 6, 30), "2026.1"),
        (date(2026, 7, 1), "test.2"),
        (date(2030, 12, 31), "test.2"),
    ],
)
def test_a_registered_second_version_is_in_force_from_its_date(
    monkeypatch: pytest.MonkeyPatch, day: date, version: str
) -> None:
    with_second_phase(monkeypatch)
    assert policy_in_force(day).id == version


@pytest.mark.parametrize("day", [date(2025, 12, 31), date(2020, 1, 1)])
def test_no_policy_before_2026(day: date) -> None:
    with pytest.raises(UnknownPolicyError, match="no policy in force on"):
        policy_in_force(day)


def test_policy_by_id_reads_each_version_and_refuses_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert policy_by_id("2026.1") is POLICY_2026_1
    with pytest.raises(UnknownPolicyError, match=r"test\.2"):
        policy_by_id("test.2")
    with_second_phase(monkeypatch)
    assert policy_by_id("test.2") is SECOND_PHASE
    with pytest.raises(UnknownPolicyError, match=r"2099\.9"):
        policy_by_id("2099.9")


def test_versions_are_ordered_and_unique() -> None:
    assert len({p.id for p in POLICIES}) == len(POLICIES)
    assert [p.effective_from for p in POLICIES] == sorted(p.effective_from for p in POLICIES)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_mrp_published_for_2025_and_2026(policy: Policy) -> None:
    assert policy.mrp(2026) == 4325
    assert policy.mrp(2025) == 3932
    assert policy.sources["mrp_tenge.2026"] == policy.sources["mrp_tenge.2025"]
    assert isinstance(policy.sources["mrp_tenge.2026"], Published)


@pytest.mark.parametrize("year", range(2027, 2032))
def test_later_years_are_marked_projections_of_2026(year: int) -> None:
    """A five-year contract started in 2026 runs to 2031: each of its years has a figure,
    stated as a projection with its basis, never the latest year reused silently."""
    p = POLICY_2026_1
    assert p.mrp(year) == 4325
    assert p.quota("Pavlodar", year) == 977
    carried = Projection(basis="2026 carried forward, not published")
    assert p.sources[f"mrp_tenge.{year}"] == carried
    assert p.sources[f"kandas_quota.{year}"] == carried
    assert isinstance(p.sources[f"labour.quotas.{year}"], Projection)


@pytest.mark.parametrize("year", range(2032, 2037))
def test_the_mrp_is_projected_to_the_end_of_the_last_contract_places_are_not(year: int) -> None:
    """Places are granted through 2031; a contract signed then runs to 2036 and its payments
    need those years' MRP (a marked projection), while a place in 2032 has no figure."""
    p = POLICY_2026_1
    assert p.mrp(year) == 4325
    assert p.sources[f"mrp_tenge.{year}"] == Projection(basis="2026 carried forward, not published")
    with pytest.raises(PolicyYearError, match=f"none for {year}"):
        p.quota("Pavlodar", year)


@pytest.mark.parametrize("year", [2020, 2024, 2037, 2040])
def test_a_year_neither_published_nor_projected_is_an_error(year: int) -> None:
    with pytest.raises(
        PolicyYearError,
        match=re.escape(f"policy 2026.1 has an MRP for 2025–2036 only, none for {year}"),
    ):
        POLICY_2026_1.mrp(year)
    if year > 2031:
        year = 2032  # places end a year sooner (the test above)
    with pytest.raises(
        PolicyYearError, match=re.escape(f"a kandas quota for 2026–2031 only, none for {year}")
    ):
        POLICY_2026_1.quota("Pavlodar", year)


def test_a_region_outside_the_programme_has_no_quota_in_any_year() -> None:
    assert POLICY_2026_1.quota("Almaty", 2040) == 0


REGIONAL_QUOTA_2026 = {
    "Pavlodar": 977,
    "Akmola": 285,
    "Abai": 264,
    "East Kazakhstan": 200,
    "North Kazakhstan": 200,
    "Kostanay": 200,
    "Atyrau": 125,
    "West Kazakhstan": 30,
}


@pytest.mark.parametrize(("region", "places"), REGIONAL_QUOTA_2026.items())
def test_regional_quota_2026(region: str, places: int) -> None:
    assert POLICY_2026_1.quota(region, 2026) == places  # type: ignore[arg-type]


def test_quota_covers_exactly_the_labour_deficit_regions_and_sums_to_2281() -> None:
    assert set(REGIONAL_QUOTA_2026) == LABOUR_DEFICIT_REGIONS
    assert sum(POLICY_2026_1.quota(r, 2026) for r in ALL_REGIONS) == 2281


@pytest.mark.parametrize("region", sorted(set(ALL_REGIONS) - LABOUR_DEFICIT_REGIONS))
def test_non_deficit_region_has_no_quota(region: str) -> None:
    assert POLICY_2026_1.quota(region, 2026) == 0  # type: ignore[arg-type]


def test_relocation_subsidy_is_70_mrp_per_member() -> None:
    support = POLICY_2026_1.support
    per_member = support.relocation_subsidy_mrp_per_member * POLICY_2026_1.mrp(2026)
    assert support.relocation_subsidy_mrp_per_member == 70
    assert per_member == 302_750
    assert tenge(per_member * TIYN_PER_TENGE) == "302,750.00 KZT"


def test_rent_compensation_is_15_to_30_mrp_for_12_months() -> None:
    bands = POLICY_2026_1.support.rent_mrp_per_month_by_family_size
    assert min(b.points for b in bands) == 15
    assert max(b.points for b in bands) == 30
    assert POLICY_2026_1.support.rent_months == 12
    # every family size from 1 to 99 falls in exactly one band
    for size in range(1, 100):
        assert sum(b.low <= size <= b.high for b in bands) == 1


def test_kaztest_a1_rules() -> None:
    lang = POLICY_2026_1.language
    assert lang.level == "A1"
    assert lang.min_section_percent == 30
    assert lang.max_attempts == 3
    assert set(lang.sections) == {"listening", "reading"}


def test_questionnaire_minimum_and_contract_term() -> None:
    for policy in POLICIES:
        assert policy.questionnaire.min_points == 400
        assert policy.contract.term_years == 5
        assert policy.contract.clawback == "full"


def test_the_test_only_second_phase_changes_two_figures_and_says_why() -> None:
    changed = {
        f.path: f
        for f in SECOND_PHASE.figures()
        if f.changed and f.path in ("contract.monitoring_interval_days", "deadlines.interview_days")
    }
    assert {p: f.value for p, f in changed.items()} == {
        "contract.monitoring_interval_days": 91,
        "deadlines.interview_days": 10,
    }
    assert all(f.stated_by == "version" for f in changed.values())
    # the public figures and every other default stay the same
    assert SECOND_PHASE.mrp_tenge == POLICY_2026_1.mrp_tenge
    assert SECOND_PHASE.kandas_quota == POLICY_2026_1.kandas_quota
    assert SECOND_PHASE.contract.confirmation_grace_days == (
        POLICY_2026_1.contract.confirmation_grace_days
    )
    assert "TEST ONLY" in SECOND_PHASE.note


def test_policy_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        POLICY_2026_1.id = "hacked"  # type: ignore[misc]
