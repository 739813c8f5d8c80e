"""The allocation rounds' schedules on a real Temporal dev server (composition/schedules.py):
one per quota region, made twice without a second (`kosh dev` and every worker make them),
on the demo's compressed clock, and a worker joining later leaves the stack's settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import ScheduleActionStartWorkflow

from cli.devserver import TemporalDevServer
from cli.devstack import free_port
from composition.schedules import MIN_INTERVAL, ensure_allocation_schedules
from domain.regions import LABOUR_DEFICIT_REGIONS
from workflows import allocation_api as rapi

pytestmark = pytest.mark.e2e


async def test_one_schedule_per_region_made_idempotently(tmp_path: Path) -> None:
    server = TemporalDevServer(tmp_path, free_port(), free_port())
    server.start()
    try:
        client = await server.wait_ready()
        made = await ensure_allocation_schedules(
            client, task_queue="q", seconds_per_year=24, sizes={"West Kazakhstan": 1}
        )
        again = await ensure_allocation_schedules(
            client, task_queue="q", seconds_per_year=24, sizes={"West Kazakhstan": 1}
        )
        assert made == again == sorted(rapi.schedule_id(r) for r in LABOUR_DEFICIT_REGIONS)
        listed = [s.id async for s in await client.list_schedules()]
        assert sorted(listed) == made

        west = await client.get_schedule_handle(rapi.schedule_id("West Kazakhstan")).describe()
        action = west.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == rapi.WORKFLOW_NAME and action.task_queue == "q"
        [every] = [i.every for i in west.schedule.spec.intervals]
        assert every == MIN_INTERVAL  # a month of a 24-second year is under the floor
        [inp] = await client.data_converter.decode(list(action.args), [rapi.RoundInput])
        assert (inp.region, inp.size, inp.seconds_per_year) == ("West Kazakhstan", 1, 24)

        # a worker joining the stack makes what is missing only: the demo's settings stand
        await ensure_allocation_schedules(client, task_queue="other", update=False)
        kept = await client.get_schedule_handle(rapi.schedule_id("Pavlodar")).describe()
        kept_action = kept.schedule.action
        assert isinstance(kept_action, ScheduleActionStartWorkflow)
        assert kept_action.task_queue == "q"
        # a real-scale worker on its own server: a round on the first of each month
        await client.get_schedule_handle(rapi.schedule_id("Pavlodar")).delete()
        await ensure_allocation_schedules(client, task_queue="other", update=False)
        monthly = await client.get_schedule_handle(rapi.schedule_id("Pavlodar")).describe()
        [calendar] = monthly.schedule.spec.calendars
        assert [(r.start, r.end) for r in calendar.day_of_month] == [(1, 1)]
        assert [(r.start, r.end, r.step) for r in calendar.month] == [(1, 12, 1)]
        upcoming = monthly.info.next_action_times[0]
        assert (upcoming.day, upcoming.hour, upcoming.minute) == (1, 0, 0)
    finally:
        server.stop()
