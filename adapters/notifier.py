"""Staff notices: how a case tells people it needs them (an interview due, a referral, an
overdue reply). No personal data: case id, kind, dates.

- `LogNotifier`: one structured log line per notice, for a task system that reads the
  worker's logs (the default).
- `WebhookNotifier`: POSTs each notice to the staff task system (KOSH_STAFF_NOTICES_URL)
  with a bearer token. A 5xx or a timeout is retried by Temporal; a 4xx is not.
- `notices_app`: the receiving end, for `kosh dev`, whose simulated staff answer the
  notices of every worker that joins it.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import httpx
import structlog
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.ports import RejectedRequestError, StaffNotice, TransientAdapterError

PATH = "/notices"


class LogNotifier:
    def __init__(self) -> None:
        self.log = structlog.get_logger("kosh.staff")

    async def notify(self, notice: StaffNotice) -> None:
        self.log.info(
            "staff_notice", case_id=notice.case_id, kind=notice.kind, message=notice.message
        )


class WebhookNotifier:
    def __init__(self, url: str, *, token: str | None, timeout_seconds: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url
        self.http = httpx.AsyncClient(headers=headers, timeout=timeout_seconds)

    async def notify(self, notice: StaffNotice) -> None:
        try:
            answer = await self.http.post(self.url, json=notice.model_dump(mode="json"))
        except httpx.HTTPError as exc:
            raise TransientAdapterError(f"staff notices: {type(exc).__name__}") from exc
        if answer.status_code >= 500:
            raise TransientAdapterError(f"staff notices answered {answer.status_code}")
        if answer.status_code >= 400:
            raise RejectedRequestError(
                f"staff notices refused the notice ({answer.status_code}): {answer.text[:200]}"
            )

    async def aclose(self) -> None:
        await self.http.aclose()


def notices_app(
    deliver: Callable[[StaffNotice], Awaitable[None]], *, token: str | None
) -> Starlette:
    """POST /notices: a notice for `deliver`; 401 without the token, 422 naming the field."""

    async def receive(request: Request) -> JSONResponse:
        if token is not None:
            given = request.headers.get("Authorization", "")
            if not secrets.compare_digest(given, f"Bearer {token}"):
                return JSONResponse({"error": "unauthorized"}, status_code=401)
        try:
            notice = StaffNotice.model_validate_json(await request.body())
        except ValidationError as exc:
            fields = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}"
                for e in exc.errors()
            )
            return JSONResponse({"error": "invalid_notice", "detail": fields}, status_code=422)
        await deliver(notice)
        return JSONResponse({"delivered": True}, status_code=202)

    return Starlette(routes=[Route(PATH, receive, methods=["POST"])])
