"""The allocation rounds' schedules (docs/decisions/014): one Temporal Schedule per quota
region, each starting that region's AllocationRoundWorkflow every policy period
(`allocation.period_months`). Created, or
brought up to date, by every worker process and by `kosh dev` (idempotent)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.clock import CaseClock
from domain.policy import policy_in_force
from domain.regions import LABOUR_DEFICIT_REGIONS, Region
from workflows import allocation_api as rapi

# On a compressed clock a month is a second or two: rounds that often would keep an idle
# `kosh dev` busy, so a demo round comes every few seconds at most (a few case months).
MIN_INTERVAL = timedelta(seconds=3)


def spec_for(months: int, seconds_per_year: float | None, now: datetime) -> ScheduleSpec:
    """At real scale, the first of each period's first month (00:00 UTC), so a round's case
    date names its period; on a compressed clock (the demo's), every period's length in wall
    time, never more often than MIN_INTERVAL."""
    if seconds_per_year is None:
        first_months = ScheduleRange(1, 12, months)
        return ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(day_of_month=(ScheduleRange(1),), month=(first_months,))
            ]
        )
    period = timedelta(days=365 * months / 12)
    wall = CaseClock(origin=now, seconds_per_year=seconds_per_year).wall_delay(period)
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=max(wall, MIN_INTERVAL))])


def allocation_schedule(
    region: Region,
    *,
    task_queue: str,
    spec: ScheduleSpec,
    seconds_per_year: float | None = None,
    origin: datetime | None = None,
    size: int | None = None,
) -> Schedule:
    inp = rapi.RoundInput(
        region=region, size=size, seconds_per_year=seconds_per_year, origin=origin
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            rapi.WORKFLOW_NAME,
            inp,
            id=rapi.schedule_id(region),  # Temporal adds each start's time
            task_queue=task_queue,
        ),
        spec=spec,
        # a round still telling its candidates when the next is due: the next waits its turn
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE),
    )


async def ensure_allocation_schedules(
    client: Client,
    *,
    task_queue: str,
    seconds_per_year: float | None = None,
    sizes: Mapping[Region, int] | None = None,
    update: bool = True,
) -> list[str]:
    """Every quota region's schedule, created or (with `update`) brought to these settings;
    their ids. On a compressed case clock (the demo's) the period shrinks with it, never
    below a second. A worker process joining a stack creates what is missing only: the
    stack's own settings (`kosh dev`'s compressed clock) stand."""
    now = datetime.now(UTC)
    months = policy_in_force(now.date()).allocation.period_months
    spec = spec_for(months, seconds_per_year, now)
    ids = []
    for region in sorted(LABOUR_DEFICIT_REGIONS):
        schedule = allocation_schedule(
            region,
            task_queue=task_queue,
            spec=spec,
            seconds_per_year=seconds_per_year,
            origin=now if seconds_per_year is not None else None,
            size=(sizes or {}).get(region),
        )
        sid = rapi.schedule_id(region)
        try:
            await client.create_schedule(sid, schedule)
        except ScheduleAlreadyRunningError:
            if not update:
                ids.append(sid)
                continue

            def replace(_: ScheduleUpdateInput, new: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=new)

            await client.get_schedule_handle(sid).update(replace)
        ids.append(sid)
    return ids
