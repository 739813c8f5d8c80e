"""The record is tamper-evident: each event's hash covers its content and the case's previous
event; a change made behind the store's back (guard lifted by a superuser) is found."""

from __future__ import annotations

from itertools import pairwise

import asyncpg

from store.events import append_events
from store.integrity import verify_chains
from tests.store.factories import approved, new, new_case_id, submitted


async def a_case(pool: asyncpg.Pool) -> str:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        # a batch: each event chains to the one before it in the same statement
        await append_events(
            conn, case_id=case_id, expected_seq=1, events=list(map(new, approved()))
        )
    return case_id


async def behind_the_stores_back(conn: asyncpg.Connection, sql: str, *args: object) -> None:
    async with conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


async def test_every_event_is_chained_to_the_one_before(pool: asyncpg.Pool) -> None:
    case_id = await a_case(pool)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT seq, prev_hash, hash FROM events WHERE case_id = $1 ORDER BY seq", case_id
        )
        report = await verify_chains(conn, case_id=case_id)
    assert rows[0]["prev_hash"] is None
    assert all(b["prev_hash"] == a["hash"] for a, b in pairwise(rows))
    assert len({r["hash"] for r in rows}) == len(rows) == report.events
    assert report.broken == []


async def test_a_rewritten_event_is_named(pool: asyncpg.Pool) -> None:
    case_id = await a_case(pool)
    async with pool.acquire() as conn:
        await behind_the_stores_back(
            conn,
            "UPDATE events SET payload = jsonb_set(payload, '{policy_id}', '\"2099.9\"') "
            "WHERE case_id = $1 AND seq = 2",
            case_id,
        )
        report = await verify_chains(conn, case_id=case_id)
    [link] = report.broken
    assert (link.case_id, link.seq) == (case_id, 2)
    assert "content" in link.reason


async def test_a_rewrite_that_also_forges_the_hash_breaks_the_next_link(
    pool: asyncpg.Pool,
) -> None:
    case_id = await a_case(pool)
    async with pool.acquire() as conn:
        await behind_the_stores_back(
            conn,
            "UPDATE events SET payload = jsonb_set(payload, '{policy_id}', '\"2099.9\"') "
            "WHERE case_id = $1 AND seq = 2",
            case_id,
        )
        await behind_the_stores_back(
            conn,
            "UPDATE events e SET hash = events_link_hash(e.prev_hash, e) "
            "WHERE case_id = $1 AND seq = 2",
            case_id,
        )
        report = await verify_chains(conn, case_id=case_id)
    [link] = report.broken
    assert (link.seq, "chained" in link.reason) == (3, True)


async def test_a_removed_event_breaks_the_chain(pool: asyncpg.Pool) -> None:
    case_id = await a_case(pool)
    async with pool.acquire() as conn:
        await behind_the_stores_back(
            conn, "DELETE FROM events WHERE case_id = $1 AND seq = 2", case_id
        )
        report = await verify_chains(conn, case_id=case_id)
        others = await verify_chains(conn, case_id=await a_case(pool))
    assert [(b.seq, "chained" in b.reason) for b in report.broken] == [(3, True)]
    assert others.broken == []
