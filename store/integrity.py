"""Checking the record's hash chains (migration 0003): who rewrote what, and where."""

from __future__ import annotations

from pydantic import BaseModel

from store.errors import translated
from store.pool import Conn

# Per row: does its stored hash match its content and stored previous hash, and is that
# previous hash the hash the case's previous event actually holds?
CHECK = """
SELECT case_id, seq,
       hash = events_link_hash(prev_hash, e) AS content_ok,
       prev_hash IS NOT DISTINCT FROM lag(hash) OVER w AS link_ok
FROM events e
WHERE $1::text IS NULL OR case_id = $1
WINDOW w AS (PARTITION BY case_id ORDER BY seq)
ORDER BY case_id, seq
"""


class BrokenLink(BaseModel):
    case_id: str
    seq: int
    reason: str


class ChainReport(BaseModel):
    cases: int
    events: int
    broken: list[BrokenLink]  # the first broken link of each broken case


async def verify_chains(conn: Conn, *, case_id: str | None = None) -> ChainReport:
    with translated():
        rows = await conn.fetch(CHECK, case_id)
    broken: dict[str, BrokenLink] = {}
    for row in rows:
        if row["case_id"] in broken:
            continue
        if not row["content_ok"]:
            reason = "content does not match its hash (the event was changed)"
        elif not row["link_ok"]:
            reason = "not chained to the previous event (an event was changed or removed)"
        else:
            continue
        broken[row["case_id"]] = BrokenLink(case_id=row["case_id"], seq=row["seq"], reason=reason)
    cases = len({row["case_id"] for row in rows})
    return ChainReport(cases=cases, events=len(rows), broken=list(broken.values()))
