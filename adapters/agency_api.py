"""The wire contract between kosh and the outside agencies (docs/agencies-api.md).

Request and response bodies, shared by the HTTP clients (adapters/http.py) and the
simulator that serves them (adapters/sim_server.py), so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from adapters.ports import KandasStep
from domain.application import Application
from domain.labour import EmploymentReport, Industry, VacancyRecord, Worker
from domain.model import Model
from domain.regions import Region
from domain.scoring import GateOutcome

Authority = Literal["security", "criminal_record", "deportation", "citizenship_consent"]

# Paths (POST unless noted). {authority} is one of Authority.
DOCUMENTS = "/documents/verifications"
KAZTEST = "/kaztest/attempts"
AUTHORITY_CHECKS = "/authorities/{authority}/checks"  # async: 202, the verdict by callback
AUTHORITY_SCREENINGS = "/authorities/{authority}/screenings"  # sync re-screening
ADDRESS_LOOKUP = "/address/registrations/lookup"
ADDRESS_WATCHES = "/address/watches"  # async: a registration notice by callback
BORDER_DEPARTURES = "/border/departures/lookup"
PERMITS = "/migration/permits"
KANDAS_REQUESTS = "/akimat/kandas-status/requests"  # 202 reference; decided in working days
KANDAS_DECISIONS = "/akimat/kandas-status/decisions/lookup"  # the steps taken up to a date
DISBURSEMENTS = "/treasury/disbursements"
INVOICES = "/treasury/repayment-invoices"  # async: each repayment received by callback
LEDGER = "/treasury/ledger"  # GET: every payment made (for reconciliation)
VACANCIES = "/labour-market/vacancies/lookup"
EMPLOYMENTS = "/labour-market/employments/lookup"
WORKER_SCREENINGS = "/authorities/{authority}/worker-screenings"

IDEMPOTENCY_HEADER = "Idempotency-Key"


class CaseBody(Model):
    case_id: str = Field(min_length=1, max_length=100)


class ApplicantBody(CaseBody):
    application: Application


class AttemptBody(ApplicantBody):
    attempt: int = Field(ge=1, le=10)


class CallbackBody(ApplicantBody):
    callback_url: str = Field(min_length=1, max_length=500)


class KandasRequestBody(ApplicantBody):
    requested_on: date


class KandasLookupBody(CaseBody):
    reference: str = Field(min_length=1, max_length=100)
    requested_on: date
    on: date


class WatchBody(CaseBody):
    region: Region
    callback_url: str = Field(min_length=1, max_length=500)


class LookupBody(CaseBody):
    settled_region: Region
    settled_on: date
    on: date


class DeparturesBody(CaseBody):
    since: date
    until: date


class DisburseBody(CaseBody):
    amount_tiyn: int = Field(gt=0)
    purpose: str = Field(min_length=1, max_length=100)
    payee: str = Field(default="family", min_length=1, max_length=64)  # or an employer's id


class InvoiceBody(CaseBody):
    amount_tiyn: int = Field(gt=0)
    due_on: date
    callback_url: str = Field(min_length=1, max_length=500)


class VacancyBody(Model):
    reference: str = Field(min_length=1, max_length=64)
    employer_id: str = Field(min_length=1, max_length=64)
    industry: Industry
    region: Region
    on: date


class VacancyOut(Model):
    vacancy: VacancyRecord | None


class EmploymentBody(CaseBody):
    permit_from: date
    offered_wage_tiyn: int = Field(gt=0)
    on: date


class EmploymentOut(Model):
    report: EmploymentReport


class WorkerBody(CaseBody):
    worker: Worker


class DocumentVerdictOut(Model):
    authentic: bool
    reasons: tuple[str, ...] = ()


class AttemptOut(Model):
    attempt: int
    section_percent: dict[str, int]
    rules_broken: bool = False


class KandasStepsOut(Model):
    steps: tuple[KandasStep, ...]


class VerdictOut(Model):
    outcome: GateOutcome
    reason: str


class AcceptedOut(Model):
    reference: str


class RegionOut(Model):
    region: Region | None


class DepartureOut(Model):
    departed_on: date | None


class NumberOut(Model):
    number: str


class ReceiptOut(Model):
    reference: str
    duplicate: bool = False


class LedgerEntry(Model):
    idempotency_key: str
    case_id: str
    amount_tiyn: int
    reference: str
    purpose: str = ""
    payee: str = "family"


class LedgerOut(Model):
    payments: tuple[LedgerEntry, ...]


class ProblemOut(Model):
    """Every error body: what went wrong, and whether trying again can help."""

    error: str
    detail: str
    retryable: bool


# Callbacks from the agencies to kosh (POSTed to the request's callback_url).
class AuthorityReplyCallback(Model):
    kind: Literal["authority_reply"] = "authority_reply"
    case_id: str
    authority: Authority
    reference: str
    outcome: GateOutcome
    reason: str = Field(min_length=1, max_length=500)


class RepaymentCallback(Model):
    kind: Literal["repayment"] = "repayment"
    case_id: str
    invoice: str
    amount_tiyn: int = Field(gt=0)
    reference: str = Field(min_length=1, max_length=100)


class RegistrationCallback(Model):
    kind: Literal["registration"] = "registration"
    case_id: str
    region: Region
    reference: str
