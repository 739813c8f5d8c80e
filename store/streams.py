"""Every applicant case's stream and every labour request's, read at one snapshot and never
written: what a policy draft's impact is computed from (`kosh policy simulate`,
domain/simulation.py and domain/labour_simulation.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from domain import events as ev
from domain.labour import events as le
from store.errors import translated
from store.pool import Conn
from store.records import (
    LABOUR_STREAM_PREFIX,
    STORED_COLUMNS,
    labour_stored_from_row,
    stored_from_row,
)

E = TypeVar("E")

# Applicant cases only: a stream whose first event is an application (rounds and labour
# requests are streams of their own).
CASE_STREAMS = f"""
SELECT {STORED_COLUMNS} FROM events
WHERE case_id IN (SELECT case_id FROM events WHERE seq = 1 AND type = 'ApplicationSubmitted')
ORDER BY case_id, seq
"""
LABOUR_STREAMS = f"""
SELECT {STORED_COLUMNS} FROM events WHERE case_id LIKE '{LABOUR_STREAM_PREFIX}%'
ORDER BY case_id, seq
"""


async def case_streams(conn: Conn) -> AsyncIterator[list[ev.Event]]:
    """Each case's events in order, case after case, in one read-only transaction (a
    repeatable-read snapshot: no append made meanwhile is half seen, and nothing is
    written)."""
    async for events in _streams(conn, CASE_STREAMS, lambda row: stored_from_row(row).event):
        yield events


async def labour_streams(conn: Conn) -> AsyncIterator[list[le.LabourEvent]]:
    """Each labour request's events in order, as `case_streams` reads the cases'."""

    def event(row: Any) -> le.LabourEvent:
        return labour_stored_from_row(row).event

    async for events in _streams(conn, LABOUR_STREAMS, event):
        yield events


async def _streams(conn: Conn, query: str, event: Callable[[Any], E]) -> AsyncIterator[list[E]]:
    with translated():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            current: str | None = None
            events: list[E] = []
            async for row in conn.cursor(query, prefetch=2000):
                if row["case_id"] != current and events:
                    yield events
                    events = []
                current = row["case_id"]
                events.append(event(row))
            if events:
                yield events
