"""Shared fixtures: the time-skipping Temporal test server and an embedded PostgreSQL.

Both come from PyPI wheels installed in the venv; nothing is downloaded at run time.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from store.embedded import EmbeddedPostgres
from store.migrate import migrate
from store.pool import create_pool
from store.staff import put_staff
from tests import servers
from tests.policy_versions import on_the_test_clock
from worker import register_search_attributes

VENV_BIN = Path(sys.executable).parent


def venv_binary(name: str) -> str:
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in the venv ({path}); run `make venv`")
    return str(path)


class ModuleServer:
    """A test module's time-skipping test server (five years in seconds), kosh's search
    attributes added; a fresh one when a test left the clock held (tests/servers.py)."""

    def __init__(self) -> None:
        self.env: WorkflowEnvironment | None = None

    async def current(self) -> WorkflowEnvironment:
        if self.env is not None and servers.is_held(self.env):
            await self.shutdown()
        if self.env is None:
            self.env = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=venv_binary("temporal-test-server"),
                data_converter=pydantic_data_converter,
            )
            await register_search_attributes(self.env.client)
        return self.env

    async def shutdown(self) -> None:
        if self.env is not None:
            servers.forget(self.env)
            await self.env.shutdown()
            self.env = None


@pytest_asyncio.fixture(scope="module")
async def time_server() -> AsyncIterator[ModuleServer]:
    """One test server per test module: the test server's clock is global, and a workflow
    that ends with an activity still outstanding can hold it still (temporalio/sdk-java#1138);
    a fresh server per module, and after any test that held it, keeps such a stall from
    spreading to later tests. Its clock runs past 2031 as cases follow each other: the policy
    has the years it reaches (policy_versions)."""
    server = ModuleServer()
    with on_the_test_clock():
        yield server
    await server.shutdown()


@pytest_asyncio.fixture
async def time_env(time_server: ModuleServer) -> WorkflowEnvironment:
    """The module's test server, as this test finds it (a fresh one after a stall)."""
    return await time_server.current()


# The staff registry the workflow tests' interviewers and officers are in.
TEST_STAFF = {
    "staff-7": ["interviewer"],
    "staff-1": ["interviewer"],
    "officer-3": ["case_officer"],
    "o": ["case_officer"],
}


@pytest_asyncio.fixture(scope="session")
async def embedded_pool(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[asyncpg.Pool]:
    """A migrated database on an embedded PostgreSQL, stopped after the session."""
    with EmbeddedPostgres(tmp_path_factory.mktemp("wf-pg") / "pgdata") as pg:
        pool = await create_pool(pg.url, min_size=1, max_size=20)
        async with pool.acquire() as conn:
            await migrate(conn)
            for member, roles in TEST_STAFF.items():
                await put_staff(conn, staff_id=member, roles=roles)
        yield pool
        await pool.close()
