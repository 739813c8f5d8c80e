"""The console's tests drive real cases: the workflow tests' rig (one worker per test), and the
console in-process over ASGI as the staff's browser."""

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from console.app import ConsoleSettings, console_app
from tests.workflows.conftest import case_rig
from tests.workflows.harness import ISSUER, Rig

__all__ = ["browser", "case_rig"]


@pytest_asyncio.fixture
async def browser(case_rig: Rig) -> AsyncIterator[httpx.AsyncClient]:
    """The console on the rig's client and pool, as a browser sees it (cookies kept)."""
    app = console_app(
        client=case_rig.env.client,
        pool=case_rig.pool,
        settings=ConsoleSettings(secret="test-secret-test-secret"),
        issuer=ISSUER,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        yield client
