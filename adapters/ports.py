"""The outside parties kosh talks to, as small Protocols (simulators and HTTP clients).

Errors: `TransientAdapterError` means "try again later" (Temporal retries the activity);
`RejectedRequestError` means the request itself is invalid and retrying cannot help.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Literal, Protocol

from pydantic import Field

from domain.application import Application
from domain.events import Authority
from domain.labour import EmploymentReport, VacancyRecord, Worker
from domain.model import Model
from domain.regions import Region
from domain.scoring import GateOutcome


class AdapterError(Exception):
    """Base of adapter failures."""


class TransientAdapterError(AdapterError):
    """Timeout, 5xx, connection refused: retryable."""


class RejectedRequestError(AdapterError):
    """The service refused the request as invalid (a 4xx that is not 'already done')."""


class DocumentVerdict(Model):
    authentic: bool
    reasons: tuple[str, ...] = ()


class LanguageAttemptResult(Model):
    attempt: int
    section_percent: dict[str, int]
    rules_broken: bool = False  # the centre ended the sitting: the applicant broke its rules


class AuthorityReply(Model):
    outcome: GateOutcome
    reason: str


class AuthorityAnswer(AuthorityReply):
    """A reply that arrives later, naming the request it answers."""

    case_id: str
    authority: Authority
    reference: str


KandasStepKind = Literal["granted", "preliminary_refusal", "hearing", "extended", "refused"]


class KandasStep(Model):
    """One step the local executive body took on a kandas status request, dated."""

    kind: KandasStepKind
    on: date
    certificate_number: str | None = None  # granted
    reason: str = ""  # preliminary_refusal, extended, refused
    until: date | None = None  # extended


class RegistrationNotice(Model):
    """The address registry's notice that a watched family registered in a region."""

    case_id: str
    region: Region
    reference: str


class RepaymentNotice(Model):
    """The treasury's notice that money came in against a repayment invoice."""

    case_id: str
    invoice: str
    amount_tiyn: int
    reference: str


AgencyMessage = AuthorityAnswer | RegistrationNotice | RepaymentNotice
# Where outside parties' later messages go (the composition root signals the case with them).
ReplySink = Callable[[AgencyMessage], Awaitable[None]]


# The payee of the family's own support; an employer's subsidy names the employer instead.
FAMILY = "family"


class PaymentReceipt(Model):
    reference: str
    duplicate: bool = False


class StaffNotice(Model):
    case_id: str
    kind: Literal[
        "interview_due",
        "interview_reminder",
        "interview_overdue",
        "interview_escalated",
        "authority_overdue",
        "arrival_due",
        "referral_due",
        "referral_overdue",
        "repayment_due",
        "discrepancy_found",
        "kandas_decision_overdue",
        "kandas_status_refused",
        "kandas_step_refused",
        "procedure_at_risk",
        "procedure_exceeded",
        "exit_flagged",
        "candidacy_lodged",
        "allocation_not_reached",
        "general_track",
    ]
    message: str


class DocumentRegistry(Protocol):
    async def verify(self, *, case_id: str, application: Application) -> DocumentVerdict:
        """Authenticity and forgery signals for the applicant's documents."""
        ...


class LanguageTestCentre(Protocol):
    async def sit_test(
        self, *, case_id: str, application: Application, attempt: int
    ) -> LanguageAttemptResult:
        """Result of one KAZTEST attempt."""
        ...


class CompetentAuthorities(Protocol):
    async def check(
        self, *, case_id: str, application: Application, authority: str
    ) -> AuthorityReply:
        """One authority's verdict at once (periodic re-screening)."""
        ...

    async def request(
        self, *, case_id: str, application: Application, authority: str, request_key: str
    ) -> str:
        """Lodge a check and return the authority's reference; the verdict comes later, to
        the reply sink. The same `request_key` returns the same reference, lodging nothing."""
        ...


class AddressRegistry(Protocol):
    async def registered_region(
        self, *, case_id: str, settled_region: Region, settled_on: date, on: date
    ) -> Region | None:
        """Region of the registered address on `on` (None: no registration in Kazakhstan)."""
        ...

    async def watch(self, *, case_id: str, region: Region, request_key: str) -> str:
        """Ask to be told when the family registers an address in `region` (a notice to the
        reply sink); returns the watch's reference, the same for the same `request_key`."""
        ...


class BorderControl(Protocol):
    async def departed_on(self, *, case_id: str, since: date, until: date) -> date | None:
        """Date of a permanent departure between `since` and `until`, if any."""
        ...


class PermitRegistry(Protocol):
    async def issue_permit(self, *, case_id: str) -> str:
        """Issue (or return the already issued) residence permit number."""
        ...


class LocalExecutive(Protocol):
    """The local executive body (akimat) that decides kandas status."""

    async def request_kandas_status(
        self, *, case_id: str, application: Application, requested_on: date, request_key: str
    ) -> str:
        """Lodge the request; returns its reference (the same for the same `request_key`)."""
        ...

    async def kandas_decisions(
        self, *, case_id: str, reference: str, requested_on: date, on: date
    ) -> tuple[KandasStep, ...]:
        """Every step taken on the request up to `on` (case dates), in order."""
        ...


class Payments(Protocol):
    async def disburse(
        self,
        *,
        idempotency_key: str,
        case_id: str,
        amount_tiyn: int,
        purpose: str,
        payee: str = FAMILY,
    ) -> PaymentReceipt:
        """Pay `payee` (the case's family, or an employer by its id) once per idempotency key;
        a repeated key returns the first receipt."""
        ...

    async def invoice(
        self, *, idempotency_key: str, case_id: str, amount_tiyn: int, due_on: date
    ) -> str:
        """Issue (once per key) the invoice a family repays against; the treasury notifies
        each payment received later (a RepaymentNotice to the reply sink)."""
        ...


class LabourAgencies(Protocol):
    """The labour path's outside facts: the domestic labour market (Enbek.kz in life), the
    registries that watch an employment, and the authorities' screening of a foreign worker."""

    async def vacancy(
        self, *, reference: str, employer_id: str, industry: str, region: Region, on: date
    ) -> VacancyRecord | None:
        """The labour market's record of the vacancy as of `on` (None: it has none)."""
        ...

    async def employment(
        self, *, case_id: str, permit_from: date, offered_wage_tiyn: int, on: date
    ) -> EmploymentReport:
        """What the tax, pension and address registries say of the employment on `on`."""
        ...

    async def screen_worker(
        self, *, case_id: str, worker: Worker, authority: str
    ) -> AuthorityReply:
        """One authority's verdict on the worker, at once."""
        ...


class StaffNotifier(Protocol):
    async def notify(self, notice: StaffNotice) -> None:
        """Tell staff something needs them (a task in their queue)."""
        ...


# --- staff assertions (adapters/assertions.py signs and verifies; this is their wire form) ----
ASSERTION_PREFIX = "ka1"


class AssertionClaims(Model):
    """What an assertion says, before anyone has checked that it is true."""

    kid: str = Field(min_length=1, max_length=64)  # the key that signed it
    sub: str = Field(min_length=1, max_length=64)  # the member (or agency feed) who acts
    wf: str = Field(min_length=1, max_length=200)  # the workflow it was issued for
    req: str = Field(min_length=1, max_length=100)  # the request it was issued for
    iat: int  # issued at, Unix seconds
    exp: int  # expires at, Unix seconds


def peek_assertion(token: str) -> AssertionClaims | None:
    """The claims of `ka1.<claims>.<signature>`, unverified (None: not one at all). The
    workflow uses them to refuse early what cannot be right (another case, another request,
    expired); only the verification proves them."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != ASSERTION_PREFIX or len(token) > 2048:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        return AssertionClaims.model_validate_json(raw)
    except (ValueError, binascii.Error):
        return None
