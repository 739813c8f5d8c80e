"""The ways the event store bench writes: four ways to append a case's events (kosh's
append, kosh's INSERT alone, raw asyncpg `executemany` and COPY) and two to reserve a quota
place (through kosh's append, the bare UPDATE) (bench/event_store.py)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from bench.event_store_lives import CaseLog, renamed
from domain import events as ev
from domain.regions import Region
from store.errors import QuotaExhaustedError
from store.events import HASH_AT, INSERT_BATCH, NewEvent, _links, append_events
from store.pool import Conn
from store.projections import RESERVE_PLACE
from store.records import event_columns

RAW_TABLE = "raw_events"
CREATE_RAW = f"CREATE TABLE {RAW_TABLE} (LIKE events INCLUDING ALL)"
RAW_COLUMNS = (
    "case_id",
    "seq",
    "event_id",
    "type",
    "schema_version",
    "policy_id",
    "occurred_at",
    "payload",
    "idempotency_key",
    "prev_hash",
    "hash",
)
INSERT_RAW = (
    f"INSERT INTO {RAW_TABLE} ({', '.join(RAW_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(RAW_COLUMNS) + 1))})"
)

APPEND_PATHS = (
    "kosh `append_events` (with projections)",
    "kosh's INSERT alone (hash chain, no projections)",
    "raw asyncpg `executemany`",
    "raw asyncpg `copy_records_to_table`",
)
RESERVE_PATHS = (
    "kosh `append_events` (QuotaPlaceReserved)",
    "bare `UPDATE quota_ledger ... RETURNING`",
)

Append = Callable[[Conn, CaseLog, int], Awaitable[None]]


async def kosh_append(conn: Conn, case: CaseLog, k: int) -> None:
    """As the append activity does it."""
    await append_events(
        conn, case_id=case.case_id, expected_seq=case.offsets[k], events=case.new_events(k)
    )


async def kosh_insert_alone(conn: Conn, case: CaseLog, k: int) -> None:
    """The very statement and columns append_events sends (the chain's links computed by the
    writer from the hash it reads), without the projections."""
    seq = case.offsets[k]
    async with conn.transaction():
        prev = await conn.fetchval(HASH_AT, case.case_id, seq)
        columns = event_columns(case.new_events(k), seq)
        links = _links(case.case_id, prev, columns)
        await conn.fetch(INSERT_BATCH, case.case_id, seq, *columns, *links)


def raw_rows(case: CaseLog, k: int) -> list[tuple[Any, ...]]:
    rows = []
    for seq, (event_id, e) in enumerate(
        zip(case.ids[k], case.batches[k], strict=True), case.offsets[k] + 1
    ):
        payload = e.model_dump_json()
        digest = hashlib.sha256(case.last_hash + payload.encode()).digest()
        key = getattr(e, "idempotency_key", None)
        prev = case.last_hash or None
        rows.append(
            (
                case.case_id,
                seq,
                event_id,
                e.type,
                e.schema_version,
                e.policy_id,
                e.at,
                payload,
                key,
                prev,
                digest,
            )
        )
        case.last_hash = digest
    return rows


async def raw_executemany(conn: Conn, case: CaseLog, k: int) -> None:
    await conn.executemany(INSERT_RAW, raw_rows(case, k))


async def raw_copy(conn: Conn, case: CaseLog, k: int) -> None:
    await conn.copy_records_to_table(RAW_TABLE, records=raw_rows(case, k), columns=RAW_COLUMNS)


async def run_appends(
    pool: asyncpg.Pool, cases: list[CaseLog], writers: int, append: Append
) -> None:
    """`writers` tasks, each with its share of the cases, advancing them a batch at a time."""

    async def writer(share: list[CaseLog]) -> None:
        for k in range(max(len(c.batches) for c in share)):
            for case in share:
                if k < len(case.batches):
                    async with pool.acquire() as conn:
                        await append(conn, case, k)

    await asyncio.gather(*(writer(cases[w::writers]) for w in range(writers) if cases[w::writers]))


@dataclass(frozen=True)
class Reserver:
    case_id: str
    seq: int
    policy_id: str
    at: datetime


async def open_cases(
    pool: asyncpg.Pool, templates: Sequence[list[list[ev.Event]]], count: int, tag: str
) -> list[Reserver]:
    """`count` kandas cases up to their kandas status (one untimed append each)."""

    async def one(i: int) -> Reserver:
        case_id = f"c-{tag}-{i:05d}"
        life = templates[i % len(templates)]
        until = next(k for k, b in enumerate(life) if isinstance(b[0], ev.QuotaPlaceReserved))
        events = [renamed(e, case_id, 0) for b in life[:until] for e in b]
        new = [NewEvent(event_id=str(uuid.uuid4()), event=e) for e in events]
        async with pool.acquire() as conn:
            await append_events(conn, case_id=case_id, expected_seq=0, events=new)
        return Reserver(case_id, len(events), events[-1].policy_id, events[-1].at)

    return list(await asyncio.gather(*map(one, range(count))))


async def at_once(
    pool: asyncpg.Pool, tasks: int, work: Callable[[Conn, int], Awaitable[bool]], attempts: int
) -> tuple[int, int]:
    """`attempts` calls of `work` by `tasks` tasks, each on its own connection, started
    together; (granted, refused)."""
    gate = asyncio.Barrier(tasks)

    async def task(t: int) -> list[bool]:
        async with pool.acquire() as conn:
            await gate.wait()
            return [await work(conn, i) for i in range(t, attempts, tasks)]

    outcomes = [ok for done in await asyncio.gather(*map(task, range(tasks))) for ok in done]
    return sum(outcomes), len(outcomes) - sum(outcomes)


def reserve_through_kosh(
    reservers: list[Reserver], region: Region, year: int, capacity: int
) -> Callable[[Conn, int], Awaitable[bool]]:
    async def work(conn: Conn, i: int) -> bool:
        r = reservers[i]
        event = ev.QuotaPlaceReserved(
            region=region,
            year=year,
            capacity=capacity,
            policy_id=r.policy_id,
            at=r.at + timedelta(days=1),
        )
        try:
            await append_events(
                conn,
                case_id=r.case_id,
                expected_seq=r.seq,
                events=[NewEvent(event_id=str(uuid.uuid4()), event=event)],
            )
        except QuotaExhaustedError:
            return False
        return True

    return work


def reserve_bare(region: Region, year: int) -> Callable[[Conn, int], Awaitable[bool]]:
    async def work(conn: Conn, i: int) -> bool:
        return await conn.fetchval(RESERVE_PLACE, region, year) is not None

    return work
