"""The parts of a policy version (domain/policy.py): the rules of the KAZTEST, the
questionnaire, the deadlines, support, the contract, the general track and allocation
rounds, each figure with its provenance on its field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from domain import policy_sources as src
from domain.model import Model
from domain.provenance import Illustrative


class LanguageTestRules(Model):
    level: Annotated[str, src.KAZTEST] = "A1"
    sections: Annotated[tuple[str, ...], src.KAZTEST] = ("listening", "reading")
    min_section_percent: Annotated[int, src.KAZTEST] = 30
    max_attempts: Annotated[int, src.KAZTEST] = 3
    retake_wait_days: Annotated[
        int, Illustrative("no wait between attempts is published; a week to prepare")
    ] = 7
    # A sitting that ends with the rules broken: no sitting again for this many days.
    rules_breach_ban_days: Annotated[int, src.KAZTEST] = 30
    points_if_passed: Annotated[
        int, Illustrative("kosh's bonus towards the ranking score; the test is pass or fail")
    ] = 50


class Band(Model):
    """Points for a value in [low, high] (inclusive)."""

    low: int
    high: int
    points: int


_FACTOR_POINTS = Illustrative("the questionnaire's factors are public, their points are not")


class QuestionnaireRules(Model):
    """Per-factor points are not published: all ILLUSTRATIVE; the 400 minimum is public."""

    min_points: Annotated[int, src.QUESTIONNAIRE] = 400
    age_bands: Annotated[tuple[Band, ...], _FACTOR_POINTS] = (
        Band(low=18, high=24, points=80),
        Band(low=25, high=34, points=120),
        Band(low=35, high=44, points=100),
        Band(low=45, high=54, points=60),
        Band(low=55, high=150, points=30),
    )
    education: Annotated[dict[str, int], _FACTOR_POINTS] = Field(
        default_factory=lambda: {
            "none": 0,
            "secondary": 40,
            "vocational": 80,
            "bachelor": 120,
            "master": 150,
            "doctorate": 170,
        }
    )
    kazakh: Annotated[dict[str, int], _FACTOR_POINTS] = Field(
        default_factory=lambda: {"none": 0, "basic": 40, "intermediate": 80, "fluent": 120}
    )
    russian: Annotated[dict[str, int], _FACTOR_POINTS] = Field(
        default_factory=lambda: {"none": 0, "basic": 20, "intermediate": 40, "fluent": 60}
    )
    english: Annotated[dict[str, int], _FACTOR_POINTS] = Field(
        default_factory=lambda: {"none": 0, "ielts_5_5": 50, "ielts_7": 80}
    )
    points_per_work_year: Annotated[int, _FACTOR_POINTS] = 15
    max_work_points: Annotated[int, _FACTOR_POINTS] = 150
    military_service_points: Annotated[int, _FACTOR_POINTS] = 30
    health_fit_points: Annotated[int, _FACTOR_POINTS] = 30
    criminal_record_points: Annotated[int, _FACTOR_POINTS] = -200
    deportation_points: Annotated[int, _FACTOR_POINTS] = -200


# Kazakhstan's fixed-date public holidays, as (month, day).
_WINTER_SPRING = ((1, 1), (1, 2), (1, 7), (3, 8), (3, 21), (3, 22), (3, 23))
_SUMMER_AUTUMN = ((5, 1), (5, 7), (5, 9), (7, 6), (8, 30), (10, 25), (12, 16))
FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = _WINTER_SPRING + _SUMMER_AUTUMN


class Deadlines(Model):
    authority_check_days: Annotated[
        int, Illustrative("no per-agency limit is published; leaves room in the pilot's 29 days")
    ] = 20
    interview_days: Annotated[int, Illustrative("no interview deadline is published")] = 14
    interview_reminder_every_days: Annotated[
        int, Illustrative("kosh's: staff reminded about twice before the deadline")
    ] = 5
    interview_escalation_days: Annotated[
        int, Illustrative("kosh's: a supervisor's week after the missed deadline")
    ] = 7
    referral_decision_days: Annotated[
        int, Illustrative("kosh's: an officer's decision has no published limit")
    ] = 30
    kandas_status_working_days: Annotated[int, src.KANDAS_STATUS_DECISION] = 3
    kandas_hearing_working_days: Annotated[int, src.KANDAS_STATUS_DECISION] = 2
    kandas_extension_max_months: Annotated[int, src.KANDAS_STATUS_DECISION] = 6
    kandas_extensions_max: Annotated[int, src.KANDAS_STATUS_DECISION] = 1  # "one extension"
    # An overdue kandas decision is asked after again each this many working days.
    kandas_overdue_recheck_working_days: Annotated[
        int, Illustrative("kosh's: staff see an overdue decision the next working day")
    ] = 1
    # During an extension the body is asked every this many days (an early decision is seen).
    kandas_extension_look_days: Annotated[
        int, Illustrative("kosh's: two weeks, within an extension of months")
    ] = 14
    citizenship_consent_days: Annotated[
        int, Illustrative("the pilot's 29 days name no split between its steps")
    ] = 20
    # From submission to the decision (the scoring pilot of 30 Jan 2026).
    procedure_limit_days: Annotated[int, src.SCORING_PILOT] = 29
    procedure_at_risk_days: Annotated[
        int, Illustrative("kosh's: staff warned five days before the limit")
    ] = 5
    arrival_days: Annotated[
        int, Illustrative("no arrival deadline is published; a season to move a family")
    ] = 90
    # Days off besides weekends, as (month, day): the fixed public holidays.
    public_holidays: Annotated[
        tuple[tuple[int, int], ...],
        Illustrative(
            "kosh's reading of the fixed-date days off; movable holidays and days off moved by"
            " decree are not modelled"
        ),
    ] = FIXED_HOLIDAYS

    @property
    def holidays(self) -> frozenset[tuple[int, int]]:
        return frozenset(self.public_holidays)


class SupportRules(Model):
    relocation_subsidy_mrp_per_member: Annotated[int, src.RELOCATION_SUBSIDY] = 70
    rent_mrp_per_month_by_family_size: Annotated[
        tuple[Band, ...],
        Illustrative("the 15–30 MRP range is published; its split by family size is kosh's"),
    ] = (
        Band(low=1, high=2, points=15),
        Band(low=3, high=4, points=22),
        Band(low=5, high=99, points=30),
    )
    rent_months: Annotated[int, src.RENT_COMPENSATION] = 12
    # The employer subsidy and the housing certificate (docs/decisions/018).
    employer_subsidy_mrp_per_resettler: Annotated[int, src.EMPLOYER_SUBSIDY] = 400
    employer_subsidy_min_employment_years: Annotated[int, src.EMPLOYER_SUBSIDY] = 2
    housing_certificate_cap_mrp: Annotated[int, src.HOUSING_CERTIFICATE] = 1625
    # The share of the home's price the certificate covers, up to the cap.
    housing_certificate_share_percent: Annotated[
        int, Illustrative("the 2026 share is not published; the earlier rule's 50 %")
    ] = 50


class ContractRules(Model):
    term_years: Annotated[int, src.SOCIAL_CONTRACT] = 5
    monitoring_interval_days: Annotated[
        int, Illustrative("no check interval is published; twice a year")
    ] = 182
    confirmation_grace_days: Annotated[
        int, Illustrative("kosh's: a month to confirm a registry discrepancy before a breach")
    ] = 30
    repayment_due_days: Annotated[
        int, Illustrative("no repayment term is published; a quarter")
    ] = 90
    clawback: Annotated[Literal["full", "pro_rata"], src.SOCIAL_CONTRACT] = "full"
    rescreening_interval_days: Annotated[
        int, Illustrative("no re-screening interval is published; the general track's yearly one")
    ] = 365
    # Support the family does not owe back on early departure (docs/decisions/018): the
    # housing certificate is published as non-repayable; the employer's subsidy was paid to
    # the employer, not the family (kosh's reading).
    not_clawed_back: Annotated[
        tuple[str, ...],
        Illustrative(
            "kosh's reading: the certificate is non-repayable (lada.kz news 146527); the"
            " employer's subsidy was paid to the employer"
        ),
    ] = ("employer_subsidy", "housing_certificate")


class GeneralTrackRules(Model):
    permit_term_years: Annotated[
        int,
        Illustrative("no term is published for the pilot's permit; a kandas family's permit"),
    ] = 5
    rescreening_interval_days: Annotated[
        int, Illustrative("no re-screening interval is published; once a year")
    ] = 365
    # Permanent residence on general grounds has no term (docs/decisions/019); the card that
    # proves it is valid this long and then renewed, the case going on.
    residence_card_years: Annotated[
        int, Illustrative("no card validity is published; ten years")
    ] = 10


class AllocationRules(Model):
    """Ranked allocation rounds of kandas places (docs/decisions/014). The law publishes the
    regional quota, not how it is shared out: kosh's reading follows Canada's rounds."""

    period_months: Annotated[
        int, Illustrative("no round period is published; one round per region each month")
    ] = 1
    rounds_not_reached: Annotated[
        int,
        Illustrative(
            "no waiting limit is published; three rounds of each listed region before the"
            " general track"
        ),
    ] = 3
