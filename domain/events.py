"""Domain events: past tense, one discriminated union, each stamped with schema and policy.

A stored event type is never renamed. To change a shape, raise `schema_version` and add an
upcaster in domain/upcasting.py so old records still fold into today's state.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter

from domain.application import Application
from domain.event_base import Authority as Authority
from domain.event_base import CloseReason as CloseReason
from domain.event_base import EventBase
from domain.event_base import LeftSource as LeftSource
from domain.event_base import SupportMeasure as SupportMeasure
from domain.events_allocation import AllocationGranted as AllocationGranted
from domain.events_allocation import AllocationNotReached as AllocationNotReached
from domain.events_allocation import CandidacyLodged as CandidacyLodged
from domain.events_allocation import MovedToGeneralTrack as MovedToGeneralTrack
from domain.events_before_permit import KandasDecisionExtended as KandasDecisionExtended
from domain.events_before_permit import KandasDecisionOverdue as KandasDecisionOverdue
from domain.events_before_permit import KandasHearingHeld as KandasHearingHeld
from domain.events_before_permit import (
    KandasStatusPreliminarilyRefused as KandasStatusPreliminarilyRefused,
)
from domain.events_before_permit import KandasStatusRefused as KandasStatusRefused
from domain.events_before_permit import KandasStatusRequested as KandasStatusRequested
from domain.events_before_permit import ProcedureLimitFlagged as ProcedureLimitFlagged
from domain.regions import Region
from domain.scoring import Component, GateOutcome, ScoreBreakdown


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
    # The sitting ended because the applicant broke the test's rules: not passed, the attempt
    # counts (docs/decisions/017), and no sitting again before `banned_until`.
    rules_broken: bool = False
    banned_until: date | None = None


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
    granted_on: date | None = None  # the local executive body's date (None: before 2026-12)


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


class EmploymentRecorded(EventBase):
    """A family member (1 = the applicant) employed in the region by an employer who gives
    them housing: the employer's subsidy falls due on `subsidy_due_on` (docs/decisions/018)."""

    type: Literal["EmploymentRecorded"] = "EmploymentRecorded"
    member: int
    employer_id: str
    started_on: date
    housing_provided: bool
    subsidy_due_on: date


class EmploymentEnded(EventBase):
    """The member's employment ended; before its subsidy fell due, no subsidy is owed."""

    type: Literal["EmploymentEnded"] = "EmploymentEnded"
    member: int
    ended_on: date


class HousingCertificateIssued(EventBase):
    """The family's housing certificate ("economic mobility"): non-repayable, paid once."""

    type: Literal["HousingCertificateIssued"] = "HousingCertificateIssued"
    reference: str
    region: Region
    price_tiyn: int
    amount_tiyn: int


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


class PermitRenewed(EventBase):
    """Permanent residence goes on: the card that proves it is renewed (docs/decisions/019)."""

    type: Literal["PermitRenewed"] = "PermitRenewed"
    permit_number: str
    valid_until: date


class PermitRevoked(EventBase):
    """`fault`: revoked for the holder's fault (a breach under a social contract: the
    support is owed back); records from before the field were all decided as no-fault."""

    type: Literal["PermitRevoked"] = "PermitRevoked"
    reason: str
    fault: bool = False


class CaseClosed(EventBase):
    type: Literal["CaseClosed"] = "CaseClosed"
    reason: CloseReason
    detail: str


class ExitChecked(EventBase):
    """The closed case's last fact: border control asked about crossings from `since` to
    `until` (the closing day). `departed_on`: the departure it confirmed, or None (no exit
    recorded); `flagged`: no exit recorded although the closing left no ground to stay
    (a rejected applicant, a revoked permit, a term ended), for staff to see."""

    type: Literal["ExitChecked"] = "ExitChecked"
    since: date
    until: date
    departed_on: date | None
    flagged: bool


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
    | KandasStatusRequested
    | KandasStatusPreliminarilyRefused
    | KandasHearingHeld
    | KandasDecisionExtended
    | KandasDecisionOverdue
    | KandasStatusRefused
    | ProcedureLimitFlagged
    | QuotaPlaceReserved
    | QuotaPlaceReleased
    | KandasSupportUnavailable
    | CandidacyLodged
    | AllocationGranted
    | AllocationNotReached
    | MovedToGeneralTrack
    | RelocationArrived
    | SocialContractSigned
    | SupportPaid
    | EmploymentRecorded
    | EmploymentEnded
    | HousingCertificateIssued
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
    | PermitRenewed
    | DeathRecorded
    | CitizenshipGranted
    | CaseClosed
    | ExitChecked,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
