"""Appending domain events to the business record, idempotently and atomically."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from activities import models as m
from activities.errors import recorded
from activities.logging import activity_log
from store.events import NewEvent, append_events


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
                conn, case_id=req.case_id, expected_seq=req.expected_seq, events=batch
            )
        log.info("events_appended", appended=result.appended, duplicates=result.duplicates)
        return m.AppendResult(
            last_seq=result.last_seq, appended=result.appended, duplicates=result.duplicates
        )
