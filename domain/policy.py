"""Versioned policy: every number a decision depends on, with the date it came into force.

Figures follow the public 2026 sources in shared/POLICY-SOURCES.md. Where the law publishes
no number the default is ILLUSTRATIVE and its `note` says so. A case is decided under the
version in force on the day it was submitted (cases in flight are protected from changes).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from domain.labour import LABOUR_QUOTA_2026, LabourRules
from domain.model import Model
from domain.regions import LABOUR_DEFICIT_REGIONS, Region


class LanguageTestRules(Model):
    level: str = "A1"
    sections: tuple[str, ...] = ("listening", "reading")
    min_section_percent: int = 30
    max_attempts: int = 3
    retake_wait_days: int = 7  # ILLUSTRATIVE
    points_if_passed: int = 50  # ILLUSTRATIVE bonus towards the ranking score


class Band(Model):
    """Points for a value in [low, high] (inclusive)."""

    low: int
    high: int
    points: int


class QuestionnaireRules(Model):
    """Per-factor points are not published: all ILLUSTRATIVE; the 400 minimum is public."""

    min_points: int = 400
    age_bands: tuple[Band, ...] = (
        Band(low=18, high=24, points=80),
        Band(low=25, high=34, points=120),
        Band(low=35, high=44, points=100),
        Band(low=45, high=54, points=60),
        Band(low=55, high=150, points=30),
    )
    education: dict[str, int] = Field(
        default_factory=lambda: {
            "none": 0,
            "secondary": 40,
            "vocational": 80,
            "bachelor": 120,
            "master": 150,
            "doctorate": 170,
        }
    )
    kazakh: dict[str, int] = Field(
        default_factory=lambda: {"none": 0, "basic": 40, "intermediate": 80, "fluent": 120}
    )
    russian: dict[str, int] = Field(
        default_factory=lambda: {"none": 0, "basic": 20, "intermediate": 40, "fluent": 60}
    )
    english: dict[str, int] = Field(
        default_factory=lambda: {"none": 0, "ielts_5_5": 50, "ielts_7": 80}
    )
    points_per_work_year: int = 15
    max_work_points: int = 150
    military_service_points: int = 30
    health_fit_points: int = 30
    criminal_record_points: int = -200
    deportation_points: int = -200


class Deadlines(Model):
    document_check_days: int = 5  # ILLUSTRATIVE
    authority_check_days: int = 20  # ILLUSTRATIVE within the pilot's 29-day window
    interview_days: int = 14  # ILLUSTRATIVE
    interview_reminder_every_days: int = 5  # ILLUSTRATIVE
    interview_escalation_days: int = 7  # ILLUSTRATIVE: a supervisor's window after the deadline
    referral_decision_days: int = 30  # ILLUSTRATIVE
    kandas_status_working_days: int = 3
    arrival_days: int = 90  # ILLUSTRATIVE


class SupportRules(Model):
    relocation_subsidy_mrp_per_member: int = 70
    rent_mrp_per_month_by_family_size: tuple[Band, ...] = (  # 15-30 public; split ILLUSTRATIVE
        Band(low=1, high=2, points=15),
        Band(low=3, high=4, points=22),
        Band(low=5, high=99, points=30),
    )
    rent_months: int = 12


class ContractRules(Model):
    term_years: int = 5
    monitoring_interval_days: int = 182  # ILLUSTRATIVE
    confirmation_grace_days: int = 30  # ILLUSTRATIVE
    repayment_due_days: int = 90  # ILLUSTRATIVE
    clawback: Literal["full", "pro_rata"] = "full"


class GeneralTrackRules(Model):
    permit_term_years: int = 5  # ILLUSTRATIVE: renewal is a new application
    rescreening_interval_days: int = 365  # ILLUSTRATIVE


class Policy(Model):
    """One published version of the rules."""

    id: str
    effective_from: date
    note: str
    mrp_tenge: dict[int, int]
    language: LanguageTestRules = LanguageTestRules()
    questionnaire: QuestionnaireRules = QuestionnaireRules()
    interview_max_points: int = 100  # ILLUSTRATIVE
    deadlines: Deadlines = Deadlines()
    support: SupportRules = SupportRules()
    contract: ContractRules = ContractRules()
    general: GeneralTrackRules = GeneralTrackRules()
    kandas_quota: dict[int, dict[Region, int]]
    labour: LabourRules = LabourRules()

    def mrp(self, year: int) -> int:
        """MRP in tenge for a year; the latest known year's value beyond the table."""
        known = sorted(self.mrp_tenge)
        usable = [y for y in known if y <= year] or known[:1]
        return self.mrp_tenge[usable[-1]]

    def quota(self, region: Region, year: int) -> int:
        """Kandas places for a region in a year (the latest published year beyond the table)."""
        if region not in LABOUR_DEFICIT_REGIONS:
            return 0
        years = sorted(self.kandas_quota)
        usable = [y for y in years if y <= year] or years[:1]
        return self.kandas_quota[usable[-1]].get(region, 0)


QUOTA_2026: dict[Region, int] = {
    "Pavlodar": 977,
    "Akmola": 285,
    "Abai": 264,
    "East Kazakhstan": 200,
    "North Kazakhstan": 200,
    "Kostanay": 200,
    "Atyrau": 125,
    "West Kazakhstan": 30,
}

POLICY_2026_1 = Policy(
    id="2026.1",
    effective_from=date(2026, 1, 1),
    note="Scoring pre-selection from January 2026; 2026 MRP and regional quota.",
    mrp_tenge={2025: 3932, 2026: 4325},
    kandas_quota={2026: QUOTA_2026},
    labour=LabourRules(quotas={2026: LABOUR_QUOTA_2026}),
)

POLICY_2026_2 = POLICY_2026_1.model_copy(
    update={
        "id": "2026.2",
        "effective_from": date(2026, 7, 1),
        "note": "ILLUSTRATIVE second phase: residence monitoring every quarter and a"
        " 10-day interview deadline; shows a rule change under running cases.",
        "contract": ContractRules(monitoring_interval_days=91),
        "deadlines": Deadlines(interview_days=10),
    }
)

POLICIES: tuple[Policy, ...] = (POLICY_2026_1, POLICY_2026_2)


class UnknownPolicyError(LookupError):
    """No policy with that id, or none in force on that date."""


def policy_in_force(on: date) -> Policy:
    """The newest version whose effective date is on or before `on`."""
    candidates = [p for p in POLICIES if p.effective_from <= on]
    if not candidates:
        raise UnknownPolicyError(f"no policy in force on {on.isoformat()}")
    return max(candidates, key=lambda p: p.effective_from)


def policy_by_id(policy_id: str) -> Policy:
    """The version with that id: a decided case always reads its own version."""
    for p in POLICIES:
        if p.id == policy_id:
            return p
    raise UnknownPolicyError(f"unknown policy version {policy_id!r}")
