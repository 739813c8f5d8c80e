"""Wakes that come late: no worker polls while a compressed case clock runs on past several
check dates (a worker away for days, a loaded machine), then a worker again. The clock runs
on with the wall (`clock_moves="wall"`), as a real case's does; the demo's clock, which
moves only while the case waits, would wake the case on its date. The checks the
case slept through are caught up, each as of the day it was due, so a departure or a move in
between is found and the case closes as it would have undisturbed.

On the real dev server (tests/workflows/conftest.py `live_env`): its clock is the wall's, and
on a clock of two (four) wall seconds a case-year a few seconds away are years of case time.
The time-skipping test server refuses, now and then, a task that cancels a timer which fired
in real time meanwhile (temporalio/sdk-java#2606), and these cases race their timers all the
time.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
from temporalio.testing import WorkflowEnvironment

from adapters.ports import StaffNotice
from domain.agenda import support_schedule
from domain.case import fold
from domain.policy import policy_by_id
from tests.workflows.harness import (
    GOOD_INTERVIEW,
    INTERVIEWER,
    OFFICER,
    Handle,
    Rig,
    application,
    as_staff,
    interview,
    of_type,
    one,
    own_rig,
    serve,
    types,
)
from workflows import api

HUMAN_FLOOR = 30.0  # wall seconds staff get to answer on the compressed clock
# The dev server's clock is the wall's: a case waits out a person's floor in full (the test
# server skipped it), and a task a stopping worker held is handed out again after 10 s.
WALL_PATIENCE = 3 * HUMAN_FLOOR


async def away_from(r: Rig, h: Handle, stage: str, *, wall_seconds: float) -> None:
    """Serve the case until it reaches `stage`, then no worker for `wall_seconds`."""
    # No workflow cache, so no sticky queue: the next worker takes the case's task at once.
    async with serve(r, cache=0):
        await r.wait_status(h, lambda s: s.stage == stage, timeout=30)
    await asyncio.sleep(wall_seconds)


async def test_a_departure_while_no_worker_ran_is_found_years_later(
    live_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    async with own_rig(live_env, embedded_pool) as r:
        r.staff.on("interview_due", interview)
        h = await r.start(
            application(track="general"),
            seconds_per_year=2.0,
            human_floor_seconds=HUMAN_FLOOR,
            clock_moves="wall",
        )
        cid = h.id.removeprefix("case-")
        # after the first re-screening (a year), before the second
        r.sim.world.plan_departure(cid, after_days=400)
        await away_from(r, h, "residence", wall_seconds=11.0)  # five and a half case-years
        async with serve(r):
            result = await r.finish(h, timeout=WALL_PATIENCE)

    assert result.closed_reason == "departed"
    events = await r.events(cid)
    permit = one(events, "PermitIssued")
    departure = one(events, "DepartureRecorded")
    # the case woke five case-years on (permanent residence: no term ended it meanwhile), yet
    # asked border control about the years before
    assert departure.at.date() > permit.at.date() + timedelta(days=5 * 365)
    assert (departure.departed_on, departure.source) == (
        permit.at.date() + timedelta(days=400),
        "border",
    )
    # as undisturbed: the first re-screening was clear, the second found the departure
    assert len(of_type(events, "RescreeningCompleted")) == 1
    assert not of_type(events, "PermitRevoked")


async def arrive_by_signal(handle: Handle, notice: StaffNotice) -> None:
    """The arrival as a signal: staff do not wait for the case. On a worker without a cache
    the time-skipping server refuses the task that takes an allocation round's update, and
    hands it out again at the workflow task's timeout (10 s): an update sent meanwhile would
    wait that long (tests/workflows/harness.py `update` gives up at 10 s)."""
    status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
    fact = {"kind": "arrival", "region": status.region}
    await as_staff(handle, api.SIGNAL_FACT, fact, by=OFFICER)


async def test_a_move_while_no_worker_ran_is_found_and_support_stops_where_it_would_have(
    live_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    async with own_rig(live_env, embedded_pool) as r:
        r.staff.on("interview_due", interview)
        r.staff.on("arrival_due", arrive_by_signal)
        h = await r.start(
            application(),
            seconds_per_year=4.0,
            human_floor_seconds=HUMAN_FLOOR,
            clock_moves="wall",
        )
        cid = h.id.removeprefix("case-")
        r.sim.world.plan_move(cid, after_days=10, to_region="Almaty")
        await away_from(r, h, "monitoring", wall_seconds=9.0)  # over two case-years
        async with serve(r):
            # nobody repays: referred after the due date
            result = await r.finish(h, timeout=WALL_PATIENCE)

    assert result.closed_reason == "breach_referred"
    events = await r.events(cid)
    contract = one(events, "SocialContractSigned")
    found = one(events, "ResidenceDiscrepancyFound")
    left = one(events, "RegionLeft")
    demanded = one(events, "RepaymentDemanded")
    policy = policy_by_id(contract.policy_id)
    first_check = contract.starts_on + timedelta(days=policy.contract.monitoring_interval_days)
    # the case woke long after the first check, which found the family gone as of its date
    assert left.at.date() > found.confirm_on
    assert (found.checked_on, found.reported_region) == (first_check, "Almaty")
    assert (left.new_region, left.left_on, left.source) == ("Almaty", first_check, "registry")
    # support was paid up to the confirmation, as undisturbed, not for the months slept through
    schedule = support_schedule(fold(events), policy)
    due_by_then = {s.idempotency_key for s in schedule if s.due_on <= found.confirm_on}
    assert {p.idempotency_key for p in of_type(events, "SupportPaid")} == due_by_then
    assert len(due_by_then) < len(schedule)
    assert demanded.amount_tiyn == r.sim.total_paid(cid) == result.support_paid_tiyn


async def test_staff_get_their_floor_again_when_the_case_wakes_late_on_their_deadline(
    live_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    """On a compressed clock staff get at least the floor to answer; a case nothing ran for
    longer than that could not take their answer, so it waits the floor again: the interview
    an interviewer sends once the case runs again is taken, not escalated. (The general
    track: a kandas case would take an allocation round's update on the way, which the
    time-skipping server refuses from a worker without a cache.)"""
    async with own_rig(live_env, embedded_pool) as r:
        h = await r.start(
            application(track="general"), seconds_per_year=4.0, human_floor_seconds=5.0
        )
        cid = h.id.removeprefix("case-")
        async with serve(r, cache=0):  # deadlines to find a hang, not to time a machine
            await r.notice("interview_due", timeout=30)
            async with asyncio.timeout(30):
                while not await r.idle(h):  # waiting on its interview deadline
                    await asyncio.sleep(0.05)
        await asyncio.sleep(12.0)  # the deadline passes while no worker runs the case
        # no sticky cache: a workflow task scheduled as this worker stops (the case is busy on
        # this clock) goes to the task queue, where the rig's closing worker takes it
        async with serve(r, cache=0):
            answer = await as_staff(h, api.UPDATE_INTERVIEW, GOOD_INTERVIEW, by=INTERVIEWER)
            await r.wait_status(h, lambda s: s.stage != "scoring", timeout=30)

    assert answer.accepted, answer.reason
    recorded = types(await r.events(cid))
    assert "InterviewRecorded" in recorded and "InterviewEscalated" not in recorded
