"""The outside agencies as one small ASGI app (`kosh sim`; `kosh dev` runs it too).

Behaviour comes from `Simulator` (seeded outcomes, the planned `World`, latency, injected
outages and stalls, a payment ledger that honours idempotency keys); this module adds HTTP:
the paths and bodies of adapters/agency_api.py, error bodies that say whether a retry can
help, and callbacks that deliver authority verdicts and registration notices later, to the
callback URL each request named, retried a few times as a real agency's outbox would.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, get_args

import httpx
import structlog
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import agency_api as wire
from adapters.ports import (
    AgencyMessage,
    AuthorityAnswer,
    RejectedRequestError,
    RepaymentNotice,
    TransientAdapterError,
)
from adapters.simulator import Simulator

Body = TypeVar("Body", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]
CALLBACK_ATTEMPTS = 4
log = structlog.get_logger("kosh.sim")


class BadRequestError(Exception):
    def __init__(self, error: str, detail: str, status: int = 422) -> None:
        super().__init__(detail)
        self.error, self.detail, self.status = error, detail, status


def _problem(status: int, error: str, detail: str, *, retryable: bool) -> JSONResponse:
    body = wire.ProblemOut(error=error, detail=detail, retryable=retryable)
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def _ok(body: BaseModel, status: int = 200) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


async def _parse(request: Request, model: type[Body]) -> Body:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in exc.errors()
        )
        raise BadRequestError("invalid_request", fields) from exc


def _key(request: Request) -> str:
    key = request.headers.get(wire.IDEMPOTENCY_HEADER, "")
    if not 1 <= len(key) <= 200:
        raise BadRequestError("idempotency_key", f"header {wire.IDEMPOTENCY_HEADER} is required")
    return key


def _authority(request: Request) -> str:
    name = request.path_params["authority"]
    if name not in get_args(wire.Authority):
        raise BadRequestError("unknown_authority", f"no authority {name!r}", status=404)
    return str(name)


class AgencySimulator:
    """The app's state: the simulator, where each case's callbacks go, and the callback
    client."""

    def __init__(
        self, sim: Simulator, *, api_token: str | None = None, callback_token: str | None = None
    ) -> None:
        self.sim = sim
        self.api_token = api_token
        self.callback_token = callback_token
        self.callback_urls: dict[str, str] = {}
        self.http: httpx.AsyncClient | None = None
        sim.connect_replies(self.call_back)

    # ---- callbacks to kosh --------------------------------------------------------------
    async def call_back(self, message: AgencyMessage) -> None:
        url = self.callback_urls.get(message.case_id)
        if url is None or self.http is None:
            log.warning("callback_without_url", case_id=message.case_id)
            return
        body: BaseModel
        if isinstance(message, AuthorityAnswer):
            body = wire.AuthorityReplyCallback(
                case_id=message.case_id,
                authority=message.authority,
                reference=message.reference,
                outcome=message.outcome,
                reason=message.reason,
            )
        elif isinstance(message, RepaymentNotice):
            body = wire.RepaymentCallback(
                case_id=message.case_id,
                invoice=message.invoice,
                amount_tiyn=message.amount_tiyn,
                reference=message.reference,
            )
        else:
            body = wire.RegistrationCallback(
                case_id=message.case_id, region=message.region, reference=message.reference
            )
        headers = {"Authorization": f"Bearer {self.callback_token}"} if self.callback_token else {}
        for attempt in range(1, CALLBACK_ATTEMPTS + 1):
            try:
                answer = await self.http.post(url, content=body.model_dump_json(), headers=headers)
            except httpx.HTTPError as exc:
                log.info("callback_failed", case_id=message.case_id, error=type(exc).__name__)
            else:
                if answer.status_code < 500:  # delivered, or refused for good (4xx)
                    if answer.status_code >= 400:
                        log.warning("callback_refused", status=answer.status_code)
                    return
            await asyncio.sleep(0.2 * 2**attempt)
        log.warning("callback_given_up", case_id=message.case_id)

    # ---- the app ------------------------------------------------------------------------
    def app(self) -> Starlette:
        routes = [
            Route(wire.DOCUMENTS, self._guard(self.documents), methods=["POST"]),
            Route(wire.KAZTEST, self._guard(self.kaztest), methods=["POST"]),
            Route(wire.AUTHORITY_CHECKS, self._guard(self.authority_check), methods=["POST"]),
            Route(wire.AUTHORITY_SCREENINGS, self._guard(self.screening), methods=["POST"]),
            Route(wire.ADDRESS_LOOKUP, self._guard(self.address), methods=["POST"]),
            Route(wire.ADDRESS_WATCHES, self._guard(self.watch), methods=["POST"]),
            Route(wire.BORDER_DEPARTURES, self._guard(self.border), methods=["POST"]),
            Route(wire.PERMITS, self._guard(self.permit), methods=["POST"]),
            Route(wire.KANDAS_REQUESTS, self._guard(self.kandas_request), methods=["POST"]),
            Route(wire.KANDAS_DECISIONS, self._guard(self.kandas_decisions), methods=["POST"]),
            Route(wire.DISBURSEMENTS, self._guard(self.disburse), methods=["POST"]),
            Route(wire.INVOICES, self._guard(self.invoice), methods=["POST"]),
            Route(wire.LEDGER, self._guard(self.ledger), methods=["GET"]),
            Route(wire.VACANCIES, self._guard(self.vacancy), methods=["POST"]),
            Route(wire.EMPLOYMENTS, self._guard(self.employment), methods=["POST"]),
            Route(wire.WORKER_SCREENINGS, self._guard(self.worker_screening), methods=["POST"]),
        ]
        return Starlette(routes=routes, lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.http = httpx.AsyncClient(timeout=5.0)
        try:
            yield
        finally:
            await self.http.aclose()

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            if self.api_token is not None:
                given = request.headers.get("Authorization", "")
                if not secrets.compare_digest(given, f"Bearer {self.api_token}"):
                    return _problem(
                        401, "unauthorized", "a valid bearer token is required", retryable=False
                    )
            try:
                return await handler(request)
            except BadRequestError as exc:
                return _problem(exc.status, exc.error, exc.detail, retryable=False)
            except TransientAdapterError as exc:
                return _problem(503, "unavailable", str(exc), retryable=True)
            except RejectedRequestError as exc:
                return _problem(422, "rejected", str(exc), retryable=False)

        return guarded

    async def documents(self, request: Request) -> Response:
        body = await _parse(request, wire.ApplicantBody)
        verdict = await self.sim.verify(case_id=body.case_id, application=body.application)
        return _ok(wire.DocumentVerdictOut(authentic=verdict.authentic, reasons=verdict.reasons))

    async def kaztest(self, request: Request) -> Response:
        body = await _parse(request, wire.AttemptBody)
        result = await self.sim.sit_test(
            case_id=body.case_id, application=body.application, attempt=body.attempt
        )
        return _ok(
            wire.AttemptOut(
                attempt=result.attempt,
                section_percent=result.section_percent,
                rules_broken=result.rules_broken,
            )
        )

    async def authority_check(self, request: Request) -> Response:
        authority, key = _authority(request), _key(request)
        body = await _parse(request, wire.CallbackBody)
        self.callback_urls[body.case_id] = body.callback_url
        reference = await self.sim.request(
            case_id=body.case_id,
            application=body.application,
            authority=authority,
            request_key=key,
        )
        return _ok(wire.AcceptedOut(reference=reference), 202)

    async def screening(self, request: Request) -> Response:
        authority = _authority(request)
        body = await _parse(request, wire.ApplicantBody)
        verdict = await self.sim.check(
            case_id=body.case_id, application=body.application, authority=authority
        )
        return _ok(wire.VerdictOut(outcome=verdict.outcome, reason=verdict.reason))

    async def address(self, request: Request) -> Response:
        body = await _parse(request, wire.LookupBody)
        region = await self.sim.registered_region(
            case_id=body.case_id,
            settled_region=body.settled_region,
            settled_on=body.settled_on,
            on=body.on,
        )
        return _ok(wire.RegionOut(region=region))

    async def watch(self, request: Request) -> Response:
        key = _key(request)
        body = await _parse(request, wire.WatchBody)
        self.callback_urls[body.case_id] = body.callback_url
        reference = await self.sim.watch(case_id=body.case_id, region=body.region, request_key=key)
        return _ok(wire.AcceptedOut(reference=reference), 202)

    async def border(self, request: Request) -> Response:
        body = await _parse(request, wire.DeparturesBody)
        day = await self.sim.departed_on(case_id=body.case_id, since=body.since, until=body.until)
        return _ok(wire.DepartureOut(departed_on=day))

    async def permit(self, request: Request) -> Response:
        body = await _parse(request, wire.CaseBody)
        return _ok(wire.NumberOut(number=await self.sim.issue_permit(case_id=body.case_id)))

    async def kandas_request(self, request: Request) -> Response:
        key = _key(request)
        body = await _parse(request, wire.KandasRequestBody)
        reference = await self.sim.request_kandas_status(
            case_id=body.case_id,
            application=body.application,
            requested_on=body.requested_on,
            request_key=key,
        )
        return _ok(wire.AcceptedOut(reference=reference), 202)

    async def kandas_decisions(self, request: Request) -> Response:
        body = await _parse(request, wire.KandasLookupBody)
        steps = await self.sim.kandas_decisions(
            case_id=body.case_id,
            reference=body.reference,
            requested_on=body.requested_on,
            on=body.on,
        )
        return _ok(wire.KandasStepsOut(steps=steps))

    async def disburse(self, request: Request) -> Response:
        key = _key(request)
        body = await _parse(request, wire.DisburseBody)
        receipt = await self.sim.disburse(
            idempotency_key=key,
            case_id=body.case_id,
            amount_tiyn=body.amount_tiyn,
            purpose=body.purpose,
            payee=body.payee,
        )
        out = wire.ReceiptOut(reference=receipt.reference, duplicate=receipt.duplicate)
        return _ok(out, 409 if receipt.duplicate else 201)  # 409: already paid, same receipt

    async def invoice(self, request: Request) -> Response:
        key = _key(request)
        body = await _parse(request, wire.InvoiceBody)
        self.callback_urls[body.case_id] = body.callback_url
        known = key in self.sim.invoices
        number = await self.sim.invoice(
            idempotency_key=key,
            case_id=body.case_id,
            amount_tiyn=body.amount_tiyn,
            due_on=body.due_on,
        )
        return _ok(wire.AcceptedOut(reference=number), 409 if known else 201)

    async def ledger(self, request: Request) -> Response:
        entries = tuple(
            wire.LedgerEntry(
                idempotency_key=k,
                case_id=c,
                amount_tiyn=a,
                reference=r,
                purpose=self.sim.orders[k][0],
                payee=self.sim.orders[k][1],
            )
            for k, (c, a, r) in sorted(self.sim.ledger.items())
        )
        return _ok(wire.LedgerOut(payments=entries))

    async def vacancy(self, request: Request) -> Response:
        body = await _parse(request, wire.VacancyBody)
        record = await self.sim.vacancy(
            reference=body.reference,
            employer_id=body.employer_id,
            industry=body.industry,
            region=body.region,
            on=body.on,
        )
        return _ok(wire.VacancyOut(vacancy=record))

    async def employment(self, request: Request) -> Response:
        body = await _parse(request, wire.EmploymentBody)
        report = await self.sim.employment(
            case_id=body.case_id,
            permit_from=body.permit_from,
            offered_wage_tiyn=body.offered_wage_tiyn,
            on=body.on,
        )
        return _ok(wire.EmploymentOut(report=report))

    async def worker_screening(self, request: Request) -> Response:
        authority = _authority(request)
        body = await _parse(request, wire.WorkerBody)
        verdict = await self.sim.screen_worker(
            case_id=body.case_id, worker=body.worker, authority=authority
        )
        return _ok(wire.VerdictOut(outcome=verdict.outcome, reason=verdict.reason))


def run_kwargs(host: str, port: int) -> dict[str, Any]:
    """uvicorn settings shared by `kosh sim` and `kosh dev`: quiet, no signal handlers of its
    own (the caller owns shutdown)."""
    return {"host": host, "port": port, "log_level": "warning", "lifespan": "on"}
