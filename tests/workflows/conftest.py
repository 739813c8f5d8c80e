"""A rig per test: its own worker, task queue, simulator and staff member."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.workflows.harness import Rig, rig
from worker import register_search_attributes


@pytest_asyncio.fixture
async def case_rig(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> AsyncIterator[Rig]:
    async with rig(time_env, embedded_pool) as r:
        yield r


@pytest_asyncio.fixture(scope="session")
async def quarantine_env() -> AsyncIterator[WorkflowEnvironment]:
    """A second test server for cases whose workflow tasks keep failing. Terminating such a
    case leaves the test server's time-skipping lock held for good, which would freeze the
    clock for every later test on the shared server."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture
async def broken_rig(
    quarantine_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> AsyncIterator[Rig]:
    """A rig on the quarantine server, for tests that show a workflow task failing."""
    async with rig(quarantine_env, embedded_pool, quarantined=True) as r:
        yield r
