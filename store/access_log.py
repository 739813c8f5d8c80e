"""The codec access log (migration 0009): who read decrypted payloads, of which workflow,
when. Written by the codec server before it answers; read by `kosh audit access`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from store.errors import translated
from store.pool import Conn

INSERT = """
INSERT INTO codec_access_log (member, via, namespace, workflow_id, payloads)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[])
"""
LIST = """
SELECT id, at, member, via, namespace, workflow_id, payloads FROM codec_access_log
WHERE ($1::text IS NULL OR workflow_id = $1)
  AND ($2::text IS NULL OR member = $2)
  AND ($3::timestamptz IS NULL OR at >= $3)
ORDER BY at DESC, id DESC
LIMIT $4
"""


class AccessEntry(BaseModel):
    """What one reader opened of one workflow in one request."""

    member: str
    via: str
    namespace: str
    workflow_id: str | None  # None: the payloads carried no workflow stamp
    payloads: int


class AccessRow(AccessEntry):
    id: int
    at: datetime


async def record_access(conn: Conn, *, entries: Sequence[AccessEntry]) -> None:
    """Append the entries (one statement: all or none)."""
    columns = list(
        zip(
            *((e.member, e.via, e.namespace, e.workflow_id, e.payloads) for e in entries),
            strict=True,
        )
    )
    if not columns:
        return
    with translated():
        await conn.execute(INSERT, *(list(c) for c in columns))


async def access_log(
    conn: Conn,
    *,
    workflow_id: str | None = None,
    member: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[AccessRow]:
    """The entries that match, newest first."""
    with translated():
        rows = await conn.fetch(LIST, workflow_id, member, since, limit)
    return [AccessRow.model_validate(dict(row)) for row in rows]
