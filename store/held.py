"""What the record already holds of a batch an append brings again: the same events (a
harmless retry), an earlier attempt of the same decision recorded otherwise (content conflict,
which a writer naming its batch adopts), or another writer's events (a conflict)."""

from __future__ import annotations

from domain.record import event_id, written_by
from store.errors import ConcurrencyConflictError, ContentConflictError
from store.pool import Conn
from store.records import AnyBatch, event_columns

LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM events WHERE case_id = $1"
# Where each of the batch's ids is stored, and whether with this very content (every column
# that says what happened: a retry may differ from what landed only if its writer's decision
# did, and then the record's version stands).
FIND_HELD = """
SELECT e.event_id, e.case_id, e.seq,
       (e.type, e.schema_version, e.policy_id, e.occurred_at, e.payload, e.idempotency_key)
       IS NOT DISTINCT FROM (b.type, b.schema_version, b.policy_id, b.occurred_at,
                             b.payload::jsonb, b.idempotency_key) AS same
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::text[],
            $7::text[])
     AS b(event_id, type, schema_version, policy_id, occurred_at, payload, idempotency_key)
JOIN events e USING (event_id)
"""
# The events the stream holds after expected_seq, in seq order.
AFTER = "SELECT seq, event_id FROM events WHERE case_id = $1 AND seq > $2 ORDER BY seq"
STORED = "SELECT 1 FROM events WHERE event_id = $1"


async def check_held(
    conn: Conn,
    case_id: str,
    expected_seq: int,
    events: AnyBatch,
    writer: str | None,
    inserted: int,
) -> None:
    """Rows the insert skipped are fine only if they hold these very events, with this very
    content, at these seqs, and the batch landed whole before. Raises ContentConflictError for
    an earlier attempt that recorded otherwise (other content, fewer or more events),
    ConcurrencyConflictError for anything else."""
    # FIND_HELD compares every column the insert takes but the seq
    found = await conn.fetch(FIND_HELD, *event_columns(events, expected_seq)[1:])
    where = {r["event_id"]: (r["case_id"], r["seq"]) for r in found}
    ids = [e.event_id for e in events]
    wanted = {event_id: (case_id, expected_seq + i) for i, event_id in enumerate(ids, 1)}
    actual = await conn.fetchval(LAST_SEQ, case_id)
    if where != wanted:
        if writer is not None and where.get(ids[0]) == wanted[ids[0]]:
            detail = "an earlier attempt held other events"
            raise ContentConflictError(case_id, expected_seq, actual, detail)
        detail = _conflict_detail(wanted, where, expected_seq, actual)
        raise ConcurrencyConflictError(case_id, expected_seq, actual, detail)
    differing = [r["event_id"] for r in found if not r["same"]]
    if differing:
        detail = f"event {differing[0]} is already stored with other content"
        raise ContentConflictError(case_id, expected_seq, actual, detail)
    if inserted:
        detail = (
            f"an earlier append of event {ids[0]} held {len(ids) - inserted} events, not {len(ids)}"
        )
        raise ContentConflictError(case_id, expected_seq, actual, detail)
    if writer is not None and actual > expected_seq + len(ids):
        next_id = event_id(writer, expected_seq + len(ids) + 1)
        if await conn.fetchval(STORED, next_id):
            detail = f"an earlier attempt held more than these {len(ids)} events"
            raise ContentConflictError(case_id, expected_seq, actual, detail)


async def earlier_attempt(conn: Conn, case_id: str, expected_seq: int, writer: str) -> int:
    """How many events an earlier attempt of the writer recorded from expected_seq+1 on (0 when
    anything after expected_seq was written by another: nothing to adopt then). A task retried
    with a later clock may have taken other turns than its earlier attempt (decided otherwise,
    continued as new): every event the writer already recorded is the record's, and stands."""
    held = await conn.fetch(AFTER, case_id, expected_seq)
    seqs = [row["seq"] for row in held]
    ours = all(written_by(row["event_id"], writer) for row in held)
    if not ours or seqs != list(range(expected_seq + 1, expected_seq + 1 + len(seqs))):
        return 0
    return len(seqs)


def _conflict_detail(
    wanted: dict[str, tuple[str, int]],
    where: dict[str, tuple[str, int]],
    expected_seq: int,
    actual: int,
) -> str:
    if actual < expected_seq:
        return "expected_seq is past the case's last event"
    for stored_id, place in where.items():
        if place != wanted[stored_id]:
            return f"event {stored_id} is already stored as {place[0]}/{place[1]}"
    return "another writer appended first"
