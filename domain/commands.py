"""Commands: what someone (the workflow, staff, an adapter's answer) asks the case to do."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from domain.application import Application
from domain.events import Authority, SupportMeasure
from domain.model import Model
from domain.regions import Region
from domain.scoring import GateOutcome


class SubmitApplication(Model):
    kind: Literal["SubmitApplication"] = "SubmitApplication"
    case_id: str = Field(min_length=1, max_length=100)
    application: Application


class RecordDocumentCheck(Model):
    kind: Literal["RecordDocumentCheck"] = "RecordDocumentCheck"
    authentic: bool
    reasons: tuple[str, ...] = ()


class RecordLanguageAttempt(Model):
    kind: Literal["RecordLanguageAttempt"] = "RecordLanguageAttempt"
    attempt: int = Field(ge=1)
    section_percent: dict[str, Annotated[int, Field(ge=0, le=100)]]


class ScoreQuestionnaire(Model):
    kind: Literal["ScoreQuestionnaire"] = "ScoreQuestionnaire"


class RequestAuthorityCheck(Model):
    kind: Literal["RequestAuthorityCheck"] = "RequestAuthorityCheck"
    authority: Authority
    reference: str = Field(min_length=1, max_length=100)


class RecordAuthorityCheck(Model):
    kind: Literal["RecordAuthorityCheck"] = "RecordAuthorityCheck"
    authority: Authority
    outcome: GateOutcome
    reason: str
    # The reference the authority gave when it accepted the request (None: answered at once).
    reference: str | None = None


class MarkAuthorityOverdue(Model):
    kind: Literal["MarkAuthorityOverdue"] = "MarkAuthorityOverdue"
    authority: Authority


class EscalateInterview(Model):
    kind: Literal["EscalateInterview"] = "EscalateInterview"
    deadline: date


class RecordInterview(Model):
    kind: Literal["RecordInterview"] = "RecordInterview"
    interviewer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    passed: bool
    points: int = Field(ge=0)
    notes: str = Field(default="", max_length=2000)


class MarkInterviewMissed(Model):
    kind: Literal["MarkInterviewMissed"] = "MarkInterviewMissed"
    deadline: AwareDatetime


class ComputeScore(Model):
    kind: Literal["ComputeScore"] = "ComputeScore"


class ResolveReferral(Model):
    kind: Literal["ResolveReferral"] = "ResolveReferral"
    officer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    approve: bool
    reason: str = Field(min_length=1, max_length=2000)


class IssuePermit(Model):
    kind: Literal["IssuePermit"] = "IssuePermit"
    permit_number: str = Field(min_length=1)


class GrantKandasStatus(Model):
    kind: Literal["GrantKandasStatus"] = "GrantKandasStatus"
    certificate_number: str = Field(min_length=1)


class ReserveQuotaPlace(Model):
    kind: Literal["ReserveQuotaPlace"] = "ReserveQuotaPlace"
    region: Region
    year: int


class GiveUpSupport(Model):
    kind: Literal["GiveUpSupport"] = "GiveUpSupport"
    regions_tried: tuple[Region, ...]


class RecordArrival(Model):
    kind: Literal["RecordArrival"] = "RecordArrival"
    region: Region
    arrived_on: date | None = None


class LapseRelocation(Model):
    kind: Literal["LapseRelocation"] = "LapseRelocation"


class SignSocialContract(Model):
    kind: Literal["SignSocialContract"] = "SignSocialContract"


class RecordSupportPayment(Model):
    kind: Literal["RecordSupportPayment"] = "RecordSupportPayment"
    measure: SupportMeasure
    period: str
    amount_tiyn: int = Field(gt=0)
    idempotency_key: str
    payment_reference: str


class RecordResidenceCheck(Model):
    kind: Literal["RecordResidenceCheck"] = "RecordResidenceCheck"
    reported_region: Region | None
    checked_on: date


class RecordMove(Model):
    kind: Literal["RecordMove"] = "RecordMove"
    new_region: Region | None = None
    moved_on: date | None = None


class RecordRepayment(Model):
    kind: Literal["RecordRepayment"] = "RecordRepayment"
    amount_tiyn: int = Field(gt=0)
    reference: str = Field(min_length=1, max_length=100)


class ReferRepayment(Model):
    kind: Literal["ReferRepayment"] = "ReferRepayment"


class FulfilContract(Model):
    kind: Literal["FulfilContract"] = "FulfilContract"


class RecordRescreening(Model):
    kind: Literal["RecordRescreening"] = "RecordRescreening"
    outcome: GateOutcome
    reason: str


class RecordDeparture(Model):
    kind: Literal["RecordDeparture"] = "RecordDeparture"
    departed_on: date | None = None
    source: Literal["border", "staff"] = "staff"


class EndPermitTerm(Model):
    kind: Literal["EndPermitTerm"] = "EndPermitTerm"


class Withdraw(Model):
    kind: Literal["Withdraw"] = "Withdraw"
    reason: str = Field(default="withdrawn by the applicant", max_length=2000)


class RecordDeath(Model):
    kind: Literal["RecordDeath"] = "RecordDeath"
    died_on: date | None = None


class RecordCitizenship(Model):
    kind: Literal["RecordCitizenship"] = "RecordCitizenship"
    granted_on: date | None = None


class RevokePermit(Model):
    kind: Literal["RevokePermit"] = "RevokePermit"
    reason: str = Field(min_length=1, max_length=2000)


class RecordInvoice(Model):
    kind: Literal["RecordInvoice"] = "RecordInvoice"
    invoice: str = Field(min_length=1, max_length=100)


Command = Annotated[
    SubmitApplication
    | RecordDocumentCheck
    | RecordLanguageAttempt
    | ScoreQuestionnaire
    | RequestAuthorityCheck
    | RecordAuthorityCheck
    | MarkAuthorityOverdue
    | EscalateInterview
    | RecordInterview
    | MarkInterviewMissed
    | ComputeScore
    | ResolveReferral
    | IssuePermit
    | GrantKandasStatus
    | ReserveQuotaPlace
    | GiveUpSupport
    | RecordArrival
    | LapseRelocation
    | SignSocialContract
    | RecordSupportPayment
    | RecordResidenceCheck
    | RecordMove
    | RecordInvoice
    | RecordRepayment
    | ReferRepayment
    | FulfilContract
    | RecordRescreening
    | RecordDeparture
    | EndPermitTerm
    | Withdraw
    | RecordDeath
    | RecordCitizenship
    | RevokePermit,
    Field(discriminator="kind"),
]
