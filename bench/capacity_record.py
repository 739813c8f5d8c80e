"""What the capacity bench reads from the record: the cases woken in each wave and how late,
and the record's own checks at the end (bench/capacity.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as dtime

import asyncpg

from bench.capacity_report import Result, percentile
from store.integrity import verify_chains
from store.rebuild import rebuild_and_compare

WAKES = """
SELECT occurred_at, (payload->>'checked_on')::date AS due, recorded_at
FROM events WHERE type = 'ResidenceConfirmed' AND case_id LIKE $1 AND recorded_at >= $2
"""


async def wakes_since(pool: asyncpg.Pool, stamp: str, since: float) -> int:
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'ResidenceConfirmed' AND case_id LIKE $1 "
            "AND recorded_at >= $2",
            f"{stamp}-c%",
            datetime.fromtimestamp(since, UTC),
        )
    return found


async def count_wakes(
    pool: asyncpg.Pool, r: Result, stamp: str, first_wave: float, speedup: float
) -> None:
    """Cases woken per wave, from the record (the checks appended since the clones started):
    each counts in the wave it was due in; its lag is how long (wall seconds) after that it
    was recorded."""
    waves = r.waves
    async with pool.acquire() as conn:
        rows = await conn.fetch(WAKES, f"{stamp}-c%", datetime.fromtimestamp(r.started_at, UTC))
    lags: dict[int, list[float]] = {w.index: [] for w in waves}
    for row in rows:
        due = datetime.combine(row["due"], dtime.min, tzinfo=UTC)
        lag = (row["occurred_at"] - due).total_seconds() / speedup
        index = due_wave(row["recorded_at"].timestamp() - lag, first_wave, waves[0].seconds)
        lags.setdefault(index, []).append(lag)
    for w in waves:
        w.wakes = len(lags[w.index])
        w.lag_p50, w.lag_p95 = percentile(lags[w.index], 0.5), percentile(lags[w.index], 0.95)


async def check_record(pool: asyncpg.Pool) -> str:
    """The record's own checks (`kosh projections rebuild --check`, `kosh events --verify`)."""
    async with pool.acquire() as conn:
        rebuilt = await rebuild_and_compare(conn, keep=False)
        chains = await verify_chains(conn)
    same = "identical" if not rebuilt.differs else f"different in {sorted(rebuilt.differs)}"
    whole = "unbroken" if not chains.broken else f"broken in {len(chains.broken)} cases"
    return (
        f"The record checks out at the end: its projections are {same} to a rebuild from the "
        f"log ({rebuilt.events} events) and the hash chains of its {chains.cases} cases are "
        f"{whole}."
    )


def due_wave(due_wall: float, first_wave: float, wave_seconds: float) -> int:
    """Which wave (from 1) a wake due at wall instant `due_wall` belongs to."""
    return max(1, int((due_wall - first_wave) // wave_seconds) + 1)
