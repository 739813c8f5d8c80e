"""Staff notices over HTTP: the webhook notifier against the receiving app (served on
loopback), and how each answer is classified for Temporal's retries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.notifier import PATH, WebhookNotifier, notices_app
from adapters.ports import RejectedRequestError, StaffNotice, TransientAdapterError
from worker import serving

NOTICE = StaffNotice(case_id="c-1", kind="interview_due", message="interview due by 2027-01-05")


@pytest.fixture
async def received() -> AsyncIterator[tuple[str, list[StaffNotice]]]:
    got: list[StaffNotice] = []

    async def deliver(notice: StaffNotice) -> None:
        got.append(notice)

    async with serving(notices_app(deliver, token="t0ken"), "127.0.0.1:0") as url:
        yield url + PATH, got


async def test_a_notice_is_delivered_with_the_token(
    received: tuple[str, list[StaffNotice]],
) -> None:
    url, got = received
    notifier = WebhookNotifier(url, token="t0ken")
    try:
        await notifier.notify(NOTICE)
    finally:
        await notifier.aclose()
    assert got == [NOTICE]


async def test_a_wrong_token_is_refused_for_good(received: tuple[str, list[StaffNotice]]) -> None:
    url, got = received
    notifier = WebhookNotifier(url, token="guess")
    try:
        with pytest.raises(RejectedRequestError, match="401"):
            await notifier.notify(NOTICE)
    finally:
        await notifier.aclose()
    assert got == []


async def test_an_invalid_notice_is_refused_naming_the_field(
    received: tuple[str, list[StaffNotice]],
) -> None:
    url, got = received
    async with httpx.AsyncClient(headers={"Authorization": "Bearer t0ken"}) as http:
        answer = await http.post(url, json={"case_id": "c-1", "kind": "party"})
    assert answer.status_code == 422 and "kind" in answer.json()["detail"]
    assert got == []


async def test_an_unreachable_or_failing_task_system_is_retried() -> None:
    async def down(request: Request) -> JSONResponse:
        return JSONResponse({"error": "maintenance"}, status_code=503)

    app = Starlette(routes=[Route(PATH, down, methods=["POST"])])
    async with serving(app, "127.0.0.1:0") as url:
        notifier = WebhookNotifier(url + PATH, token=None)
        try:
            with pytest.raises(TransientAdapterError, match="503"):
                await notifier.notify(NOTICE)
        finally:
            await notifier.aclose()
    closed = WebhookNotifier(url + PATH, token=None, timeout_seconds=2)  # nothing listens now
    try:
        with pytest.raises(TransientAdapterError):
            await closed.notify(NOTICE)
    finally:
        await closed.aclose()
