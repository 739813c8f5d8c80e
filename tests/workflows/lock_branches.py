"""A workflow of two branches on kosh's Runtime, for the decision lock's order: one waits on a
timer, the other on an activity; each then decides under the lock and notes the case day it
saw (tests/workflows/test_lock_order.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from domain.clock import CaseClock
    from workflows.runtime import Runtime

ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
TIMER_DAY = date(2026, 1, 31)


@activity.defn(name="lock_branches_call")
async def call(seconds: float) -> None:
    """An agency that answers after `seconds`."""
    await asyncio.sleep(seconds)


@workflow.defn(name="LockBranches")
class LockBranches:
    def __init__(self) -> None:
        self.order: list[tuple[str, str]] = []

    @workflow.query
    def decided(self) -> list[tuple[str, str]]:
        return self.order

    @workflow.run
    async def run(self, seconds_per_year: float, call_seconds: float) -> list[tuple[str, str]]:
        # a demo's clock (it moves by the case's waits); its origin fixed, as a case's is
        clock = CaseClock(origin=ORIGIN, seconds_per_year=seconds_per_year)
        rt = Runtime(clock)

        async def timed() -> None:
            await rt.wait_for(lambda: False, TIMER_DAY, label="a branch's timer")
            async with rt.lock:
                self.order.append(("timer", rt.today().isoformat()))

        async def stepped() -> None:
            await workflow.execute_activity(
                call, call_seconds, start_to_close_timeout=timedelta(seconds=30)
            )
            async with rt.lock:
                self.order.append(("call", rt.today().isoformat()))

        await asyncio.gather(timed(), stepped())
        return self.order
