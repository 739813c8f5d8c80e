"""The decision lock's order is the history's (workflows/decision_lock.py, decision 023):
across workflow tasks, first asked, first served; within one task, by the asker's branch (a
deadline's watch before a check), whatever order the event loop let them ask in. A branch
woken by a timer asks more turns later than one woken by an activity's result, so in one task
the check asks first: before decision 023 it was served first, and a first execution that
had taken the timer in a task of its own served the watch first (the soak's replay failure).
Each run is replayed from its history by a worker without a cache, as a restarted one is."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from tests.workflows.lock_ranks import LockRanks, call
from worker import workflow_runner


def deciding(env: WorkflowEnvironment, queue: str) -> Worker:
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[LockRanks],
        workflow_runner=workflow_runner(),
        max_cached_workflows=0,
    )


async def decided(env: WorkflowEnvironment, *, away: float | None, **seconds: float) -> list[str]:
    """The order the branches decided in. `away`: the workflow worker stops once the holder
    holds the lock and comes back that many seconds later (the timer's firing and both calls'
    answers then reach it in one task)."""
    queue = f"ranks-{uuid.uuid4()}"
    handle = await env.client.start_workflow(
        LockRanks.run,
        args=[seconds["hold"], seconds["timer"], seconds["check"]],
        id=f"ranks-{uuid.uuid4()}",
        task_queue=queue,
    )
    async with Worker(env.client, task_queue=queue, activities=[call]):
        if away is not None:
            async with deciding(env, queue):
                async with asyncio.timeout(10):
                    while not any(
                        e.HasField("timer_started_event_attributes")
                        for e in (await handle.fetch_history()).events
                    ):
                        await asyncio.sleep(0.05)
            await asyncio.sleep(away)
        async with deciding(env, queue):
            order: list[str] = await asyncio.wait_for(handle.result(), 20)
    replayer = Replayer(
        workflows=[LockRanks],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    await replayer.replay_workflow(await handle.fetch_history())
    return order


async def test_in_one_task_a_deadlines_watch_is_served_before_a_check(
    time_env: WorkflowEnvironment,
) -> None:
    # the timer fires at 1 s, the check answers at 1.5 s, the holder's call at 2.5 s; the
    # worker is away until 4 s: all three in one task, the check asking first
    order = await decided(time_env, away=4.0, hold=2.5, timer=1.0, check=1.5)
    assert order == ["main", "watch", "check"]


async def test_across_tasks_the_first_to_ask_is_served_first(
    time_env: WorkflowEnvironment,
) -> None:
    # the check answers at 0.5 s and asks in its own task; the timer fires at 1.5 s
    order = await decided(time_env, away=None, hold=2.5, timer=1.5, check=0.5)
    assert order == ["main", "check", "watch"]
