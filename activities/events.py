"""Appending domain events to the business record, idempotently and atomically."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from activities import models as m
from activities.errors import recorded
from activities.logging import activity_log
from store.events import NewEvent, append_events, read_events


class EventActivities:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn
    async def append_events(self, req: m.AppendInput) -> m.AppendResult:
        log = activity_log(case_id=req.case_id, expected_seq=req.expected_seq)
        batch = [
            NewEvent(event_id=p.event_id, event=p.event, idempotency_key=p.idempotency_key)
            for p in req.events
        ]
        async with recorded(), self.pool.acquire() as conn:
            result = await append_events(
                conn,
                case_id=req.case_id,
                expected_seq=req.expected_seq,
                events=batch,
                writer=req.writer,
            )
            held = await self._held(conn, req, result.adopted)
        if held:
            log.warning("earlier_attempt_adopted", writer=req.writer, adopted=len(held))
        log.info("events_appended", appended=result.appended, duplicates=result.duplicates)
        return m.AppendResult(
            last_seq=result.last_seq,
            appended=result.appended,
            duplicates=result.duplicates,
            adopted=held,
            recorded=tuple(m.recorded_event(p.event) for p in held or req.events),
        )

    @staticmethod
    async def _held(
        conn: asyncpg.Connection, req: m.AppendInput, adopted: int
    ) -> tuple[m.PendingEvent, ...]:
        """The events an earlier attempt of the batch recorded, as the workflow will fold them."""
        if not adopted:
            return ()
        stored = await read_events(conn, case_id=req.case_id, after_seq=req.expected_seq)
        return tuple(
            m.PendingEvent(event_id=s.event_id, event=s.event, idempotency_key=s.idempotency_key)
            for s in stored[:adopted]
        )
