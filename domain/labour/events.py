"""A labour request's events (stream `labour-<request id>` in the record): past tense, one
discriminated union, each stamped with schema and policy, as the case's events are."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter

from domain.labour.model import (
    EmployerRequest,
    GateOutcome,
    Industry,
    LabourAuthority,
    LabourCloseReason,
    Violation,
)
from domain.model import Model
from domain.regions import Region
from domain.text import PlainText


class LabourEventBase(Model):
    schema_version: int = 1
    policy_id: str
    at: AwareDatetime = Field(description="case time at which the fact happened")


class LabourRequestSubmitted(LabourEventBase):
    """v2 records the employer's keyed id (model.employer_key); a v1 event, from before the
    key, reads with an empty one (it is shown as unknown, never recomputed unkeyed)."""

    type: Literal["LabourRequestSubmitted"] = "LabourRequestSubmitted"
    schema_version: int = 2
    request_id: str
    request: EmployerRequest
    employer_key: str = ""


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
