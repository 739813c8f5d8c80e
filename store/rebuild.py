"""The projections rebuilt from the whole log, the cases' and the labour requests' in one
transaction, and compared with the live tables (`kosh projections rebuild [--check]`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from store.errors import translated
from store.labour import LABOUR_PROJECTIONS, rebuild_labour
from store.pool import Conn
from store.projections import CASE_PROJECTIONS, LOCK_LOG, rebuild_cases

# Each projection and what names one of its rows in a report.
PROJECTIONS = {**CASE_PROJECTIONS, **LABOUR_PROJECTIONS}
COPY_LIVE = "CREATE TEMP TABLE live_{table} ON COMMIT DROP AS TABLE {table}"
DIFFERENT_ROWS = """
SELECT DISTINCT {key} AS key
FROM ((TABLE {table} EXCEPT ALL TABLE live_{table})
      UNION ALL (TABLE live_{table} EXCEPT ALL TABLE {table})) AS changed
ORDER BY key
"""
COUNT_LOG = "SELECT count(*) FROM events"
ROW_COUNTS = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t}) AS {t}" for t in PROJECTIONS)


async def rebuild_projections(conn: Conn) -> None:
    """Empty the projections and recompute them from the whole log, in one transaction.
    Appends wait while it runs."""
    with translated():
        async with conn.transaction():
            await conn.execute(LOCK_LOG)
            await rebuild_cases(conn)
            await rebuild_labour(conn)


@dataclass(frozen=True)
class Rebuilt:
    events: int
    rows: dict[str, int]
    differs: dict[str, list[str]] = field(default_factory=dict)


async def rebuild_and_compare(conn: Conn, *, keep: bool) -> Rebuilt:
    """Rebuild the projections in a transaction and name the rows that were not as rebuilt
    (`kosh projections rebuild [--check]`).

    `keep=False` rolls the rebuild back: the live tables are left exactly as they were.
    """
    tx = conn.transaction()
    with translated():
        await tx.start()
        try:
            await conn.execute(LOCK_LOG)
            for table in PROJECTIONS:
                await conn.execute(COPY_LIVE.format(table=table))
            await rebuild_projections(conn)
            differs: dict[str, list[str]] = {}
            for table, key in PROJECTIONS.items():
                found = await conn.fetch(DIFFERENT_ROWS.format(table=table, key=key))
                if found:
                    differs[table] = [row["key"] for row in found]
            counts = await conn.fetchrow(ROW_COUNTS)
            rebuilt = Rebuilt(await conn.fetchval(COUNT_LOG), dict(counts), differs)
        except BaseException:
            await tx.rollback()
            raise
        await (tx.commit() if keep else tx.rollback())
    return rebuilt
