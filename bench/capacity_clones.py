"""The capacity bench's clones: a prototype's record and snapshot under a new case id, the
record appended through the store's own append, the case started from the snapshot as
continue-as-new starts a run, asleep until its wave (bench/capacity.py)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from temporalio.client import Client

from adapters.simulator import SimConfig, Simulator
from bench.capacity_prototypes import Prototype, clock_through
from domain.agenda import support_schedule
from domain.case import CaseState
from domain.clock import SECONDS_PER_YEAR
from domain.events import EVENT_ADAPTER
from domain.policy import policy_by_id
from store.events import NewEvent, append_events
from workflows import api


async def agency_references(case: CaseState, case_id: str) -> list[str]:
    """What the simulated agencies answer this case id: permit, kandas status request and
    certificate, the authorities' request references, the treasury's payment references, in
    that order."""
    sim = Simulator(SimConfig(latency_ms=(0, 0), silence_rate=1.0))
    app = case.application
    assert app is not None
    assert case.kandas_request is not None
    kandas = await sim.request_kandas_status(
        case_id=case_id,
        application=app,
        requested_on=case.kandas_request.requested_on,
        request_key=f"{case_id}:kandas",  # the workflow's request key
    )
    refs = [await sim.issue_permit(case_id=case_id), kandas, sim.kandas_certificate(case_id)]
    for r in case.authority_requests:
        key = f"{case_id}:authority:{r.name}"  # the workflow's request key
        refs.append(
            await sim.request(case_id=case_id, application=app, authority=r.name, request_key=key)
        )
    renamed = case.model_copy(update={"case_id": case_id})
    for item in support_schedule(renamed, policy_by_id(case.policy_id)):
        receipt = await sim.disburse(
            idempotency_key=item.idempotency_key,
            case_id=case_id,
            amount_tiyn=item.amount_tiyn,
            purpose=item.measure,
        )
        refs.append(receipt.reference)
    return refs


@dataclass
class Clone:
    case_id: str
    proto: Prototype
    snapshot: dict[str, Any]


class Cloner:
    """A prototype's record and snapshot under new case ids."""

    def __init__(self, p: Prototype, proto_refs: list[str]) -> None:
        self.p = p
        self.tokens = [p.case_id, *proto_refs]
        self.record = json.dumps(
            [{"key": e.idempotency_key, "event": e.event.model_dump(mode="json")} for e in p.events]
        )
        self.snapshot = json.dumps(p.snapshot)
        for token in self.tokens:
            if token not in self.record:  # the simulator no longer answers as it did
                raise SystemExit(f"{p.case_id}: {token} is not in the prototype's record")
        self.pattern = re.compile("|".join(map(re.escape, sorted(self.tokens, key=len)[::-1])))

    @classmethod
    async def of(cls, p: Prototype) -> Cloner:
        return cls(p, await agency_references(p.state, p.case_id))

    async def clone(self, case_id: str) -> tuple[list[NewEvent], Clone]:
        refs = await agency_references(self.p.state, case_id)
        mapping = dict(zip(self.tokens, [case_id, *refs], strict=True))

        def swap(text: str) -> str:
            return self.pattern.sub(lambda m: mapping[m.group(0)], text)

        events = [
            NewEvent(
                event_id=str(uuid.uuid4()),
                event=EVENT_ADAPTER.validate_python(item["event"]),
                idempotency_key=item["key"],
            )
            for item in json.loads(swap(self.record))
        ]
        return events, Clone(case_id, self.p, json.loads(swap(self.snapshot)))


async def seed(
    pool: asyncpg.Pool, protos: list[Prototype], stamp: str, *, at_once: int = 6
) -> list[Clone]:
    """Append every clone's record through the store's own append, a few cases at once."""
    cloners = [await Cloner.of(p) for p in protos]
    jobs = [
        (c, f"{stamp}-c{n:05d}")
        for n, c in enumerate(c for c in cloners for _ in range(c.p.clones))
    ]
    clones: list[Clone] = []
    slots = asyncio.Semaphore(at_once)

    async def one(cloner: Cloner, case_id: str) -> None:
        events, clone = await cloner.clone(case_id)
        async with slots, pool.acquire() as conn:
            await append_events(conn, case_id=case_id, expected_seq=0, events=events)
        clones.append(clone)

    for at in range(0, len(jobs), 500):
        await asyncio.gather(*(one(c, case_id) for c, case_id in jobs[at : at + 500]))
    clones.sort(key=lambda c: c.case_id)
    return clones


async def start_clones(
    client: Client,
    clones: list[Clone],
    *,
    first_wave: float,
    wave_seconds: float,
    seconds_per_year: float,
    at_once: int = 32,
) -> None:
    """Start every clone from its snapshot, as continue-as-new starts a run, on a clock that
    wakes it at `first_wave` plus its share of the interval (wall epoch seconds); no clone
    sleeps longer than its interval, so the last ones started may wake a little early."""
    speedup = SECONDS_PER_YEAR / seconds_per_year
    slots = asyncio.Semaphore(at_once)

    async def one(i: int, c: Clone) -> None:
        async with slots:
            now = datetime.now(UTC)
            wake = datetime.fromtimestamp(first_wave + wave_seconds * i / len(clones), UTC)
            earliest, due = c.proto.asleep_between()
            case_now = min(max(due - (wake - now) * speedup, earliest), due)
            clock = clock_through(now, case_now, seconds_per_year).model_dump(mode="json")
            inp = api.CaseInput(
                case_id=c.case_id,
                application=c.proto.application,
                snapshot={**c.snapshot, "clock": clock},
            )
            await client.start_workflow(
                api.WORKFLOW_NAME,
                inp,
                id=api.case_workflow_id(c.case_id),
                task_queue=api.TASK_QUEUE,
                search_attributes=c.proto.search_attributes,
            )

    await asyncio.gather(*(one(i, c) for i, c in enumerate(clones)))
