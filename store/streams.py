"""Every applicant case's stream, read at one snapshot and never written: what a policy
draft's impact is computed from (`kosh policy simulate`, domain/simulation.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from domain import events as ev
from store.errors import translated
from store.pool import Conn
from store.records import STORED_COLUMNS, stored_from_row

# Applicant cases only: a stream whose first event is an application (rounds and labour
# requests are streams of their own).
CASE_STREAMS = f"""
SELECT {STORED_COLUMNS} FROM events
WHERE case_id IN (SELECT case_id FROM events WHERE seq = 1 AND type = 'ApplicationSubmitted')
ORDER BY case_id, seq
"""


async def case_streams(conn: Conn) -> AsyncIterator[list[ev.Event]]:
    """Each case's events in order, case after case, in one read-only transaction (a
    repeatable-read snapshot: no append made meanwhile is half seen, and nothing is
    written)."""
    with translated():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            current: str | None = None
            events: list[ev.Event] = []
            async for row in conn.cursor(CASE_STREAMS, prefetch=2000):
                if row["case_id"] != current and events:
                    yield events
                    events = []
                current = row["case_id"]
                events.append(stored_from_row(row).event)
            if events:
                yield events
