"""Allocation rounds in the record (docs/decisions/014): each round is its own stream in the
one event log (`round-<round id>`: the same append, idempotency and hash chain as a case's),
holding what it ranked and offered, then what each candidate's case answered. The waiting
candidates are read from the cases projection; the places left from the quota ledger (a
place is still taken only by the case's own QuotaPlaceReserved append: decision 002)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from domain.allocation import (
    ROUND_STREAM_PREFIX,
    AllocationRoundClosed,
    AllocationRoundHeld,
    Candidate,
    RoundEvent,
    round_stream,
)
from domain.case import Candidacy
from domain.regions import Region
from store.errors import ConcurrencyConflictError, ContentConflictError, translated
from store.events import append_batch
from store.pool import Conn
from store.records import STORED_COLUMNS, NewRoundEvent, parse_round_event

__all__ = [
    "RoundRow",
    "candidates",
    "candidates_now",
    "in_use",
    "read_round",
    "record_round",
    "rounds",
]

# Kandas cases waiting for a round: permit issued, candidacy lodged, no place held, not moved
# on; `scope` narrows to case ids that start with it ('' for every case).
WAITING = """
SELECT case_id, state->'candidacy' AS candidacy
FROM cases
WHERE stage = 'relocation' AND region IS NULL AND track = 'kandas'
  AND jsonb_typeof(state->'candidacy') = 'object'
  AND left(case_id, length($1)) = $1
ORDER BY case_id
"""
# Where the waiting families' own clocks stand (on a compressed clock each case runs its own,
# from its start): each one's last event's case time moved on by the wall time since it was
# recorded, sped up; the earliest of the families waiting for region $2.
CANDIDATES_NOW = f"""
WITH waiting AS (
    SELECT min(e.occurred_at + least((statement_timestamp() - e.recorded_at) * $3::float8,
                                      make_interval(months => $4::int))) AS at
    FROM cases c JOIN events e ON e.case_id = c.case_id AND e.seq = c.last_seq
    WHERE c.stage = 'relocation' AND c.region IS NULL AND c.track = 'kandas'
      AND jsonb_typeof(c.state->'candidacy') = 'object'
      AND left(c.case_id, length($1)) = $1
      AND c.state->'candidacy'->'regions' ? $2
),
last_round AS (
    SELECT max(occurred_at) AS at FROM events
    WHERE type = 'AllocationRoundHeld' AND payload->>'region' = $2
      AND left(case_id, length('{ROUND_STREAM_PREFIX}' || $1)) = '{ROUND_STREAM_PREFIX}' || $1
)
SELECT CASE WHEN waiting.at IS NULL THEN NULL
            ELSE greatest(waiting.at, last_round.at + make_interval(months => $4::int)) END
FROM waiting, last_round
"""
IN_USE = "SELECT reserved - released FROM quota_ledger WHERE region = $1 AND year = $2"
READ = f"SELECT {STORED_COLUMNS} FROM events WHERE case_id = $1 ORDER BY seq"
ALL_ROUNDS = f"""
SELECT {STORED_COLUMNS} FROM events
WHERE case_id LIKE '{ROUND_STREAM_PREFIX}%' ORDER BY position
"""


async def candidates(conn: Conn, *, scope: str = "") -> list[Candidate]:
    """Every kandas case waiting for a round (those in `scope`), as rounds rank them."""
    with translated():
        rows = await conn.fetch(WAITING, scope)
    found = []
    for row in rows:
        raw = row["candidacy"]
        c = Candidacy.model_validate_json(raw if isinstance(raw, str) else json.dumps(raw))
        found.append(
            Candidate(
                case_id=row["case_id"],
                score=c.score,
                submitted_at=c.submitted_at,
                regions=c.regions,
            )
        )
    return found


async def candidates_now(
    conn: Conn, *, region: Region, speedup: float, period_months: int, scope: str = ""
) -> datetime | None:
    """The case time of the family that waits for `region` and whose own clock is furthest
    behind, as of now (None: no family waits for it): its last event's, run on by the wall
    time since at `speedup`, but never more than a round's period (rounds come every period:
    docs/decisions/021); and never less than a
    period after the region's last round, so that rounds held late still move on period by
    period."""
    with translated():
        found: datetime | None = await conn.fetchval(
            CANDIDATES_NOW, scope, region, speedup, period_months
        )
    return found


async def in_use(conn: Conn, *, region: Region, year: int) -> int:
    """Places of the region's quota year held now (reserved and not released)."""
    with translated():
        held = await conn.fetchval(IN_USE, region, year)
    return int(held or 0)


class Round(BaseModel):
    """One round as its stream holds it."""

    held: AllocationRoundHeld
    closed: AllocationRoundClosed | None = None


async def read_round(conn: Conn, *, rid: str) -> Round | None:
    with translated():
        rows = await conn.fetch(READ, round_stream(rid))
    events = [parse_round_event(row) for row in rows]
    held = next((e for e in events if isinstance(e, AllocationRoundHeld)), None)
    if held is None:
        return None
    closed = next((e for e in events if isinstance(e, AllocationRoundClosed)), None)
    return Round(held=held, closed=closed)


async def record_round(conn: Conn, *, rid: str, event: RoundEvent) -> bool:
    """Append the round's decision (its first event) or its close (its second). False, with
    nothing written, when the record already holds that step of this round (a duplicated
    round, or a retry that decided otherwise): the record's version stands."""
    seq = 0 if isinstance(event, AllocationRoundHeld) else 1
    stream = round_stream(rid)
    batch = [NewRoundEvent(event_id=f"{stream}:{seq + 1}", event=event)]

    async def nothing_projected(
        base: int, new: Sequence[NewRoundEvent], rows: Sequence[object]
    ) -> None:
        return None

    try:
        result = await append_batch(conn, stream, seq, batch, nothing_projected)
    except (ConcurrencyConflictError, ContentConflictError):
        return False
    return result.appended == 1


class RoundRow(BaseModel):
    """A round as `kosh quotas` shows it."""

    round_id: str
    number: int
    region: str
    period: str
    year: int
    capacity: int
    places: int
    candidates: int
    granted: int | None  # None: the round has not closed yet
    not_reached: int
    cut_off: int | None
    held_at: datetime


async def rounds(conn: Conn, *, year: int | None = None) -> list[RoundRow]:
    """Every round in the record (of one quota year), by region and number."""
    with translated():
        rows = await conn.fetch(ALL_ROUNDS)
    by_id: dict[str, Round] = {}
    for row in rows:
        event = parse_round_event(row)
        if isinstance(event, AllocationRoundHeld):
            by_id[event.round_id] = Round(held=event)
        elif event.round_id in by_id:
            by_id[event.round_id] = by_id[event.round_id].model_copy(update={"closed": event})
    shown = []
    for r in by_id.values():
        h = r.held
        if year is not None and h.year != year:
            continue
        offered_not = sum(1 for x in h.ranked if x.offer == "not_reached")
        granted = None if r.closed is None else r.closed.count("granted")
        missed = (
            offered_not
            if r.closed is None
            else (r.closed.count("not_reached") + r.closed.count("place_gone"))
        )
        shown.append(
            RoundRow(
                round_id=h.round_id,
                number=h.number,
                region=h.region,
                period=h.period,
                year=h.year,
                capacity=h.capacity,
                places=h.places,
                candidates=len(h.ranked),
                granted=granted,
                not_reached=missed,
                cut_off=h.cut_off,
                held_at=h.at,
            )
        )
    return sorted(shown, key=lambda x: (x.region, x.number, x.round_id))
