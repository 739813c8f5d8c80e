"""The capacity bench's prototypes: real kandas cases, one per quota place (region, year)
the clones hold, driven by the real workflow, worker, agencies and staff to the
continue-as-new that opens their third case year, where their snapshot and search
attributes are captured (bench/capacity.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.common import TypedSearchAttributes
from temporalio.converter import decode_typed_search_attributes

from cli.demo import SCENARIOS, cohort
from domain.agenda import next_wakeup, support_schedule
from domain.application import Application
from domain.case import CaseState
from domain.clock import SECONDS_PER_YEAR, CaseClock
from domain.policy import PolicyYearError, policy_by_id, policy_in_force
from domain.regions import LABOUR_DEFICIT_REGIONS, Region
from store.events import StoredEvent, read_events
from workflows import api
from workflows.case.state import RunState

PROTOTYPE_SECONDS_PER_YEAR = 24.0  # the demo's clock: a prototype reaches year three in a minute


def prototype_seconds_per_year(prototypes: int) -> float:
    """The prototypes' clock: the demo's, slowed down as more of them run at once, so two
    shared CPUs keep every one of their obligations on time (69 at the demo's clock fell a
    case year behind their residence checks and were captured overdue)."""
    return max(PROTOTYPE_SECONDS_PER_YEAR, float(prototypes))


KANDAS_FULFILLED = next(s for s in SCENARIOS if s.name == "kandas_fulfilled")


def plan_places(cases: int, first_year: int) -> list[tuple[Region, int, int]]:
    """(region, year, clones): quota places for `cases` clones, every labour-deficit region
    year after year from `first_year` (each region-year's prototype holds a place itself),
    in the years the policy gives places for (published or projected): no more clones than
    those places hold (decision 015: a year without figures is no year to reuse)."""
    policy = policy_in_force(date(first_year, 3, 1))
    places: list[tuple[Region, int, int]] = []
    year, left = first_year, cases
    while left > 0:
        if year not in policy.kandas_quota:
            raise PolicyYearError(
                f"{cases} clones need kandas places beyond {year - 1}: policy {policy.id} gives"
                f" places for {min(policy.kandas_quota)}–{max(policy.kandas_quota)} only, room"
                f" for {cases - left} clones from {first_year}"
            )
        for region in sorted(LABOUR_DEFICIT_REGIONS, key=lambda r: (-policy.quota(r, year), r)):
            take = min(policy.quota(region, year) - 1, left)
            if take > 0:
                places.append((region, year, take))
                left -= take
        year += 1
    return places


def clock_through(wall: datetime, case_time: datetime, seconds_per_year: float) -> CaseClock:
    """The compressed clock that reads `case_time` at wall instant `wall` and runs on with
    the wall (the bench measures how late cases wake: a late wake is late in case time)."""
    speedup = SECONDS_PER_YEAR / seconds_per_year
    origin = wall - (case_time - wall) / (speedup - 1)
    return CaseClock(origin=origin, seconds_per_year=seconds_per_year, moves="wall")


@dataclass
class Prototype:
    case_id: str
    region: Region
    year: int
    clones: int
    application: Application
    snapshot: dict[str, Any] = field(default_factory=dict)
    search_attributes: TypedSearchAttributes = TypedSearchAttributes.empty
    events: list[StoredEvent] = field(default_factory=list)
    state: CaseState = field(default_factory=CaseState)

    def overdue(self) -> str | None:
        """Why the case was not asleep when it was captured (its clones would all wake at
        once, not in waves), or None."""
        earliest, due = self.asleep_between()
        if earliest < due:
            return None
        return (
            f"prototype {self.case_id} was captured with an obligation due "
            f"{due + timedelta(hours=1):%Y-%m-%d} "
            f"before its last event ({earliest - timedelta(hours=1):%Y-%m-%d}): the machine "
            "did not keep the prototypes' clock; run fewer cases or on more CPUs"
        )

    def asleep_between(self) -> tuple[datetime, datetime]:
        """Case times at which it sleeps: after its last event, before its next obligation."""
        day = next_wakeup(self.state)
        assert day is not None
        last = max(e.event.at for e in self.events)
        due = datetime.combine(day, dtime.min, tzinfo=UTC)
        return last + timedelta(hours=1), due - timedelta(hours=1)


def prototypes_for(places: Sequence[tuple[Region, int, int]], stamp: str) -> list[Prototype]:
    out = []
    for i, (region, year, clones) in enumerate(places):
        demo_case = cohort(1, seed=1000 + i, prefix="capacity")[0]
        assert demo_case.scenario == KANDAS_FULFILLED
        # Thirty at the application, whatever the year: the scoring passes every prototype.
        application = demo_case.application.model_copy(
            update={"preferred_regions": (region,), "born_on": date(year - 30, 5, 1)}
        )
        out.append(Prototype(f"{stamp}-p{i:03d}", region, year, clones, application))
    return out


async def start_prototype(client: Client, p: Prototype, seconds_per_year: float) -> None:
    """A new case (a first run's rules) whose clock reads 1 March of its quota year."""
    clock = clock_through(datetime.now(UTC), datetime(p.year, 3, 1, tzinfo=UTC), seconds_per_year)
    fresh = RunState(clock=clock, human_floor_seconds=5.0)
    inp = api.CaseInput(
        case_id=p.case_id, application=p.application, snapshot=fresh.model_dump(mode="json")
    )
    await client.start_workflow(
        api.WORKFLOW_NAME,
        inp,
        id=api.case_workflow_id(p.case_id),
        task_queue=api.TASK_QUEUE,
        static_summary=api.static_summary(inp),
    )


def rent_paid(case: CaseState) -> bool:
    schedule = support_schedule(case, policy_by_id(case.policy_id))
    return bool(schedule) and all(s.idempotency_key in case.paid_keys for s in schedule)


async def capture(client: Client, p: Prototype, *, timeout: float) -> None:
    """Wait for the run continue-as-new opens after the rent year, keep its input (the
    snapshot) and search attributes, and stop the prototype."""
    handle = client.get_workflow_handle(api.case_workflow_id(p.case_id))
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        run_id = (await handle.describe()).run_id
        if run_id != seen:
            seen = run_id
            run = client.get_workflow_handle(handle.id, run_id=run_id)
            async for event in run.fetch_history_events():
                assert event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
                attrs = event.workflow_execution_started_event_attributes
                inp = (await client.data_converter.decode(attrs.input.payloads, [api.CaseInput]))[0]
                snap = RunState.model_validate(inp.snapshot) if inp.snapshot else None
                if snap and snap.case.stage == "monitoring" and rent_paid(snap.case):
                    await run.terminate(reason="capacity bench: prototype captured")
                    p.snapshot, p.state = inp.snapshot, snap.case
                    p.search_attributes = decode_typed_search_attributes(attrs.search_attributes)
                    return
                break
        await asyncio.sleep(1.0)
    status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
    raise SystemExit(f"prototype {p.case_id} did not reach its third case year: {status.stage}")


async def drive_prototypes(
    client: Client, pool: asyncpg.Pool, protos: list[Prototype], timeout: float
) -> None:
    seconds_per_year = prototype_seconds_per_year(len(protos))
    for p in protos:
        await start_prototype(client, p, seconds_per_year)
    await asyncio.gather(*(capture(client, p, timeout=timeout) for p in protos))
    async with pool.acquire() as conn:
        for p in protos:
            seq = RunState.model_validate(p.snapshot).seq
            p.events = [e for e in await read_events(conn, case_id=p.case_id) if e.seq <= seq]
    for p in protos:
        overdue = p.overdue()
        if overdue:
            raise SystemExit(overdue)
