"""Domain events: past tense, one discriminated union, each stamped with schema and policy.

A stored event type is never renamed. To change a shape, raise `schema_version` and add an
upcaster in domain/upcasting.py so old records still fold into today's state.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter

from domain.application import Application
from domain.model import Model
from domain.regions import Region
from domain.scoring import Component, GateOutcome, ScoreBreakdown

CloseReason = Literal[
    "withdrawn",
    "rejected",
    "fulfilled",
    "breach_repaid",
    "breach_referred",
    "departed",
    "revoked",
    "permit_term_ended",
    "relocation_lapsed",
    "died",
    "citizenship_granted",
]
SupportMeasure = Literal["relocation_subsidy", "rent"]
Authority = Literal["security", "criminal_record", "deportation"]
LeftSource = Literal["registry", "staff", "border"]


class EventBase(Model):
    schema_version: int = 1
    policy_id: str
    at: AwareDatetime = Field(description="case time at which the fact happened")


class ApplicationSubmitted(EventBase):
    type: Literal["ApplicationSubmitted"] = "ApplicationSubmitted"
    case_id: str
    application: Application


class DocumentsVerified(EventBase):
    type: Literal["DocumentsVerified"] = "DocumentsVerified"


class DocumentsRejected(EventBase):
    type: Literal["DocumentsRejected"] = "DocumentsRejected"
    reasons: tuple[str, ...]


class LanguageTestScored(EventBase):
    type: Literal["LanguageTestScored"] = "LanguageTestScored"
    attempt: int
    section_percent: dict[str, int]
    passed: bool


class QuestionnaireScored(EventBase):
    type: Literal["QuestionnaireScored"] = "QuestionnaireScored"
    components: tuple[Component, ...]
    points: int


class SecurityCheckCompleted(EventBase):
    type: Literal["SecurityCheckCompleted"] = "SecurityCheckCompleted"
    authority: Authority
    outcome: GateOutcome
    reason: str


class AuthorityCheckRequested(EventBase):
    """A competent authority accepted the request; its reply is due by `due_on`."""

    type: Literal["AuthorityCheckRequested"] = "AuthorityCheckRequested"
    authority: Authority
    reference: str
    due_on: date


class AuthorityCheckOverdue(EventBase):
    """No reply by the due date: the check counts as a referral until a reply arrives."""

    type: Literal["AuthorityCheckOverdue"] = "AuthorityCheckOverdue"
    authority: Authority
    due_on: date


class InterviewEscalated(EventBase):
    """The interview deadline passed: a supervisor has until `until` to have it held."""

    type: Literal["InterviewEscalated"] = "InterviewEscalated"
    deadline: date
    until: date


class InterviewRecorded(EventBase):
    type: Literal["InterviewRecorded"] = "InterviewRecorded"
    interviewer_id: str
    passed: bool
    points: int
    notes: str = ""


class InterviewMissed(EventBase):
    type: Literal["InterviewMissed"] = "InterviewMissed"
    deadline: AwareDatetime


class ScoreComputed(EventBase):
    type: Literal["ScoreComputed"] = "ScoreComputed"
    breakdown: ScoreBreakdown


class ReferralResolved(EventBase):
    type: Literal["ReferralResolved"] = "ReferralResolved"
    officer_id: str
    approve: bool
    reason: str


class PermitIssued(EventBase):
    type: Literal["PermitIssued"] = "PermitIssued"
    permit_number: str
    valid_until: date


class KandasStatusGranted(EventBase):
    type: Literal["KandasStatusGranted"] = "KandasStatusGranted"
    certificate_number: str


class QuotaPlaceReserved(EventBase):
    type: Literal["QuotaPlaceReserved"] = "QuotaPlaceReserved"
    region: Region
    year: int
    capacity: int


class QuotaPlaceReleased(EventBase):
    type: Literal["QuotaPlaceReleased"] = "QuotaPlaceReleased"
    region: Region
    year: int
    reason: str


class KandasSupportUnavailable(EventBase):
    """No quota place in any preferred region: the permit stands, without state support."""

    type: Literal["KandasSupportUnavailable"] = "KandasSupportUnavailable"
    regions_tried: tuple[Region, ...]


class RelocationArrived(EventBase):
    type: Literal["RelocationArrived"] = "RelocationArrived"
    region: Region
    arrived_on: date


class SocialContractSigned(EventBase):
    type: Literal["SocialContractSigned"] = "SocialContractSigned"
    region: Region
    starts_on: date
    ends_on: date
    family_size: int


class SupportPaid(EventBase):
    """v2 holds the amount in tiyn; v1 held whole tenge (upcast in domain/upcasting.py)."""

    schema_version: Literal[2] = 2
    type: Literal["SupportPaid"] = "SupportPaid"
    measure: SupportMeasure
    period: str
    amount_tiyn: int
    idempotency_key: str
    payment_reference: str


class ResidenceConfirmed(EventBase):
    type: Literal["ResidenceConfirmed"] = "ResidenceConfirmed"
    region: Region
    checked_on: date


class ResidenceDiscrepancyFound(EventBase):
    type: Literal["ResidenceDiscrepancyFound"] = "ResidenceDiscrepancyFound"
    reported_region: Region | None = Field(description="None: the registry found no address")
    checked_on: date
    confirm_on: date


class RegionLeft(EventBase):
    type: Literal["RegionLeft"] = "RegionLeft"
    new_region: Region | None
    left_on: date
    source: LeftSource


class RepaymentDemanded(EventBase):
    type: Literal["RepaymentDemanded"] = "RepaymentDemanded"
    amount_tiyn: int
    due_on: date
    rule: str


class RepaymentInvoiced(EventBase):
    """The treasury issued the invoice the family repays against."""

    type: Literal["RepaymentInvoiced"] = "RepaymentInvoiced"
    invoice: str
    amount_tiyn: int
    due_on: date


class RepaymentReceived(EventBase):
    type: Literal["RepaymentReceived"] = "RepaymentReceived"
    amount_tiyn: int
    reference: str


class RepaymentReferred(EventBase):
    type: Literal["RepaymentReferred"] = "RepaymentReferred"
    outstanding_tiyn: int


class ContractFulfilled(EventBase):
    type: Literal["ContractFulfilled"] = "ContractFulfilled"
    ended_on: date


class RescreeningCompleted(EventBase):
    type: Literal["RescreeningCompleted"] = "RescreeningCompleted"
    outcome: GateOutcome
    reason: str


class DepartureRecorded(EventBase):
    type: Literal["DepartureRecorded"] = "DepartureRecorded"
    departed_on: date
    source: Literal["border", "staff"]


class DeathRecorded(EventBase):
    type: Literal["DeathRecorded"] = "DeathRecorded"
    died_on: date


class CitizenshipGranted(EventBase):
    type: Literal["CitizenshipGranted"] = "CitizenshipGranted"
    granted_on: date


class PermitRevoked(EventBase):
    type: Literal["PermitRevoked"] = "PermitRevoked"
    reason: str


class CaseClosed(EventBase):
    type: Literal["CaseClosed"] = "CaseClosed"
    reason: CloseReason
    detail: str


Event = Annotated[
    ApplicationSubmitted
    | DocumentsVerified
    | DocumentsRejected
    | LanguageTestScored
    | QuestionnaireScored
    | SecurityCheckCompleted
    | AuthorityCheckRequested
    | AuthorityCheckOverdue
    | InterviewEscalated
    | InterviewRecorded
    | InterviewMissed
    | ScoreComputed
    | ReferralResolved
    | PermitIssued
    | KandasStatusGranted
    | QuotaPlaceReserved
    | QuotaPlaceReleased
    | KandasSupportUnavailable
    | RelocationArrived
    | SocialContractSigned
    | SupportPaid
    | ResidenceConfirmed
    | ResidenceDiscrepancyFound
    | RegionLeft
    | RepaymentDemanded
    | RepaymentInvoiced
    | RepaymentReceived
    | RepaymentReferred
    | ContractFulfilled
    | RescreeningCompleted
    | DepartureRecorded
    | PermitRevoked
    | DeathRecorded
    | CitizenshipGranted
    | CaseClosed,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
