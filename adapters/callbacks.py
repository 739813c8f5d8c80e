"""kosh's callback receiver: where agencies deliver answers that come later (an authority's
verdict, the address registry's registration notice). A small ASGI app run beside the worker.

It checks the shared bearer token, validates the body (422 naming the field), and hands the
message to the composition root's sink, which signals the case. Status codes tell the agency
what to do: 202 delivered; 410 the case is unknown or closed (stop retrying); 503 try again.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import structlog
from pydantic import Field, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters import agency_api as wire
from adapters.ports import (
    AgencyMessage,
    AuthorityAnswer,
    RegistrationNotice,
    RepaymentNotice,
    ReplySink,
)

PATH = "/callbacks"
Callback = wire.AuthorityReplyCallback | wire.RegistrationCallback | wire.RepaymentCallback
CALLBACK: TypeAdapter[Callback] = TypeAdapter(Annotated[Callback, Field(discriminator="kind")])
log = structlog.get_logger("kosh.callbacks")


class CaseGoneError(Exception):
    """The sink's answer when no running case can take the message."""


def _problem(status: int, error: str, detail: str, *, retryable: bool) -> JSONResponse:
    body = wire.ProblemOut(error=error, detail=detail, retryable=retryable)
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def callback_app(deliver: ReplySink, *, token: str | None) -> Starlette:
    async def receive(request: Request) -> JSONResponse:
        if token is not None:
            given = request.headers.get("Authorization", "")
            if not secrets.compare_digest(given, f"Bearer {token}"):
                return _problem(
                    401, "unauthorized", "a valid bearer token is required", retryable=False
                )
        raw = await request.body()
        message: AgencyMessage
        try:
            body = CALLBACK.validate_json(raw)
        except ValidationError as exc:
            fields = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}"
                for e in exc.errors()
            )
            return _problem(422, "invalid_callback", fields, retryable=False)
        if isinstance(body, wire.RepaymentCallback):
            message = RepaymentNotice(
                case_id=body.case_id,
                invoice=body.invoice,
                amount_tiyn=body.amount_tiyn,
                reference=body.reference,
            )
        elif isinstance(body, wire.RegistrationCallback):
            message = RegistrationNotice(
                case_id=body.case_id, region=body.region, reference=body.reference
            )
        else:
            message = AuthorityAnswer(
                case_id=body.case_id,
                authority=body.authority,
                reference=body.reference,
                outcome=body.outcome,
                reason=body.reason,
            )
        try:
            await deliver(message)
        except CaseGoneError as exc:
            return _problem(410, "case_gone", str(exc), retryable=False)
        except Exception as exc:  # Temporal unreachable, say: the agency retries later
            log.warning("callback_not_delivered", case_id=message.case_id, error=type(exc).__name__)
            return _problem(503, "unavailable", "try again later", retryable=True)
        return JSONResponse({"delivered": True}, status_code=202)

    return Starlette(routes=[Route(PATH, receive, methods=["POST"])])
