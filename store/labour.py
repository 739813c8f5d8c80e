"""Labour requests in the record: their own streams in the one event log (`labour-<request
id>`, the same append rules and hash chain as a case's) and their projections: the request
rows, the labour quota ledger (a place is reserved atomically, as a kandas place is) and the
employers' sanctions (a suspended employer cannot reserve a place)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel

from domain import labour as lab
from store.errors import QuotaExhaustedError, StoreError, translated
from store.events import append_batch
from store.pool import Conn
from store.records import (
    LABOUR_STREAM_PREFIX,
    STORED_COLUMNS,
    AppendResult,
    NewLabourEvent,
    StoredLabourEvent,
    labour_stored_from_row,
    labour_stream,
)

__all__ = [
    "EmployerSuspendedError",
    "LabourQuotaUsage",
    "LabourRequestRow",
    "append_labour_events",
    "labour_quota_usage",
    "labour_requests",
    "read_labour_events",
]


class EmployerSuspendedError(StoreError):
    """The employer's quota rights are suspended on that day: no place was reserved."""

    def __init__(self, employer_id: str, until: date) -> None:
        self.employer_id = employer_id
        self.until = until
        super().__init__(f"employer {employer_id} has no quota rights until {until.isoformat()}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.employer_id, self.until))


LOAD = "SELECT last_seq, state::text AS state FROM labour_requests WHERE request_id = $1 FOR UPDATE"
UPSERT = """
INSERT INTO labour_requests (request_id, employer_key, industry, region, project, stage,
                             closed_reason, last_seq, updated_at, state)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb)
ON CONFLICT (request_id) DO UPDATE SET
    stage = EXCLUDED.stage, closed_reason = EXCLUDED.closed_reason,
    last_seq = EXCLUDED.last_seq, updated_at = EXCLUDED.updated_at, state = EXCLUDED.state
"""
# One round trip, as store.projections.TAKE_PLACE: opens the line at its first place.
TAKE_PLACE = """
INSERT INTO labour_quota_ledger (industry, region, project, year, capacity, reserved)
SELECT $1, $2, $3, $4, $5, 1 WHERE $5 > 0
ON CONFLICT (industry, region, project, year) DO UPDATE
SET reserved = labour_quota_ledger.reserved + 1
WHERE labour_quota_ledger.reserved - labour_quota_ledger.released < labour_quota_ledger.capacity
RETURNING reserved
"""
RELEASE = """
UPDATE labour_quota_ledger SET released = released + 1
WHERE industry = $1 AND region = $2 AND project = $3 AND year = $4 AND released < reserved
RETURNING released
"""
SUSPENDED_UNTIL = "SELECT suspended_until FROM employer_sanctions WHERE employer_id = $1"
SANCTION = """
INSERT INTO employer_sanctions (employer_id, fines_tiyn, suspended_until) VALUES ($1, $2, $3)
ON CONFLICT (employer_id) DO UPDATE SET
    fines_tiyn = employer_sanctions.fines_tiyn + EXCLUDED.fines_tiyn,
    suspended_until = greatest(employer_sanctions.suspended_until, EXCLUDED.suspended_until)
"""
INSERT_LINE = """
INSERT INTO labour_quota_ledger (industry, region, project, year, capacity, reserved, released)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
READ = f"SELECT {STORED_COLUMNS} FROM events WHERE case_id = $1 AND seq > $2 ORDER BY seq"
LABOUR_LOG = (
    f"SELECT {STORED_COLUMNS} FROM events WHERE case_id LIKE '{LABOUR_STREAM_PREFIX}%' "
    "ORDER BY position"
)
CLEAR = "TRUNCATE labour_requests, labour_quota_ledger, employer_sanctions"
# Each projection and what names one of its rows in a rebuild report.
LABOUR_PROJECTIONS = {
    "labour_requests": "request_id",
    "labour_quota_ledger": "industry || ' ' || region || ' ' || project || ' ' || year",
    "employer_sanctions": "employer_id",
}


async def append_labour_events(
    conn: Conn,
    *,
    request_id: str,
    expected_seq: int,
    events: Sequence[NewLabourEvent],
    writer: str | None = None,
) -> AppendResult:
    """Append to the request's stream, as `store.events.append_events` does for a case: the
    same idempotency, conflict and adoption rules (`writer`). A place beyond the line's capacity
    raises QuotaExhaustedError, a suspended employer's reservation EmployerSuspendedError;
    either stores nothing."""
    stream = labour_stream(request_id)

    async def project(base: int, new: Sequence[NewLabourEvent], rows: Sequence[Any]) -> None:
        by_seq = {row["seq"]: row for row in rows}
        await _apply(conn, request_id, base, [(e, by_seq[base + i]) for i, e in enumerate(new, 1)])

    return await append_batch(conn, stream, expected_seq, events, project, writer=writer)


async def read_labour_events(
    conn: Conn, *, request_id: str, after_seq: int = 0
) -> list[StoredLabourEvent]:
    with translated():
        rows = await conn.fetch(READ, labour_stream(request_id), after_seq)
    return [labour_stored_from_row(row) for row in rows]


async def _apply(
    conn: Conn, request_id: str, base: int, landed: list[tuple[NewLabourEvent, Any]]
) -> None:
    current = await conn.fetchrow(LOAD, request_id)
    state = lab.LabourState() if current is None else _state(current["state"])
    last = 0 if current is None else current["last_seq"]
    if last != base:
        raise StoreError(
            f"labour_requests projection of {request_id} is at seq {last} but the log is at "
            f"{base}: run `kosh projections rebuild`"
        )
    for new, _ in landed:
        await _project_line(conn, new.event)
        state = lab.evolve_labour(state, new.event)
    _, row = landed[-1]
    await conn.execute(UPSERT, *request_row(request_id, state, row["seq"], row["recorded_at"]))


async def _project_line(conn: Conn, event: lab.LabourEvent) -> None:
    match event:
        case lab.LabourPlaceReserved():
            until = await conn.fetchval(SUSPENDED_UNTIL, event.employer_id)
            if until is not None and event.at.date() <= until:
                raise EmployerSuspendedError(event.employer_id, until)
            key = (event.industry, event.region, event.project or "", event.year)
            if await conn.fetchval(TAKE_PLACE, *key, event.capacity) is None:
                raise QuotaExhaustedError(_line_name(event), event.year)
        case lab.LabourPlaceReleased():
            key = (event.industry, event.region, event.project or "", event.year)
            if await conn.fetchval(RELEASE, *key) is None:
                raise StoreError(f"labour place {_line_name(event)} {event.year} never reserved")
        case lab.EmployerLiabilityImposed():
            await conn.execute(
                SANCTION, event.employer_id, event.fine_tiyn, event.quota_rights_suspended_until
            )


def _line_name(event: lab.LabourPlaceReserved | lab.LabourPlaceReleased) -> str:
    where = f"{event.industry} in {event.region}"
    return f"{where}, project {event.project}" if event.project else where


def request_row(
    request_id: str, state: lab.LabourState, last_seq: int, updated_at: Any
) -> tuple[Any, ...]:
    r = state.request
    if r is None:
        raise StoreError(f"labour request {request_id}: the first event must be the request")
    return (
        request_id,
        state.employer_key,  # as recorded with the request (keyed): never the BIN
        r.industry,
        r.region,
        r.project or "",
        state.stage,
        state.closed_reason,
        last_seq,
        updated_at,
        json.dumps(state.model_dump(mode="json"), separators=(",", ":"), sort_keys=True),
    )


def _state(raw: str) -> lab.LabourState:
    return lab.LabourState.model_validate_json(raw)


class LabourRebuild:
    """The labour projections of the whole log, in position order (`kosh projections
    rebuild`): the log is trusted, capacity and suspensions are not re-checked."""

    def __init__(self) -> None:
        self.states: dict[str, tuple[lab.LabourState, StoredLabourEvent]] = {}
        self.lines: dict[tuple[str, str, str, int], list[int]] = {}
        self.sanctions: dict[str, list[Any]] = {}

    def add(self, stored: StoredLabourEvent) -> None:
        request_id = stored.case_id.removeprefix(LABOUR_STREAM_PREFIX)
        state, _ = self.states.get(request_id, (lab.LabourState(), stored))
        self.states[request_id] = (lab.evolve_labour(state, stored.event), stored)
        match e := stored.event:
            case lab.LabourPlaceReserved():
                key = (e.industry, e.region, e.project or "", e.year)
                self.lines.setdefault(key, [e.capacity, 0, 0])[1] += 1
            case lab.LabourPlaceReleased():
                self.lines.setdefault((e.industry, e.region, e.project or "", e.year), [0, 0, 0])[
                    2
                ] += 1
            case lab.EmployerLiabilityImposed():
                fines, until = self.sanctions.get(
                    e.employer_id, [0, e.quota_rights_suspended_until]
                )
                self.sanctions[e.employer_id] = [
                    fines + e.fine_tiyn,
                    max(until, e.quota_rights_suspended_until),
                ]

    def request_rows(self) -> Iterable[tuple[Any, ...]]:
        return [
            request_row(rid, state, last.seq, last.recorded_at)
            for rid, (state, last) in self.states.items()
        ]

    def line_rows(self) -> Iterable[tuple[Any, ...]]:
        return [(*key, *tally) for key, tally in self.lines.items()]

    def sanction_rows(self) -> Iterable[tuple[Any, ...]]:
        return [(employer, *rest) for employer, rest in self.sanctions.items()]


async def rebuild_labour(conn: Conn) -> None:
    """Recompute the labour projections from the log (inside rebuild_projections' lock)."""
    await conn.execute(CLEAR)
    rebuild = LabourRebuild()
    async for row in conn.cursor(LABOUR_LOG, prefetch=500):
        rebuild.add(labour_stored_from_row(row))
    await conn.executemany(UPSERT, rebuild.request_rows())
    await conn.executemany(INSERT_LINE, rebuild.line_rows())
    await conn.executemany(
        "INSERT INTO employer_sanctions (employer_id, fines_tiyn, suspended_until) "
        "VALUES ($1, $2, $3)",
        rebuild.sanction_rows(),
    )


class LabourQuotaUsage(BaseModel):
    industry: str
    region: str
    project: str
    year: int
    capacity: int
    reserved: int
    released: int
    in_use: int
    available: int


USAGE = """
SELECT industry, region, project, year, capacity, reserved, released,
       reserved - released AS in_use, greatest(capacity - (reserved - released), 0) AS available
FROM labour_quota_ledger
WHERE ($1::int IS NULL OR year = $1)
ORDER BY year, industry, region, project
"""


async def labour_quota_usage(conn: Conn, *, year: int | None = None) -> list[LabourQuotaUsage]:
    """Labour places per line and year, as the record holds them (lines open on first use)."""
    with translated():
        rows = await conn.fetch(USAGE, year)
    return [LabourQuotaUsage.model_validate(dict(row)) for row in rows]


class LabourRequestRow(BaseModel):
    request_id: str
    employer_key: str
    industry: str
    region: str
    project: str
    stage: str
    closed_reason: str | None


LIST = """
SELECT request_id, employer_key, industry, region, project, stage, closed_reason
FROM labour_requests
WHERE ($1::text IS NULL OR stage = $1)
ORDER BY updated_at DESC, request_id
LIMIT $2
"""


async def labour_requests(
    conn: Conn, *, stage: str | None = None, limit: int = 100
) -> list[LabourRequestRow]:
    with translated():
        rows = await conn.fetch(LIST, stage, limit)
    return [LabourRequestRow.model_validate(dict(row)) for row in rows]
