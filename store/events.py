"""The append-only event log: append a case's new events idempotently, read them back."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from domain.case import CaseState
from domain.record import event_id
from store.chain import chained
from store.errors import ConcurrencyConflictError, translated
from store.held import check_held, earlier_attempt
from store.pool import Conn
from store.projections import (
    CASE_COLUMNS,
    CASE_SET,
    PAYMENT_COLUMNS,
    Ahead,
    apply_projections,
    load_case,
    project_ahead,
)
from store.records import (
    LABOUR_STREAM_PREFIX,
    ROUND_STREAM_PREFIX,
    STORED_COLUMNS,
    AnyBatch,
    AppendResult,
    NewEvent,
    NewLabourEvent,
    NewPolicyEvent,
    NewRoundEvent,
    StoredEvent,
    event_columns,
    stored_from_row,
)

__all__ = [
    "AppendResult",
    "NewEvent",
    "StoredEvent",
    "append_events",
    "count_events",
    "last_seq",
    "read_events",
]

# One statement per batch. The WHERE clause refuses a batch whose expected_seq lies beyond the
# case's last event (it would leave a gap); ON CONFLICT skips rows whose (case_id, seq) or
# event_id exist, so a retry inserts nothing and a conflict is found by counting rows.
INSERT_ROWS = """
INSERT INTO events (case_id, seq, event_id, type, schema_version, policy_id, occurred_at,
                    payload, idempotency_key, prev_hash, hash)
SELECT $1, b.seq, b.event_id, b.type, b.schema_version, b.policy_id, b.occurred_at,
       b.payload::jsonb, b.idempotency_key, b.prev_hash, b.hash
FROM unnest($3::int[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[],
            $9::text[], $10::text[], {prev}::bytea[], {hash}::bytea[])
     AS b(seq, event_id, type, schema_version, policy_id, occurred_at, payload, idempotency_key,
          prev_hash, hash)
WHERE $2::int = 0 OR EXISTS (SELECT 1 FROM events WHERE case_id = $1 AND seq = $2::int)
ORDER BY b.seq
ON CONFLICT DO NOTHING
RETURNING position, seq, recorded_at, hash
"""
# Each row's link of the hash chain comes from the writer (store/chain.py): $11 and $12 here.
INSERT_BATCH = INSERT_ROWS.format(prev="$11", hash="$12")
# The append in one statement, which commits alone: the events (INSERT_BATCH), their payments
# (each given its event's position), the quota place the batch takes or gives back ($34-$37:
# taken only while the region's year has one left, decision 002) and the case row, written
# only if the row is still at expected_seq and, when the writer folded from a state it
# remembers ($33), the case's event at expected_seq still carries the hash it remembers. The
# guard raises (KA001) unless all of it holds, so nothing lands otherwise. Returns the hash
# of the batch's last event.
APPEND_AT_ONCE = f"""
WITH ins AS ({INSERT_ROWS.format(prev="$38", hash="$39")}),
pay AS (
    INSERT INTO payments ({PAYMENT_COLUMNS})
    SELECT p.key, $1, p.kind, p.measure, p.period, p.amount_tiyn, p.reference, p.occurred_at,
           ins.position
    FROM unnest($25::int[], $26::text[], $27::text[], $28::text[], $29::text[], $30::bigint[],
                $31::text[], $32::timestamptz[])
         AS p(seq, key, kind, measure, period, amount_tiyn, reference, occurred_at)
    JOIN ins ON ins.seq = p.seq
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING 1
),
res AS (
    INSERT INTO quota_ledger (region, year, capacity, reserved)
    SELECT $35, $36::int, $37::int, 1 WHERE $34::text = 'reserve' AND $37::int > 0
    ON CONFLICT (region, year) DO UPDATE SET reserved = quota_ledger.reserved + 1
    WHERE quota_ledger.reserved - quota_ledger.released < quota_ledger.capacity
    RETURNING 1
),
rel AS (
    UPDATE quota_ledger SET released = released + 1
    WHERE $34::text = 'release' AND region = $35 AND year = $36::int AND released < reserved
    RETURNING 1
),
upd AS (
    INSERT INTO cases ({CASE_COLUMNS})
    VALUES ($1, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, now(),
            $24::text::jsonb)
    ON CONFLICT (case_id) DO UPDATE SET {CASE_SET}
    WHERE cases.last_seq = $2::int
    RETURNING 1
)
SELECT kosh_append_guard(
    (SELECT count(*) FROM ins) = $11::int
    AND (SELECT count(*) FROM pay) = cardinality($25::int[])
    AND (SELECT count(*) FROM upd) = 1
    AND (SELECT count(*) FROM res) + (SELECT count(*) FROM rel) = (CASE WHEN $34::text IS NULL
                                                                      THEN 0 ELSE 1 END)
    AND ($33::bytea IS NULL
         OR EXISTS (SELECT 1 FROM events WHERE case_id = $1 AND seq = $2::int AND hash = $33)),
    $1),
    (SELECT hash FROM ins ORDER BY seq DESC LIMIT 1) AS hash
"""
MOVED = "KA001"  # kosh_append_guard's SQLSTATE (migration 0007)
LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM events WHERE case_id = $1"
HASH_AT = "SELECT hash FROM events WHERE case_id = $1 AND seq = $2"
READ_CASE = f"""
SELECT {STORED_COLUMNS} FROM events WHERE case_id = $1 AND seq > $2 ORDER BY seq
"""
COUNT = "SELECT count(*) FROM events WHERE ($1::text IS NULL OR case_id = $1)"


async def append_events(
    conn: Conn,
    *,
    case_id: str,
    expected_seq: int,
    events: Sequence[NewEvent],
    writer: str | None = None,
) -> AppendResult:
    """Append `events` as seqs expected_seq+1.. of the case and update the projections.

    `expected_seq` is the case's last seq as the caller knows it (0 for a new case). Runs in a
    transaction of its own, or in a savepoint of the caller's, so the events and their
    projections commit together or not at all. A retry of an append that already happened
    (the same event ids at the same seqs with the same content) succeeds and reports them as
    duplicates. The same ids with other content, or a batch of another length, raise
    ContentConflictError; anything else already at those seqs, or an expected_seq past the
    case's end, ConcurrencyConflictError. A workflow names itself as the `writer` (event ids
    from domain.record.event_id): then what it recorded itself after expected_seq, in an
    earlier attempt of the same workflow task, is adopted (`AppendResult.adopted`) and nothing
    is written. A quota reservation beyond capacity raises QuotaExhaustedError and stores
    nothing.
    """
    if case_id.startswith(LABOUR_STREAM_PREFIX):
        raise ValueError(f"{case_id} is a labour request's stream: append_labour_events")
    if case_id.startswith(ROUND_STREAM_PREFIX):
        raise ValueError(f"{case_id} is an allocation round's stream: store.rounds")
    _check_batch(case_id, expected_seq, events, writer)
    if events and not conn.is_in_transaction():
        with translated():
            if await _append_at_once(conn, case_id, expected_seq, events):
                return AppendResult(
                    last_seq=expected_seq + len(events), appended=len(events), duplicates=0
                )
    WRITTEN.forget(case_id)

    async def project(base: int, new: Sequence[NewEvent], rows: Sequence[Any]) -> None:
        stored = _stored(case_id, base, new, rows)
        await apply_projections(conn, case_id=case_id, expected_seq=base, appended=stored)

    return await append_batch(conn, case_id, expected_seq, events, project, writer=writer)


New = TypeVar("New", NewEvent, NewLabourEvent, NewRoundEvent, NewPolicyEvent)
Projector = Callable[[int, Sequence[New], Sequence[Any]], Awaitable[None]]


async def append_batch(
    conn: Conn,
    case_id: str,
    expected_seq: int,
    events: Sequence[New],
    project: Projector[New],
    *,
    writer: str | None = None,
) -> AppendResult:
    """The one append: insert the batch, sort out a retry's duplicates, then `project` the
    events that landed now (their base seq, themselves, their rows) in the same transaction.
    What the `writer` recorded itself after expected_seq is adopted (nothing written)."""
    _check_batch(case_id, expected_seq, events, writer)
    if not events:
        return AppendResult(last_seq=expected_seq, appended=0, duplicates=0)
    last = expected_seq + len(events)
    with translated():
        try:
            async with conn.transaction():
                prev = await conn.fetchval(HASH_AT, case_id, expected_seq)
                columns = event_columns(events, expected_seq)
                rows = await conn.fetch(
                    INSERT_BATCH, case_id, expected_seq, *columns, *_links(case_id, prev, columns)
                )
                duplicates = len(events) - len(rows)
                if duplicates:
                    await check_held(conn, case_id, expected_seq, events, writer, len(rows))
                if rows:
                    await project(expected_seq, events, rows)
                return AppendResult(last_seq=last, appended=len(rows), duplicates=duplicates)
        except ConcurrencyConflictError:
            if writer is None:
                raise
            adopted = await earlier_attempt(conn, case_id, expected_seq, writer)
            if not adopted:
                raise
            return AppendResult(
                last_seq=expected_seq + adopted, appended=0, duplicates=0, adopted=adopted
            )


async def _append_at_once(
    conn: Conn, case_id: str, expected_seq: int, events: Sequence[NewEvent]
) -> bool:
    """The common append in one statement (two round trips when this process has not written
    the case's state at expected_seq itself: the case row is read first). False, with nothing
    written, when it does not apply (a retry, a conflict, no quota place left, a payment key
    already taken): the transactional path then appends or names the problem."""
    known = WRITTEN.get(case_id, expected_seq)
    if known is None:
        state, last = await load_case(conn, case_id)
        if last != expected_seq:
            return False
        known_hash = await conn.fetchval(HASH_AT, case_id, expected_seq)
    else:
        state, known_hash = known
    ahead = project_ahead(case_id, state, expected_seq, [e.event for e in events])
    if ahead is None:
        return False
    columns = event_columns(events, expected_seq)
    args = _at_once_args(case_id, expected_seq, columns, ahead)
    links = _links(case_id, known_hash, columns)
    try:
        row = await conn.fetchrow(APPEND_AT_ONCE, *args, known_hash, *ahead.quota, *links)
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == MOVED:
            return False
        raise
    WRITTEN.put(case_id, expected_seq + len(events), row["hash"], ahead.state)
    return True


class _Written:
    """The case states this process wrote last, each with its seq and the hash of the event it
    was folded to, so the case's next append from here need not read the row back: the append
    statement checks that hash against the record, and a state the record has moved past is
    never used. Bounded: the least recently written are forgotten first."""

    LIMIT = 1024

    def __init__(self) -> None:
        self._cases: OrderedDict[str, tuple[int, bytes, CaseState]] = OrderedDict()

    def get(self, case_id: str, last_seq: int) -> tuple[CaseState, bytes] | None:
        known = self._cases.get(case_id)
        if known is None or known[0] != last_seq:
            return None
        return known[2], known[1]

    def put(self, case_id: str, last_seq: int, last_hash: bytes, state: CaseState) -> None:
        self._cases[case_id] = (last_seq, last_hash, state)
        self._cases.move_to_end(case_id)
        while len(self._cases) > self.LIMIT:
            self._cases.popitem(last=False)

    def forget(self, case_id: str) -> None:
        self._cases.pop(case_id, None)


WRITTEN = _Written()


def _at_once_args(
    case_id: str, expected_seq: int, columns: list[list[Any]], ahead: Ahead
) -> list[Any]:
    payments = [(seq, *fields) for seq, fields in ahead.payments]
    # fields: key, case_id, kind, measure, period, amount_tiyn, reference, occurred_at
    paid = [[p[i] for p in payments] for i in (0, 1, 3, 4, 5, 6, 7, 8)]
    return [case_id, expected_seq, *columns, len(columns[0]), *ahead.case, *paid]


async def read_events(conn: Conn, *, case_id: str, after_seq: int = 0) -> list[StoredEvent]:
    """The case's events with seq > after_seq, in seq order."""
    with translated():
        rows = await conn.fetch(READ_CASE, case_id, after_seq)
    return [stored_from_row(row) for row in rows]


async def count_events(conn: Conn, *, case_id: str | None = None) -> int:
    """How many events the log holds, for one case or in all."""
    with translated():
        count: int = await conn.fetchval(COUNT, case_id)
    return count


async def last_seq(conn: Conn, *, case_id: str) -> int:
    """The seq of the case's last event (0 if the case has none): the next append's expected_seq."""
    with translated():
        seq: int = await conn.fetchval(LAST_SEQ, case_id)
    return seq


def _check_batch(
    case_id: str,
    expected_seq: int,
    events: AnyBatch,
    writer: str | None = None,
) -> None:
    if expected_seq < 0:
        raise ValueError(f"expected_seq must be >= 0, got {expected_seq}")
    ids = [e.event_id for e in events]
    if len(set(ids)) != len(ids):
        raise ValueError("event ids repeat within the batch")
    if writer is not None and ids != [
        event_id(writer, expected_seq + i) for i in range(1, len(ids) + 1)
    ]:
        raise ValueError(f"the events of writer {writer} must have the ids event_id gives")
    for new in events:
        own = getattr(new.event, "case_id", case_id)
        if own != case_id:
            raise ValueError(f"event {new.event_id} belongs to case {own}, not {case_id}")


def _links(
    case_id: str, prev: bytes | None, columns: list[list[Any]]
) -> tuple[list[bytes | None], list[bytes | None]]:
    """The batch's prev_hash and hash columns, chained after `prev` (store/chain.py)."""
    seqs, *content = columns
    rows = list(zip(*content, strict=True))
    return chained(prev, case_id, seqs[0] - 1, rows)


def _stored(
    case_id: str, expected_seq: int, events: Sequence[NewEvent], rows: Sequence[Any]
) -> list[StoredEvent]:
    by_seq = {row["seq"]: row for row in rows}
    stored = []
    for seq, new in enumerate(events, expected_seq + 1):
        row = by_seq[seq]
        stored.append(
            StoredEvent(
                position=row["position"],
                case_id=case_id,
                seq=seq,
                event_id=new.event_id,
                event=new.event,
                recorded_at=row["recorded_at"],
                idempotency_key=new.idempotency_key,
            )
        )
    return stored
