"""Reading the whole record for a checkpoint, streaming: one server-side cursor in position
order, rows hashed as they arrive and handed to the folds (store.checkpoint_format,
store.checkpoint_check), so a million events never sit in memory at once. The stored columns
are read as they are: nothing here depends on where `hash` was computed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from store.checkpoint_format import COLUMNS, RowHash, row_hash
from store.errors import StoreError, translated
from store.pool import Conn

Sink = Callable[[Mapping[str, Any], RowHash], None]

BATCH = 5_000  # rows per round trip of the cursor
LOCK_TIMEOUT = "5s"
LOCK_NOT_AVAILABLE = "55P03"
SCAN = f"""
SELECT {COLUMNS} FROM events
WHERE ($1::bigint IS NULL OR position <= $1) AND ($2::text IS NULL OR case_id = $2)
ORDER BY position
"""


async def settled_position(conn: Conn) -> int:
    """The last position no append still in flight can come before.

    Positions are taken when an append inserts and become visible when it commits, so a
    later position can commit first. A SHARE lock waits for the appends in flight (and holds
    new ones back for that moment only); once it is granted, every position up to the
    sequence's current value is committed or never will be."""
    try:
        with translated():
            async with conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                await conn.execute("LOCK TABLE events IN SHARE MODE")
                found = await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
    except StoreError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise StoreError(f"the record is busy: appends held it past {LOCK_TIMEOUT}") from exc
    return int(found)


async def scan(
    conn: Conn,
    sinks: Sequence[Sink],
    *,
    upto: int | None = None,
    case_id: str | None = None,
) -> int:
    """Feed every event (up to position `upto`, of stream `case_id` when given) to each sink,
    in position order, from one repeatable-read snapshot; returns how many were read."""
    read = 0
    with translated():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            cursor = await conn.cursor(SCAN, upto, case_id)
            while rows := await cursor.fetch(BATCH):
                for row in rows:
                    hashed = row_hash(row)
                    for sink in sinks:
                        sink(row, hashed)
                read += len(rows)
    return read
