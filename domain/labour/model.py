"""Foreign labour where a shortage is proven: an employer's request for one worker's permit.

The policy admits a foreign worker only when (1) the vacancy stood on the domestic labour
market for the policy's number of days without a suitable local hire, (2) a quota place is
left for the year in the industry (occupation group) and region, or in the named project,
(3) the wage offered is not below the regional average for the occupation, and (4) the
worker passes the same competent-authority checks as any applicant. While the permit runs,
the employer keeps its obligations (pay at least that wage, register the worker's address,
give notice when the employment ends); a violation makes both liable: the employer is fined
and loses its quota rights for a time, the worker's permit is revoked and exit ordered.

This module holds the path's vocabulary and figures: the request, the worker, the quota lines
and the registries' facts. The verdicts are in rules.py, the record in events.py and
state.py, and decider.py turns commands into events.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator

from domain.model import Model
from domain.provenance import Illustrative
from domain.regions import Region
from domain.text import PlainLine

Industry = Literal[
    "construction",
    "mining",
    "oil_and_gas",
    "manufacturing",
    "agriculture",
    "health",
    "it",
    "transport",
]
Violation = Literal["wage_below_floor", "address_not_registered", "end_not_notified"]
LabourCloseReason = Literal[
    "refused", "term_completed", "ended_early", "violation", "withdrawn", "worker_failed_checks"
]
LabourStage = Literal["new", "shortage", "quota", "checks", "permit", "closed"]
# An authority's verdict on the worker: scoring.GateOutcome's words (domain.policy imports
# this module, and scoring imports policy; a test holds the two equal).
GateOutcome = Literal["clear", "refer", "deny"]
LabourAuthority = Literal["security", "criminal_record", "deportation"]
LABOUR_AUTHORITIES: tuple[LabourAuthority, ...] = ("security", "criminal_record", "deportation")

ID = r"^[A-Za-z0-9._-]+$"


class LabourQuota(Model):
    """Places for foreign workers in a year: an industry in a region, or a named project."""

    industry: Industry
    region: Region
    project: str | None = Field(default=None, max_length=64, pattern=ID)
    places: int = Field(ge=0)


FINES_MRP: dict[Violation, int] = {
    "wage_below_floor": 200,
    "address_not_registered": 50,
    "end_not_notified": 30,
}

_NONE_PUBLISHED = "no public figure for the labour path"


class LabourRules(Model):
    """The labour path's figures. No public number is behind them: all ILLUSTRATIVE."""

    shortage_days: Annotated[
        int, Illustrative(f"{_NONE_PUBLISHED}; days the vacancy stands on the domestic market")
    ] = 15
    wage_floor_percent: Annotated[
        int, Illustrative("kosh's reading of 'not below the regional average wage'")
    ] = 100
    permit_months: Annotated[int, Illustrative(f"{_NONE_PUBLISHED}; a year")] = 12
    max_permit_months: Annotated[int, Illustrative(f"{_NONE_PUBLISHED}; three years")] = 36
    monitoring_interval_days: Annotated[
        int, Illustrative(f"{_NONE_PUBLISHED}; an obligations review each quarter")
    ] = 91
    address_registration_days: Annotated[int, Illustrative(_NONE_PUBLISHED)] = 10
    end_notice_days: Annotated[int, Illustrative(_NONE_PUBLISHED)] = 10
    employer_fine_mrp: Annotated[
        dict[Violation, int], Illustrative(f"{_NONE_PUBLISHED}; the wage the gravest")
    ] = Field(default_factory=lambda: dict(FINES_MRP))
    quota_suspension_months: Annotated[int, Illustrative(f"{_NONE_PUBLISHED}; a year")] = 12
    exit_days: Annotated[
        int, Illustrative(f"{_NONE_PUBLISHED}; the worker leaves within this after revocation")
    ] = 10
    # A year table: each year's provenance is stated by the policy version (its `sources`).
    quotas: dict[int, tuple[LabourQuota, ...]] = Field(default_factory=dict)


# ILLUSTRATIVE 2026 lines: the shape (industry x region, plus named projects) is the policy's;
# the numbers are not published. Deliberately none for "it" nor for Almaty construction.
LABOUR_QUOTA_2026: tuple[LabourQuota, ...] = (
    LabourQuota(industry="construction", region="Astana", places=120),
    LabourQuota(industry="construction", region="Atyrau", places=60),
    LabourQuota(industry="oil_and_gas", region="Atyrau", places=80),
    LabourQuota(industry="oil_and_gas", region="Mangystau", places=50),
    LabourQuota(industry="mining", region="Karaganda", places=40),
    LabourQuota(industry="mining", region="Pavlodar", places=30),
    LabourQuota(industry="manufacturing", region="Pavlodar", places=25),
    LabourQuota(industry="agriculture", region="Kostanay", places=40),
    LabourQuota(industry="health", region="North Kazakhstan", places=15),
    LabourQuota(industry="transport", region="Almaty Region", places=20),
    LabourQuota(industry="oil_and_gas", region="Atyrau", project="tengiz-fgp", places=30),
    LabourQuota(industry="construction", region="Astana", project="astana-lrt", places=10),
)
LABOUR_QUOTA_2026_PROVENANCE = Illustrative(
    "the shape (industry x region, named projects) is the policy's; no number is published"
)


class LabourYearError(LookupError):
    """The rules have no quota lines for that year, neither published nor projected."""


def quota_line(
    rules: LabourRules, *, year: int, industry: Industry, region: Region, project: str | None
) -> LabourQuota | None:
    """The line a request draws on: the named project's own, else its industry's in the
    region; None when the year's lines have none (no shortage is planned there). A year
    without lines at all is an error, never the nearest year's lines reused."""
    if year not in rules.quotas:
        known = f"{min(rules.quotas)}–{max(rules.quotas)} only" if rules.quotas else "none"
        raise LabourYearError(
            f"the labour quotas have lines for {known}, none for {year}"
            " (neither published nor projected): add the year to the policy"
        )
    # Exact: a project draws on its own line only, an ordinary request on its industry's.
    for line in rules.quotas[year]:
        if (line.industry, line.region, line.project) == (industry, region, project):
            return line
    return None


class Worker(Model):
    """The foreign worker the employer asks for. Personal data: never in logs or attributes."""

    full_name: PlainLine = Field(min_length=1, max_length=200)
    born_on: date
    citizenship: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3")
    passport: str = Field(pattern=r"^[A-Z0-9]{6,9}[0-9]$")


class EmployerRequest(Model):
    """An employer's request for a work permit for one named worker in one vacancy."""

    employer_id: str = Field(
        min_length=1, max_length=64, pattern=ID, description="the employer's BIN"
    )
    employer_name: PlainLine = Field(min_length=1, max_length=200)
    industry: Industry
    region: Region
    project: str | None = Field(default=None, max_length=64, pattern=ID)
    occupation: PlainLine = Field(min_length=1, max_length=100)
    vacancy_reference: str = Field(min_length=1, max_length=64, pattern=ID)
    monthly_wage_tiyn: int = Field(gt=0, le=100_000_000_00)
    months: int = Field(default=12, ge=1, le=36)
    worker: Worker

    @field_validator("project")
    @classmethod
    def _no_empty_project(cls, value: str | None) -> str | None:
        return value or None


def request_problems(request: EmployerRequest, today: date) -> list[tuple[str, str]]:
    """(field, rule) for what a valid-looking request still gets wrong against the calendar."""
    problems: list[tuple[str, str]] = []
    w = request.worker
    if w.born_on > today:
        problems.append(("worker.born_on", "a birth date cannot be in the future"))
    elif _age(w.born_on, today) < 18:
        problems.append(("worker.born_on", "a foreign worker must be at least 18"))
    return problems


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


EMPLOYER_KEY_MIN_BYTES = 32


def employer_key(employer_id: str, key: bytes) -> str:
    """The employer as operators may see it (search attribute, listings): a keyed HMAC of
    the BIN, never the BIN. BINs are few and guessable (12 digits, most of them known), so
    an unkeyed digest is undone by trying them; without `key` (a deployment's secret, 32
    bytes or more) the value matches no candidate."""
    if len(key) < EMPLOYER_KEY_MIN_BYTES:
        raise ValueError(f"the employer key needs {EMPLOYER_KEY_MIN_BYTES} bytes, not {len(key)}")
    mac = hmac.new(key, f"kosh-employer:{employer_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:16]


# --- facts from the labour-market service (Enbek.kz in life) -----------------------------


class VacancyRecord(Model):
    """The domestic labour market's record of a vacancy."""

    reference: str
    employer_id: str
    industry: Industry
    region: Region
    posted_on: date
    closed_on: date | None = None  # still open when None
    local_candidates: int = Field(ge=0)  # suitable local candidates referred
    local_hired: bool = False
    regional_average_wage_tiyn: int = Field(gt=0)


class EmploymentReport(Model):
    """What the registries say about the worker's employment on a review date."""

    on: date
    paid_monthly_wage_tiyn: int = Field(ge=0)
    address_registered_on: date | None = None
    ended_on: date | None = None
    end_notified_on: date | None = None
