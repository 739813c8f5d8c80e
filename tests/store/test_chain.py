"""The writer computes the hash chain (store/chain.py, decision 010): every link it sends is the
one the database's own `events_link_hash` gives, for every kind of event, by every append path,
and `jsonb_text` writes what PostgreSQL writes for `payload::text`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from domain import labour as lab
from domain.record import event_id
from store.chain import NotCanonical, chained, jsonb_text
from store.events import append_events
from store.integrity import verify_chains
from store.labour import append_labour_events
from store.records import NewEvent, NewLabourEvent
from tests.store.factories import kandas_breach, new_case_id
from tests.store.test_labour import reserve
from tests.store.test_labour import submitted as labour_submitted

RECOMPUTED = """
SELECT count(*) FILTER (WHERE hash = events_link_hash(prev_hash, e)) AS same, count(*) AS all
FROM events e WHERE case_id = $1
"""

VALUES = [
    {},
    [],
    {"b": 1, "aa": [1, -2, 0, 10**18], "a": "x", "ab": None, "B": True, "é": False},
    {"text": 'quote " backslash \\ slash / tab \t newline \n cr \r bell \x07 nul-ish \x01'},
    {"unicode": "Қазақстан 🇰🇿 naïve", "ключ": {"z": [], "y": {}, "yy": [[{"k": "v"}]]}},
    {"same-length": {"ab": 1, "aa": 2, "ba": 3, "Ab": 4}},
    {"controls": "\b\f\x02\x1f\x7f \u2028\u2029 \ufeff", "k\ney\t": "\\u0041"},
]


@pytest.mark.parametrize("value", VALUES)
async def test_jsonb_text_is_what_postgresql_writes(pool: asyncpg.Pool, value: object) -> None:
    async with pool.acquire() as conn:
        theirs = await conn.fetchval("SELECT $1::text::jsonb::text", json.dumps(value))
    assert jsonb_text(value) == theirs


def test_a_value_without_a_written_form_is_left_to_the_database() -> None:
    with pytest.raises(NotCanonical):
        jsonb_text({"rate": 1.5})
    row = ("e", "T", 1, "2026.1", datetime(2026, 1, 1, tzinfo=UTC), '{"rate": 1.5}', None)
    assert chained(None, "c", 0, [row]) == ([None], [None])


async def test_every_link_the_writer_sends_is_the_databases_own(pool: asyncpg.Pool) -> None:
    """A case's whole life, one event at a time (the one-statement path, the row read back
    and remembered), in one batch (the same), inside a caller's transaction (the transactional
    path); a labour request's stream (always transactional)."""
    life = kandas_breach(new_case_id(), "Akmola", 2031)
    async with pool.acquire() as conn:
        one_by_one = new_case_id()
        for seq, event in enumerate(kandas_breach(one_by_one, "Akmola", 2031), 1):
            await append_events(
                conn,
                case_id=one_by_one,
                expected_seq=seq - 1,
                events=[NewEvent(event_id=f"{one_by_one}/{seq}", event=event)],
            )
        whole = new_case_id()
        batch = [
            NewEvent(event_id=f"{whole}/{i}", event=e)
            for i, e in enumerate(kandas_breach(whole, "Akmola", 2031))
        ]
        await append_events(conn, case_id=whole, expected_seq=0, events=batch)
        in_tx = new_case_id()
        async with conn.transaction():
            for seq, event in enumerate(kandas_breach(in_tx, "Akmola", 2031), 1):
                await append_events(
                    conn,
                    case_id=in_tx,
                    expected_seq=seq - 1,
                    events=[NewEvent(event_id=f"{in_tx}/{seq}", event=event)],
                )
        request_id, writer = f"lr-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
        employer = f"BIN{uuid.uuid4().hex[:9]}"
        labour: list[lab.LabourEvent] = [
            labour_submitted(request_id, employer),
            reserve(employer, 2031, 5),
        ]
        for seq, step in enumerate(labour, 1):
            await append_labour_events(
                conn,
                request_id=request_id,
                expected_seq=seq - 1,
                events=[NewLabourEvent(event_id=event_id(writer, seq), event=step)],
                writer=writer,
            )
        streams = [one_by_one, whole, in_tx, f"labour-{request_id}"]
        counts = [await conn.fetchrow(RECOMPUTED, s) for s in streams]
        reports = [await verify_chains(conn, case_id=s) for s in streams]
    assert [(c["same"], c["all"]) for c in counts] == [
        (len(life), len(life)),
        (len(life), len(life)),
        (len(life), len(life)),
        (2, 2),
    ]
    assert all(r.broken == [] for r in reports)
