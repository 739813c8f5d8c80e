"""What the case state's rewrite costs an append (issue #25, item 6): the event-store bench's
append rounds (bench/event_store.py) run twice in one process, each on a database of its own in
one embedded PostgreSQL: once with the case state written whole at every append as kosh does,
once with the state document cut to its stage (an upper bound for an append that does not
rewrite the state, what a snapshot every few events would approach). Each path's rate is
given with its ratio to raw `executemany` in the same rounds.

    python -m bench.event_store_state --events 1000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from pathlib import Path

import asyncpg

import store.projections as projections
from bench import event_store as es
from bench.event_store_lives import TEMPLATE_ID, case_life
from bench.event_store_paths import CREATE_RAW
from bench.event_store_report import Options
from bench.event_store_timing import CpuMeter
from domain.case import CaseState
from store.embedded import EmbeddedPostgres
from store.migrate import migrate
from store.pool import create_pool

WHOLE = projections._state_json


def _stage_only(state: CaseState) -> str:
    return f'{{"stage": "{state.stage}"}}'


async def _rounds(url: str, pid: int | None, o: Options, *, whole: bool) -> dict[str, float]:
    kosh = await create_pool(url, min_size=o.writers, max_size=o.writers)
    raw = await asyncpg.create_pool(url, min_size=o.writers, max_size=o.writers)
    try:
        async with kosh.acquire() as conn:
            await migrate(conn)
            await conn.execute(CREATE_RAW)
        rng = random.Random(o.seed)
        templates = [case_life(TEMPLATE_ID, rng, months=o.months, year=2026) for _ in range(16)]
        projections._state_json = WHOLE if whole else _stage_only  # type: ignore[assignment]
        paths, _ = await es._append_rounds(kosh, raw, templates, CpuMeter(pid), o)
    finally:
        projections._state_json = WHOLE  # type: ignore[assignment]
        await raw.close()
        await kosh.close()
    raw_path = paths[2]
    return {p.name: p.ratio_of(raw_path) for p in paths} | {"kosh rate": paths[0].rate}


async def _measure(url: str, pid: int | None, o: Options) -> None:
    admin = await asyncpg.connect(url)
    try:
        for n, whole in enumerate((True, False, True)):
            await admin.execute(f"CREATE DATABASE state_{n}")
            found = await _rounds(url.replace("/kosh_bench?", f"/state_{n}?"), pid, o, whole=whole)
            name = "state written whole" if whole else "state cut to its stage"
            ratios = ", ".join(f"{k}: {v:.3f}" for k, v in found.items() if k != "kosh rate")
            print(
                f"{name}: kosh {found['kosh rate']:,.0f} events/s; ratio to executemany: {ratios}"
            )
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    a = parser.parse_args(argv)
    o = Options(events=a.events, rounds=a.rounds)
    with (
        tempfile.TemporaryDirectory(prefix="kosh-state-") as tmp,
        EmbeddedPostgres(Path(tmp) / "pgdata", database="kosh_bench") as pg,
    ):
        asyncio.run(_measure(pg.url, pg.pid, o))


if __name__ == "__main__":
    main()
