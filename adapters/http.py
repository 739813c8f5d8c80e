"""HTTP clients for the outside agencies (httpx, async), one class for all the ports.

Error mapping, the whole of it: a timeout, a connection failure or a 5xx is
`TransientAdapterError` (the activity fails and Temporal retries it with backoff); a 409 is
"already done" and its body is the first answer (success); any other 4xx means the request
itself is wrong and is `RejectedRequestError` (non-retryable). Every state-changing call
carries an Idempotency-Key, so a retry after a lost answer changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from adapters import agency_api as wire
from adapters.ports import (
    FAMILY,
    AuthorityReply,
    DocumentVerdict,
    KandasStep,
    LanguageAttemptResult,
    PaymentReceipt,
    RejectedRequestError,
    TransientAdapterError,
)
from domain.application import Application
from domain.labour import EmploymentReport, VacancyRecord, Worker
from domain.regions import Region

Out = TypeVar("Out", bound=BaseModel)
Body = TypeVar("Body", bound=BaseModel)


@dataclass(frozen=True)
class AgencySettings:
    base_url: str
    token: str | None = None
    timeout_seconds: float = 10.0
    # Where agencies send later answers (kosh's callback receiver, adapters/callbacks.py).
    callback_url: str = ""


class HttpAgencies:
    """Every outside agency over HTTP: the ports of adapters/ports.py except staff notices."""

    def __init__(self, settings: AgencySettings, *, client: httpx.AsyncClient | None = None):
        self.settings = settings
        headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else {}
        self.http = client or httpx.AsyncClient(
            base_url=settings.base_url, timeout=settings.timeout_seconds, headers=headers
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(
        self, path: str, body: BaseModel, out: type[Out], *, key: str | None = None
    ) -> Out:
        headers = {wire.IDEMPOTENCY_HEADER: key} if key else {}
        try:
            answer = await self.http.post(path, content=body.model_dump_json(), headers=headers)
        except httpx.TimeoutException as exc:
            raise TransientAdapterError(f"{path}: no answer in time") from exc
        except httpx.HTTPError as exc:  # connection refused or reset, protocol errors
            raise TransientAdapterError(f"{path}: {type(exc).__name__}: {exc}") from exc
        return _read(path, answer, out)

    # ---- documents, language, authorities -------------------------------------------------
    async def verify(self, *, case_id: str, application: Application) -> DocumentVerdict:
        body = _wire(wire.ApplicantBody, case_id=case_id, application=application)
        out = await self._call(wire.DOCUMENTS, body, wire.DocumentVerdictOut)
        return DocumentVerdict(authentic=out.authentic, reasons=out.reasons)

    async def sit_test(
        self, *, case_id: str, application: Application, attempt: int
    ) -> LanguageAttemptResult:
        body = _wire(wire.AttemptBody, case_id=case_id, application=application, attempt=attempt)
        out = await self._call(wire.KAZTEST, body, wire.AttemptOut)
        return LanguageAttemptResult(
            attempt=out.attempt, section_percent=out.section_percent, rules_broken=out.rules_broken
        )

    async def check(
        self, *, case_id: str, application: Application, authority: str
    ) -> AuthorityReply:
        path = wire.AUTHORITY_SCREENINGS.format(authority=authority)
        body = _wire(wire.ApplicantBody, case_id=case_id, application=application)
        out = await self._call(path, body, wire.VerdictOut)
        return AuthorityReply(outcome=out.outcome, reason=out.reason)

    async def request(
        self, *, case_id: str, application: Application, authority: str, request_key: str
    ) -> str:
        path = wire.AUTHORITY_CHECKS.format(authority=authority)
        body = _wire(
            wire.CallbackBody,
            case_id=case_id,
            application=application,
            callback_url=self._callback_url(),
        )
        return (await self._call(path, body, wire.AcceptedOut, key=request_key)).reference

    # ---- registries -----------------------------------------------------------------------
    async def registered_region(
        self, *, case_id: str, settled_region: Region, settled_on: date, on: date
    ) -> Region | None:
        body = _wire(
            wire.LookupBody,
            case_id=case_id,
            settled_region=settled_region,
            settled_on=settled_on,
            on=on,
        )
        return (await self._call(wire.ADDRESS_LOOKUP, body, wire.RegionOut)).region

    async def watch(self, *, case_id: str, region: Region, request_key: str) -> str:
        body = _wire(
            wire.WatchBody, case_id=case_id, region=region, callback_url=self._callback_url()
        )
        return (
            await self._call(wire.ADDRESS_WATCHES, body, wire.AcceptedOut, key=request_key)
        ).reference

    async def departed_on(self, *, case_id: str, since: date, until: date) -> date | None:
        body = _wire(wire.DeparturesBody, case_id=case_id, since=since, until=until)
        return (await self._call(wire.BORDER_DEPARTURES, body, wire.DepartureOut)).departed_on

    async def issue_permit(self, *, case_id: str) -> str:
        body = _wire(wire.CaseBody, case_id=case_id)
        out = await self._call(wire.PERMITS, body, wire.NumberOut, key=f"{case_id}:permit")
        return out.number

    # ---- the local executive body ----------------------------------------------------------
    async def request_kandas_status(
        self, *, case_id: str, application: Application, requested_on: date, request_key: str
    ) -> str:
        body = _wire(
            wire.KandasRequestBody,
            case_id=case_id,
            application=application,
            requested_on=requested_on,
        )
        out = await self._call(wire.KANDAS_REQUESTS, body, wire.AcceptedOut, key=request_key)
        return out.reference

    async def kandas_decisions(
        self, *, case_id: str, reference: str, requested_on: date, on: date
    ) -> tuple[KandasStep, ...]:
        body = _wire(
            wire.KandasLookupBody,
            case_id=case_id,
            reference=reference,
            requested_on=requested_on,
            on=on,
        )
        return (await self._call(wire.KANDAS_DECISIONS, body, wire.KandasStepsOut)).steps

    # ---- the labour market ----------------------------------------------------------------
    async def vacancy(
        self, *, reference: str, employer_id: str, industry: str, region: Region, on: date
    ) -> VacancyRecord | None:
        body = _wire(
            wire.VacancyBody,
            reference=reference,
            employer_id=employer_id,
            industry=industry,
            region=region,
            on=on,
        )
        return (await self._call(wire.VACANCIES, body, wire.VacancyOut)).vacancy

    async def employment(
        self, *, case_id: str, permit_from: date, offered_wage_tiyn: int, on: date
    ) -> EmploymentReport:
        body = _wire(
            wire.EmploymentBody,
            case_id=case_id,
            permit_from=permit_from,
            offered_wage_tiyn=offered_wage_tiyn,
            on=on,
        )
        return (await self._call(wire.EMPLOYMENTS, body, wire.EmploymentOut)).report

    async def screen_worker(
        self, *, case_id: str, worker: Worker, authority: str
    ) -> AuthorityReply:
        path = wire.WORKER_SCREENINGS.format(authority=authority)
        body = _wire(wire.WorkerBody, case_id=case_id, worker=worker)
        out = await self._call(path, body, wire.VerdictOut)
        return AuthorityReply(outcome=out.outcome, reason=out.reason)

    # ---- the treasury ---------------------------------------------------------------------
    async def disburse(
        self,
        *,
        idempotency_key: str,
        case_id: str,
        amount_tiyn: int,
        purpose: str,
        payee: str = FAMILY,
    ) -> PaymentReceipt:
        body = _wire(
            wire.DisburseBody,
            case_id=case_id,
            amount_tiyn=amount_tiyn,
            purpose=purpose,
            payee=payee,
        )
        out = await self._call(wire.DISBURSEMENTS, body, wire.ReceiptOut, key=idempotency_key)
        return PaymentReceipt(reference=out.reference, duplicate=out.duplicate)

    async def invoice(
        self, *, idempotency_key: str, case_id: str, amount_tiyn: int, due_on: date
    ) -> str:
        body = _wire(
            wire.InvoiceBody,
            case_id=case_id,
            amount_tiyn=amount_tiyn,
            due_on=due_on,
            callback_url=self._callback_url(),
        )
        out = await self._call(wire.INVOICES, body, wire.AcceptedOut, key=idempotency_key)
        return out.reference

    async def ledger(self) -> list[wire.LedgerEntry]:
        """Every payment the treasury made (reconciliation)."""
        try:
            answer = await self.http.get(wire.LEDGER)
        except httpx.HTTPError as exc:
            raise TransientAdapterError(f"{wire.LEDGER}: {type(exc).__name__}") from exc
        return list(_read(wire.LEDGER, answer, wire.LedgerOut).payments)

    def _callback_url(self) -> str:
        if not self.settings.callback_url:
            raise RejectedRequestError("no callback URL configured (KOSH_CALLBACK_URL)")
        return self.settings.callback_url


def _wire(model: type[Body], **fields: Any) -> Body:
    """A request body, or RejectedRequestError naming the field: a request the contract
    refuses is never sent, and never retried."""
    try:
        return model(**fields)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise RejectedRequestError(f"invalid {model.__name__}: {reasons}") from exc


def _read(path: str, answer: httpx.Response, out: type[Out]) -> Out:
    status = answer.status_code
    if status >= 500 or status == 429:
        raise TransientAdapterError(f"{path}: {status} {_detail(answer)}")
    if status >= 400 and status != 409:  # 409: already done, the body is the first answer
        raise RejectedRequestError(f"{path}: {status} {_detail(answer)}")
    try:
        return out.model_validate_json(answer.content)
    except ValidationError as exc:
        # an answer we cannot read is the agency's fault, and may be a passing one
        raise TransientAdapterError(
            f"{path}: unreadable answer ({exc.error_count()} errors)"
        ) from exc


def _detail(answer: httpx.Response) -> str:
    try:
        problem: Any = wire.ProblemOut.model_validate_json(answer.content)
    except ValidationError:
        return answer.text[:200]
    return f"{problem.error}: {problem.detail}"
