"""A rig per test: its own worker, task queue, simulator and staff member."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from cli.devserver import temporal_binary
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


@pytest_asyncio.fixture(scope="module")
async def live_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server, for tests whose compressed case clock runs on with the wall.

    On the time-skipping test server a timer that fires in real time while a workflow task is
    in progress, and that the task cancels, makes the server refuse the task's completion
    ("invalid history builder state for action", temporalio/sdk-java#2606); the task is then
    never handed out again and holds the server's clock for good (#3088). A case on a
    wall-moving clock cancels such timers all the time (a deadline raced by an answer); the
    real server takes the cancel, as production does."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), data_converter=pydantic_data_converter
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture
async def live_rig(
    live_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> AsyncIterator[Rig]:
    """A rig on the real dev server (`live_env`)."""
    async with rig(live_env, embedded_pool) as r:
        yield r
