"""The versioned policy: which version is in force, and the public figures it encodes."""

from __future__ import annotations

from datetime import date

import pytest

from domain.model import TIYN_PER_TENGE, tenge
from domain.policy import (
    POLICIES,
    POLICY_2026_1,
    POLICY_2026_2,
    Policy,
    UnknownPolicyError,
    policy_by_id,
    policy_in_force,
)
from domain.regions import ALL_REGIONS, LABOUR_DEFICIT_REGIONS


@pytest.mark.parametrize(
    ("day", "version"),
    [
        (date(2026, 1, 1), "2026.1"),
        (date(2026, 3, 15), "2026.1"),
        (date(2026, 6, 30), "2026.1"),
        (date(2026, 7, 1), "2026.2"),
        (date(2027, 1, 1), "2026.2"),
        (date(2030, 12, 31), "2026.2"),
    ],
)
def test_version_in_force_by_date(day: date, version: str) -> None:
    assert policy_in_force(day).id == version


@pytest.mark.parametrize("day", [date(2025, 12, 31), date(2020, 1, 1)])
def test_no_policy_before_2026(day: date) -> None:
    with pytest.raises(UnknownPolicyError, match="no policy in force on"):
        policy_in_force(day)


def test_policy_by_id_reads_each_version_and_refuses_unknown() -> None:
    assert policy_by_id("2026.1") is POLICY_2026_1
    assert policy_by_id("2026.2") is POLICY_2026_2
    with pytest.raises(UnknownPolicyError, match=r"2099\.9"):
        policy_by_id("2099.9")


def test_versions_are_ordered_and_unique() -> None:
    assert [p.id for p in POLICIES] == ["2026.1", "2026.2"]
    assert [p.effective_from for p in POLICIES] == sorted(p.effective_from for p in POLICIES)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_mrp(policy: Policy) -> None:
    assert policy.mrp(2026) == 4325
    assert policy.mrp(2025) == 3932
    assert policy.mrp(2028) == 4325  # the latest known year beyond the table
    assert policy.mrp(2020) == 3932  # the earliest known year before it


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


def test_the_two_versions_differ() -> None:
    assert POLICY_2026_1 != POLICY_2026_2
    assert POLICY_2026_1.effective_from == date(2026, 1, 1)
    assert POLICY_2026_2.effective_from == date(2026, 7, 1)
    assert POLICY_2026_2.contract.monitoring_interval_days == 91
    assert POLICY_2026_1.contract.monitoring_interval_days == 182
    assert POLICY_2026_2.deadlines.interview_days < POLICY_2026_1.deadlines.interview_days
    # the public figures stay the same across versions
    assert POLICY_2026_2.mrp_tenge == POLICY_2026_1.mrp_tenge
    assert POLICY_2026_2.kandas_quota == POLICY_2026_1.kandas_quota


def test_illustrative_defaults_say_so() -> None:
    assert "ILLUSTRATIVE" in POLICY_2026_2.note


def test_the_second_version_note_names_only_what_differs() -> None:
    note = POLICY_2026_2.note
    assert "quarter" in note and "10-day interview" in note
    assert "confirmation" not in note  # the confirmation window is unchanged
    assert POLICY_2026_2.contract.confirmation_grace_days == (
        POLICY_2026_1.contract.confirmation_grace_days
    )
    assert POLICY_2026_2.deadlines.interview_days == 10


def test_policy_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        POLICY_2026_1.id = "hacked"  # type: ignore[misc]
