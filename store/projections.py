"""Projections of the event log (cases, quota ledger, payments): kept live, rebuildable.

Live: `apply_projections` runs inside the append's transaction for newly appended events only.
Rebuild: `rebuild_projections` folds the whole log in position order into the same rows, with
the same row builders, so the two always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain import events as ev
from domain.case import CaseState, evolve, fold
from store.errors import (
    DuplicatePaymentError,
    PlaceAlreadyHeldError,
    QuotaExhaustedError,
    StoreError,
)
from store.pool import Conn
from store.queries import balance_owed, list_cases, payments_for, quota_usage
from store.records import APPLICANT_STREAMS, STORED_COLUMNS, StoredEvent, stored_from_row

__all__ = [
    "Ahead",
    "apply_projections",
    "balance_owed",
    "list_cases",
    "load_case",
    "payments_for",
    "project_ahead",
    "quota_usage",
    "rebuild_cases",
]

CASE_COLUMNS = (
    "case_id, track, stage, region, policy_id, score, decision, contract_starts_on, "
    "contract_ends_on, closed_reason, paid_tiyn, outstanding_tiyn, last_seq, updated_at, state"
)
# State travels as text and is cast in SQL, so it is stored the same with or without a json codec.
# Every column but the key, from the row the upsert proposed.
CASE_SET = ", ".join(
    f"{name} = EXCLUDED.{name}" for name in CASE_COLUMNS.replace(" ", "").split(",")[1:]
)
UPSERT_CASE = f"""
INSERT INTO cases ({CASE_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::text::jsonb)
ON CONFLICT (case_id) DO UPDATE SET {CASE_SET}
"""
LOAD_CASE = "SELECT last_seq, state::text AS state FROM cases WHERE case_id = $1 FOR UPDATE"
READ_CASE_ROW = "SELECT last_seq, state::text AS state FROM cases WHERE case_id = $1"
OPEN_QUOTA = """
INSERT INTO quota_ledger (region, year, capacity) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
"""
RESERVE_PLACE = """
UPDATE quota_ledger SET reserved = reserved + 1
WHERE region = $1 AND year = $2 AND reserved - released < capacity
RETURNING reserved
"""
# The reservation in one round trip: opens the year's row at its first place, else takes a
# place while one is left (the row's lock serialises racing reservers). No row comes back
# when none is left, or the capacity is 0.
TAKE_PLACE = """
INSERT INTO quota_ledger (region, year, capacity, reserved) SELECT $1, $2, $3, 1 WHERE $3 > 0
ON CONFLICT (region, year) DO UPDATE SET reserved = quota_ledger.reserved + 1
WHERE quota_ledger.reserved - quota_ledger.released < quota_ledger.capacity
RETURNING reserved
"""
RELEASE_PLACE = """
UPDATE quota_ledger SET released = released + 1
WHERE region = $1 AND year = $2 AND released < reserved
RETURNING released
"""
INSERT_QUOTA = """
INSERT INTO quota_ledger (region, year, capacity, reserved, released) VALUES ($1, $2, $3, $4, $5)
"""
PAYMENT_COLUMNS = (
    "idempotency_key, case_id, kind, measure, period, amount_tiyn, reference, occurred_at, position"
)
INSERT_PAYMENT = f"""
INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING idempotency_key
"""
# SHARE on events first: waits for in-flight appends and keeps new ones out (they take the
# events lock before the projection locks, so this order cannot deadlock).
LOCK_LOG = "LOCK TABLE events IN SHARE MODE"
CLEAR = "TRUNCATE cases, quota_ledger, payments"
# The applicants' streams; the labour requests' (labour-...) are rebuilt by store.labour, the
# allocation rounds' (round-...) have no projection (store.rounds reads them).
WHOLE_LOG = f"SELECT {STORED_COLUMNS} FROM events WHERE {APPLICANT_STREAMS} ORDER BY position"


async def apply_projections(
    conn: Conn, *, case_id: str, expected_seq: int, appended: Sequence[StoredEvent]
) -> None:
    """Project events just appended as seqs expected_seq+1.. (call inside the append's tx)."""
    current = await conn.fetchrow(LOAD_CASE, case_id)
    state, last = (CaseState(), 0) if current is None else _loaded(current)
    if last != expected_seq:
        raise StoreError(
            f"cases projection of {case_id} is at seq {last} but the log is at {expected_seq}: "
            "run rebuild_projections"
        )
    for stored in appended:
        event = stored.event
        if isinstance(event, ev.QuotaPlaceReserved) and state.region and state.quota_year:
            # one place per case, enforced by the record itself, not only by the decider
            raise PlaceAlreadyHeldError(case_id, state.region, state.quota_year)
        await _project_quota(conn, event)
        state = fold([event], state)
    for row in filter(None, map(payment_row, appended)):
        if await conn.fetchval(INSERT_PAYMENT, *row) is None:
            raise DuplicatePaymentError(row[0])
    await conn.execute(UPSERT_CASE, *case_row(case_id, state, appended[-1]))


async def load_case(conn: Conn, case_id: str) -> tuple[CaseState, int]:
    """The case's projected state and its last seq as committed now, without a lock ((empty, 0)
    for a case the record does not hold)."""
    current = await conn.fetchrow(READ_CASE_ROW, case_id)
    return (CaseState(), 0) if current is None else _loaded(current)


@dataclass(frozen=True)
class Ahead:
    """A batch's projections worked out before it is stored, for the one-statement append: the
    case row's columns (track to outstanding_tiyn, then last_seq and the state; updated_at is
    the statement's own time, as the events' recorded_at), each payment's row by its seq, the
    quota ledger move if the batch makes one ("reserve" or "release", region, year, capacity)
    and the state folded."""

    case: tuple[Any, ...]
    payments: list[tuple[int, tuple[Any, ...]]]
    quota: tuple[str | None, str | None, int | None, int | None]
    state: CaseState


def project_ahead(
    case_id: str, state: CaseState, expected_seq: int, events: Sequence[ev.Event]
) -> Ahead | None:
    """The projections of `events` stored as seqs expected_seq+1.. onto `state`, or None when
    the batch is for the transactional path: it moves the quota ledger more than once, or
    reserves a second place for the case (that path names the error)."""
    quota: tuple[str | None, str | None, int | None, int | None] = (None, None, None, None)
    payments = []
    for seq, event in enumerate(events, expected_seq + 1):
        match event:
            case ev.QuotaPlaceReserved() | ev.QuotaPlaceReleased() if quota[0] is not None:
                return None
            case ev.QuotaPlaceReserved() if state.region and state.quota_year:
                return None
            case ev.QuotaPlaceReserved():
                quota = ("reserve", event.region, event.year, event.capacity)
            case ev.QuotaPlaceReleased():
                quota = ("release", event.region, event.year, None)
        fields = payment_fields(case_id, event)
        if fields is not None:
            payments.append((seq, fields))
        state = fold([event], state)
    last = expected_seq + len(events)
    return Ahead((*_case_fields(state), last, _state_json(state)), payments, quota, state)


async def rebuild_cases(conn: Conn) -> None:
    """Empty the cases' projections and recompute them from the whole log (the caller holds
    the log's lock, in a transaction: store/rebuild.py). The log is trusted: facts already
    recorded are not re-checked against quota capacity."""
    await conn.execute(CLEAR)
    rebuild = _Rebuild()
    async for row in conn.cursor(WHOLE_LOG, prefetch=500):
        rebuild.add(stored_from_row(row))
    await conn.executemany(UPSERT_CASE, rebuild.case_rows())
    await conn.executemany(INSERT_QUOTA, rebuild.quota_rows())
    await conn.executemany(INSERT_PAYMENT, rebuild.payments)


def case_row(case_id: str, state: CaseState, last: StoredEvent) -> tuple[Any, ...]:
    """The cases row for a state folded up to and including `last`."""
    return (case_id, *_case_fields(state), last.seq, last.recorded_at, _state_json(state))


def _case_fields(state: CaseState) -> tuple[Any, ...]:
    """The cases row's columns from track to outstanding_tiyn."""
    breakdown = state.breakdown
    return (
        state.track,
        state.stage,
        state.region,
        state.policy_id,
        breakdown.total if breakdown else None,
        breakdown.decision if breakdown else None,
        state.contract_starts_on,
        state.contract_ends_on,
        state.closed_reason,
        state.paid_tiyn,
        state.outstanding_tiyn,
    )


def payment_row(stored: StoredEvent) -> tuple[Any, ...] | None:
    """The payments row an event records, if it records a payment (key first)."""
    fields = payment_fields(stored.case_id, stored.event)
    return None if fields is None else (*fields, stored.position)


def payment_fields(case_id: str, event: ev.Event) -> tuple[Any, ...] | None:
    """A payments row but its position (the event's place in the log), if the event is a payment."""
    match event:
        case ev.SupportPaid():
            return (
                event.idempotency_key,
                case_id,
                "disbursement",
                event.measure,
                event.period,
                event.amount_tiyn,
                event.payment_reference,
                event.at,
            )
        case ev.RepaymentReceived():
            return (
                f"{case_id}:repayment:{event.reference}",
                case_id,
                "repayment",
                None,
                None,
                event.amount_tiyn,
                event.reference,
                event.at,
            )
    return None


async def _project_quota(conn: Conn, event: ev.Event) -> None:
    match event:
        case ev.QuotaPlaceReserved():
            if await conn.fetchval(TAKE_PLACE, event.region, event.year, event.capacity) is None:
                raise QuotaExhaustedError(event.region, event.year)
        case ev.QuotaPlaceReleased():
            if await conn.fetchval(RELEASE_PLACE, event.region, event.year) is None:
                raise _release_without_reservation(event)


def _release_without_reservation(event: ev.QuotaPlaceReleased) -> StoreError:
    return StoreError(f"quota place in {event.region} {event.year} released but never reserved")


def _loaded(row: Any) -> tuple[CaseState, int]:
    return CaseState.model_validate_json(row["state"]), row["last_seq"]


def _state_json(state: CaseState) -> str:
    """Canonical JSON: sets sorted (CaseState writes them so), so equal states are stored as
    equal documents (jsonb orders the keys itself)."""
    return state.model_dump_json()


class _Rebuild:
    """Accumulates the projections of the whole log in memory, in position order."""

    def __init__(self) -> None:
        self.states: dict[str, tuple[CaseState, StoredEvent]] = {}
        self.quotas: dict[tuple[str, int], list[int]] = {}
        self.payments: list[tuple[Any, ...]] = []
        self._payment_keys: set[str] = set()

    def add(self, stored: StoredEvent) -> None:
        state, _ = self.states.get(stored.case_id, (CaseState(), stored))
        self.states[stored.case_id] = (evolve(state, stored.event), stored)
        self._add_quota(stored.event)
        row = payment_row(stored)
        if row is not None:
            if row[0] in self._payment_keys:
                raise DuplicatePaymentError(row[0])
            self._payment_keys.add(row[0])
            self.payments.append(row)

    def _add_quota(self, event: ev.Event) -> None:
        match event:
            case ev.QuotaPlaceReserved():
                tally = self.quotas.setdefault((event.region, event.year), [event.capacity, 0, 0])
                tally[1] += 1
            case ev.QuotaPlaceReleased():
                tally = self.quotas.get((event.region, event.year), [0, 0, 0])
                if tally[2] >= tally[1]:
                    raise _release_without_reservation(event)
                tally[2] += 1

    def case_rows(self) -> Iterable[tuple[Any, ...]]:
        return [case_row(cid, state, last) for cid, (state, last) in self.states.items()]

    def quota_rows(self) -> Iterable[tuple[Any, ...]]:
        return [(region, year, *tally) for (region, year), tally in self.quotas.items()]


# Each projection of the cases and what names one of its rows in a report.
CASE_PROJECTIONS = {
    "cases": "case_id",
    "quota_ledger": "region || ' ' || year",
    "payments": "idempotency_key",
}
