"""A workflow whose three branches ask for the decision lock while one of them holds it
(tests/workflows/test_lock_ranks.py): the holder (the main steps) waits on a slow call under
the lock; a deadline's watch, woken by a timer, and a check, woken by a quicker call, then
ask for it. The order they decide in is returned."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from domain.clock import CaseClock

from workflows.decision_lock import CHECK, WATCH, as_branch
from workflows.runtime import Runtime


@activity.defn(name="lock_ranks_call")
async def call(seconds: float) -> None:
    """An agency that answers after `seconds`."""
    await asyncio.sleep(seconds)


@workflow.defn(name="LockRanks")
class LockRanks:
    @workflow.run
    async def run(self, hold: float, timer: float, check: float) -> list[str]:
        rt = Runtime(CaseClock(origin=workflow.now()))
        order: list[str] = []
        held = asyncio.Event()

        async def ask(seconds: float) -> None:
            await workflow.execute_activity(
                call, seconds, start_to_close_timeout=timedelta(seconds=30)
            )

        async def holder() -> None:
            async with rt.lock:
                held.set()
                await ask(hold)
                order.append("main")

        async def watch() -> None:
            await held.wait()
            # a deadline's watch wakes as the case's do: a condition's timeout
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: False, timeout=timer)
            async with rt.lock:
                order.append("watch")

        async def checked() -> None:
            await held.wait()
            await ask(check)
            async with rt.lock:
                order.append("check")

        await asyncio.gather(
            holder(), as_branch(WATCH, "deadline", watch()), as_branch(CHECK, "x", checked())
        )
        return order
