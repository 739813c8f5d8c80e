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
    # The version the case takes (the one in force in its region on the day: asked from the
    # record, activities/policies.py); None: the built-in version in force on the day.
    policy_id: str | None = Field(default=None, max_length=50)


class RecordDocumentCheck(Model):
    kind: Literal["RecordDocumentCheck"] = "RecordDocumentCheck"
    authentic: bool
    reasons: tuple[str, ...] = ()


class RecordLanguageAttempt(Model):
    kind: Literal["RecordLanguageAttempt"] = "RecordLanguageAttempt"
    attempt: int = Field(ge=1)
    section_percent: dict[str, Annotated[int, Field(ge=0, le=100)]]
    rules_broken: bool = False  # the test centre ended the sitting for breaking its rules


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
    granted_on: date | None = None  # the local executive body's date (None: today)


class RequestKandasStatus(Model):
    kind: Literal["RequestKandasStatus"] = "RequestKandasStatus"
    reference: str = Field(min_length=1, max_length=100)


class RecordKandasPreliminaryRefusal(Model):
    kind: Literal["RecordKandasPreliminaryRefusal"] = "RecordKandasPreliminaryRefusal"
    reason: str = Field(min_length=1, max_length=2000)
    refused_on: date | None = None


class RecordKandasHearing(Model):
    kind: Literal["RecordKandasHearing"] = "RecordKandasHearing"
    held_on: date | None = None


class ExtendKandasDecision(Model):
    kind: Literal["ExtendKandasDecision"] = "ExtendKandasDecision"
    until: date
    reason: str = Field(min_length=1, max_length=2000)
    extended_on: date | None = None


class MarkKandasDecisionOverdue(Model):
    kind: Literal["MarkKandasDecisionOverdue"] = "MarkKandasDecisionOverdue"


class RefuseKandasStatus(Model):
    kind: Literal["RefuseKandasStatus"] = "RefuseKandasStatus"
    reason: str = Field(min_length=1, max_length=2000)
    refused_on: date | None = None


class FlagProcedureLimit(Model):
    kind: Literal["FlagProcedureLimit"] = "FlagProcedureLimit"


class ReserveQuotaPlace(Model):
    kind: Literal["ReserveQuotaPlace"] = "ReserveQuotaPlace"
    region: Region
    year: int


class GiveUpSupport(Model):
    kind: Literal["GiveUpSupport"] = "GiveUpSupport"
    regions_tried: tuple[Region, ...]


class LodgeCandidacy(Model):
    kind: Literal["LodgeCandidacy"] = "LodgeCandidacy"


class TakeAllocation(Model):
    """A round's word for this case, as the round's record holds it."""

    kind: Literal["TakeAllocation"] = "TakeAllocation"
    round_id: str = Field(min_length=1, max_length=200)
    number: int
    region: Region
    year: int
    rank: int = Field(ge=1)
    offered: bool
    cut_off: int | None = None


class ChooseGeneralTrack(Model):
    """The family gives up waiting for a quota place: the permit stands, without support."""

    kind: Literal["ChooseGeneralTrack"] = "ChooseGeneralTrack"
    reason: str = Field(default="the family chose the general track", max_length=2000)


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


class RecordEmployment(Model):
    """A family member's employment by an employer who gives them housing (an officer records
    the employer's application with its labour contract and housing document)."""

    kind: Literal["RecordEmployment"] = "RecordEmployment"
    member: int = Field(ge=1, le=99)
    employer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    started_on: date
    housing_provided: bool


class EndEmployment(Model):
    kind: Literal["EndEmployment"] = "EndEmployment"
    member: int = Field(ge=1, le=99)
    ended_on: date | None = None


class IssueHousingCertificate(Model):
    """The family's application for the housing certificate: the home's price and region."""

    kind: Literal["IssueHousingCertificate"] = "IssueHousingCertificate"
    reference: str = Field(min_length=1, max_length=100)
    region: Region
    price_tiyn: int = Field(gt=0)


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


class RenewPermit(Model):
    kind: Literal["RenewPermit"] = "RenewPermit"


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
    """`fault`: for the holder's fault (false statements, a security finding, a crime) or
    not (an authority's error, a change of law): under a social contract only a revocation
    for the holder's fault is a breach. Required: the officer must say which."""

    kind: Literal["RevokePermit"] = "RevokePermit"
    reason: str = Field(min_length=1, max_length=2000)
    fault: bool


class RecordExitCheck(Model):
    """Border control's answer about a closed case's crossings from `since` to `until`."""

    kind: Literal["RecordExitCheck"] = "RecordExitCheck"
    since: date
    until: date
    departed_on: date | None = None


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
    | RequestKandasStatus
    | RecordKandasPreliminaryRefusal
    | RecordKandasHearing
    | ExtendKandasDecision
    | MarkKandasDecisionOverdue
    | RefuseKandasStatus
    | FlagProcedureLimit
    | ReserveQuotaPlace
    | GiveUpSupport
    | LodgeCandidacy
    | TakeAllocation
    | ChooseGeneralTrack
    | RecordArrival
    | LapseRelocation
    | SignSocialContract
    | RecordSupportPayment
    | RecordEmployment
    | EndEmployment
    | IssueHousingCertificate
    | RecordResidenceCheck
    | RecordMove
    | RecordInvoice
    | RecordRepayment
    | ReferRepayment
    | FulfilContract
    | RecordRescreening
    | RecordDeparture
    | RenewPermit
    | Withdraw
    | RecordDeath
    | RecordCitizenship
    | RevokePermit
    | RecordExitCheck,
    Field(discriminator="kind"),
]
