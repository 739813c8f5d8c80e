"""Foreign labour where a shortage is proven: an employer's request for one worker's permit.

The policy admits a foreign worker only when (1) the vacancy stood on the domestic labour
market for the policy's number of days without a suitable local hire, (2) a quota place is
left for the year in the industry (occupation group) and region, or in the named project,
(3) the wage offered is not below the regional average for the occupation, and (4) the
worker passes the same competent-authority checks as any applicant. While the permit runs,
the employer keeps its obligations (pay at least that wage, register the worker's address,
give notice when the employment ends); a violation makes both liable: the employer is fined
and loses its quota rights for a time, the worker's permit is revoked and exit ordered.

Pure: the workflow asks the adapters for facts and this module for the verdicts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter, field_validator

from domain.model import Model
from domain.regions import Region
from domain.text import PlainLine, PlainText

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


FINES_MRP: dict[Violation, int] = {  # ILLUSTRATIVE
    "wage_below_floor": 200,
    "address_not_registered": 50,
    "end_not_notified": 30,
}


class LabourRules(Model):
    """The labour path's figures. No public number is behind them: all ILLUSTRATIVE."""

    shortage_days: int = 15  # ILLUSTRATIVE: days the vacancy must stand on the domestic market
    wage_floor_percent: int = 100  # of the regional average wage for the occupation
    permit_months: int = 12  # ILLUSTRATIVE
    max_permit_months: int = 36  # ILLUSTRATIVE
    monitoring_interval_days: int = 91  # ILLUSTRATIVE: an obligations review each quarter
    address_registration_days: int = 10  # ILLUSTRATIVE
    end_notice_days: int = 10  # ILLUSTRATIVE
    employer_fine_mrp: dict[Violation, int] = Field(default_factory=lambda: dict(FINES_MRP))
    quota_suspension_months: int = 12  # ILLUSTRATIVE
    exit_days: int = 10  # ILLUSTRATIVE: the worker leaves within this after revocation
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


def quota_line(
    rules: LabourRules, *, year: int, industry: Industry, region: Region, project: str | None
) -> LabourQuota | None:
    """The line a request draws on: the named project's own, else its industry's in the
    region; None when the policy sets none (no shortage is planned there)."""
    years = sorted(rules.quotas)
    usable = [y for y in years if y <= year] or years[:1]
    if not usable:
        return None
    # Exact: a project draws on its own line only, an ordinary request on its industry's.
    for line in rules.quotas[usable[-1]]:
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


def employer_key(employer_id: str) -> str:
    """The employer as operators may see it in search attributes: hashed, not the BIN."""
    return hashlib.sha256(f"kosh-employer:{employer_id}".encode()).hexdigest()[:16]


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


class Refusal(Model):
    rule: str
    reason: str


def shortage_refusal(
    request: EmployerRequest, vacancy: VacancyRecord | None, rules: LabourRules, on: date
) -> Refusal | None:
    """None when the vacancy proves a shortage the request may fill; else the reason."""
    if vacancy is None:
        return Refusal(
            rule="vacancy_unknown",
            reason=f"vacancy {request.vacancy_reference} is not on the domestic labour market",
        )
    if vacancy.employer_id != request.employer_id:
        return Refusal(rule="vacancy_not_employers", reason="the vacancy is another employer's")
    if (vacancy.industry, vacancy.region) != (request.industry, request.region):
        return Refusal(
            rule="vacancy_mismatch",
            reason=f"the vacancy is for {vacancy.industry} in {vacancy.region}, "
            f"not {request.industry} in {request.region}",
        )
    if vacancy.local_hired:
        return Refusal(rule="local_hire", reason="a local candidate was hired for the vacancy")
    end = vacancy.closed_on or on
    days = (end - vacancy.posted_on).days
    if days < rules.shortage_days:
        return Refusal(
            rule="shortage_not_proven",
            reason=f"the vacancy stood {days} days on the domestic market; "
            f"the policy asks for {rules.shortage_days} without a local hire",
        )
    floor = wage_floor(vacancy.regional_average_wage_tiyn, rules)
    if request.monthly_wage_tiyn < floor:
        return Refusal(
            rule="wage_below_floor",
            reason=f"the wage offered ({request.monthly_wage_tiyn} tiyn a month) is below "
            f"{rules.wage_floor_percent}% of the regional average ({floor} tiyn)",
        )
    return None


def wage_floor(regional_average_tiyn: int, rules: LabourRules) -> int:
    return regional_average_tiyn * rules.wage_floor_percent // 100


def violations_in(
    report: EmploymentReport,
    *,
    permit_from: date,
    wage_floor_tiyn: int,
    rules: LabourRules,
) -> tuple[Violation, ...]:
    """The employer's obligations broken as of the report's date."""
    found: list[Violation] = []
    if report.ended_on is None and report.paid_monthly_wage_tiyn < wage_floor_tiyn:
        found.append("wage_below_floor")
    registration_due = permit_from + timedelta(days=rules.address_registration_days)
    if report.address_registered_on is None and report.on > registration_due:
        found.append("address_not_registered")
    if report.ended_on is not None:
        notice_due = report.ended_on + timedelta(days=rules.end_notice_days)
        late = report.end_notified_on is None or report.end_notified_on > notice_due
        if late and report.on > notice_due:
            found.append("end_not_notified")
    return tuple(found)


class Liability(Model):
    employer_fine_tiyn: int
    quota_rights_suspended_until: date
    worker_exit_by: date


def liability(
    found: Iterable[Violation], *, on: date, rules: LabourRules, mrp_tenge: int
) -> Liability:
    """What the violations cost: the employer's fine and suspension, the worker's exit."""
    fine_mrp = sum(rules.employer_fine_mrp[v] for v in set(found))
    return Liability(
        employer_fine_tiyn=fine_mrp * mrp_tenge * 100,
        quota_rights_suspended_until=add_months(on, rules.quota_suspension_months),
        worker_exit_by=on + timedelta(days=rules.exit_days),
    )


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")  # pragma: no cover


# --- events of a labour request's stream ----------------------------------------------------


class LabourEventBase(Model):
    schema_version: int = 1
    policy_id: str
    at: AwareDatetime = Field(description="case time at which the fact happened")


class LabourRequestSubmitted(LabourEventBase):
    type: Literal["LabourRequestSubmitted"] = "LabourRequestSubmitted"
    request_id: str
    request: EmployerRequest


class ShortageConfirmed(LabourEventBase):
    type: Literal["ShortageConfirmed"] = "ShortageConfirmed"
    vacancy_reference: str
    days_on_market: int
    regional_average_wage_tiyn: int


class LabourRequestRefused(LabourEventBase):
    type: Literal["LabourRequestRefused"] = "LabourRequestRefused"
    rule: str
    reason: str


class LabourPlaceReserved(LabourEventBase):
    type: Literal["LabourPlaceReserved"] = "LabourPlaceReserved"
    employer_id: str
    industry: Industry
    region: Region
    project: str | None
    year: int
    capacity: int


class LabourPlaceReleased(LabourEventBase):
    type: Literal["LabourPlaceReleased"] = "LabourPlaceReleased"
    industry: Industry
    region: Region
    project: str | None
    year: int
    reason: str


class WorkerCheckCompleted(LabourEventBase):
    type: Literal["WorkerCheckCompleted"] = "WorkerCheckCompleted"
    authority: LabourAuthority
    outcome: GateOutcome
    reason: str


class WorkPermitIssued(LabourEventBase):
    type: Literal["WorkPermitIssued"] = "WorkPermitIssued"
    number: str
    valid_from: date
    valid_until: date


class ObligationsReviewed(LabourEventBase):
    type: Literal["ObligationsReviewed"] = "ObligationsReviewed"
    on: date
    paid_monthly_wage_tiyn: int
    address_registered: bool


class EmploymentEnded(LabourEventBase):
    type: Literal["EmploymentEnded"] = "EmploymentEnded"
    ended_on: date
    notified_on: date | None
    source: Literal["registry", "staff"]


class ViolationFound(LabourEventBase):
    type: Literal["ViolationFound"] = "ViolationFound"
    violations: tuple[Violation, ...]
    detail: PlainText
    found_by: str  # "review" or the inspecting officer's staff id


class EmployerLiabilityImposed(LabourEventBase):
    type: Literal["EmployerLiabilityImposed"] = "EmployerLiabilityImposed"
    employer_id: str
    fine_tiyn: int
    quota_rights_suspended_until: date
    violations: tuple[Violation, ...]


class WorkerLiabilityImposed(LabourEventBase):
    type: Literal["WorkerLiabilityImposed"] = "WorkerLiabilityImposed"
    permit_number: str
    permit_revoked: bool
    exit_by: date


class LabourRequestClosed(LabourEventBase):
    type: Literal["LabourRequestClosed"] = "LabourRequestClosed"
    reason: LabourCloseReason
    detail: str


LabourEvent = Annotated[
    LabourRequestSubmitted
    | ShortageConfirmed
    | LabourRequestRefused
    | LabourPlaceReserved
    | LabourPlaceReleased
    | WorkerCheckCompleted
    | WorkPermitIssued
    | ObligationsReviewed
    | EmploymentEnded
    | ViolationFound
    | EmployerLiabilityImposed
    | WorkerLiabilityImposed
    | LabourRequestClosed,
    Field(discriminator="type"),
]
LABOUR_EVENT_ADAPTER: TypeAdapter[LabourEvent] = TypeAdapter(LabourEvent)
LABOUR_EVENT_TYPES = frozenset(
    t.model_fields["type"].default
    for t in (
        LabourRequestSubmitted,
        ShortageConfirmed,
        LabourRequestRefused,
        LabourPlaceReserved,
        LabourPlaceReleased,
        WorkerCheckCompleted,
        WorkPermitIssued,
        ObligationsReviewed,
        EmploymentEnded,
        ViolationFound,
        EmployerLiabilityImposed,
        WorkerLiabilityImposed,
        LabourRequestClosed,
    )
)


# --- the request's state: the fold of its events -------------------------------------------


class LabourState(Model):
    request_id: str | None = None
    request: EmployerRequest | None = None
    policy_id: str | None = None
    stage: LabourStage = "new"
    regional_average_wage_tiyn: int | None = None
    quota_year: int | None = None
    checks: dict[str, GateOutcome] = Field(default_factory=dict)
    permit_number: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    reviews: int = 0
    violations: tuple[Violation, ...] = ()
    fine_tiyn: int = 0
    quota_rights_suspended_until: date | None = None
    exit_by: date | None = None
    ended_on: date | None = None
    refused_rule: str | None = None
    closed_reason: LabourCloseReason | None = None
    closed_detail: str = ""

    @property
    def holds_place(self) -> bool:
        return self.quota_year is not None


def evolve_labour(state: LabourState, event: LabourEvent) -> LabourState:
    """The state after one event (a pure function: replaying the stream rebuilds it)."""
    u: dict[str, object]
    match event:
        case LabourRequestSubmitted():
            u = {
                "request_id": event.request_id,
                "request": event.request,
                "policy_id": event.policy_id,
                "stage": "shortage",
            }
        case ShortageConfirmed():
            u = {"regional_average_wage_tiyn": event.regional_average_wage_tiyn, "stage": "quota"}
        case LabourRequestRefused():
            u = {"refused_rule": event.rule}
        case LabourPlaceReserved():
            u = {"quota_year": event.year, "stage": "checks"}
        case LabourPlaceReleased():
            u = {"quota_year": None}
        case WorkerCheckCompleted():
            u = {"checks": {**state.checks, event.authority: event.outcome}}
        case WorkPermitIssued():
            u = {
                "permit_number": event.number,
                "valid_from": event.valid_from,
                "valid_until": event.valid_until,
                "stage": "permit",
            }
        case ObligationsReviewed():
            u = {"reviews": state.reviews + 1}
        case EmploymentEnded():
            u = {"ended_on": event.ended_on}
        case ViolationFound():
            u = {"violations": tuple(dict.fromkeys((*state.violations, *event.violations)))}
        case EmployerLiabilityImposed():
            u = {
                "fine_tiyn": state.fine_tiyn + event.fine_tiyn,
                "quota_rights_suspended_until": event.quota_rights_suspended_until,
            }
        case WorkerLiabilityImposed():
            u = {"exit_by": event.exit_by}
        case LabourRequestClosed():
            u = {"stage": "closed", "closed_reason": event.reason, "closed_detail": event.detail}
        case _:  # pragma: no cover - the union is closed
            raise TypeError(f"unknown labour event {type(event).__name__}")
    return state.model_copy(update=u)


def fold_labour(events: Iterable[LabourEvent], state: LabourState | None = None) -> LabourState:
    state = state or LabourState()
    for event in events:
        state = evolve_labour(state, event)
    return state
