"""Appending domain events to the business record, idempotently and atomically."""

from __future__ import annotations

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import models as m
from activities.logging import activity_log
from store.errors import ConcurrencyConflictError, QuotaExhaustedError, StoreError
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
        try:
            async with self.pool.acquire() as conn:
                result = await append_events(
                    conn, case_id=req.case_id, expected_seq=req.expected_seq, events=batch
                )
        except QuotaExhaustedError as exc:
            raise ApplicationError(
                str(exc), exc.region, exc.year, type="QuotaExhausted", non_retryable=True
            ) from exc
        except ConcurrencyConflictError as exc:
            raise ApplicationError(
                str(exc), type="ConcurrencyConflict", non_retryable=True
            ) from exc
        except StoreError as exc:
            if exc.retryable:  # the database is away: Temporal retries with backoff
                raise
            raise ApplicationError(str(exc), type="StoreRefused", non_retryable=True) from exc
        log.info("events_appended", appended=result.appended, duplicates=result.duplicates)
        return m.AppendResult(
            last_seq=result.last_seq, appended=result.appended, duplicates=result.duplicates
        )
