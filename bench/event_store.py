"""Event store rates: kosh's append path against raw asyncpg on the same server (`make bench`).

Starts kosh's embedded PostgreSQL in a temporary folder, migrates a fresh database, and
measures in rounds whose order rotates, so noise falls on every path alike (medians reported):

- appends: the same realistic case lives (kandas cases driven through the decider, one batch
  per decision, as the workflow hands them to the append activity) written four ways: kosh's
  `append_events` with its projections, kosh's INSERT statement alone (the chain's links the
  writer computes, no projections), and raw asyncpg `executemany` and `copy_records_to_table`
  into a table of the same shape as `events` (`LIKE events INCLUDING ALL`: columns, types, defaults,
  constraints, indexes; not its triggers, so the raw writers compute the hash themselves);
- quota reservations by concurrent reservers, each on its own pooled connection: a
  QuotaPlaceReserved appended with `append_events` (the projection's capacity check) against
  the bare `UPDATE quota_ledger ... RETURNING`; then a round where capacity runs out, which must
  grant exactly `capacity` places and refuse the rest with QuotaExhaustedError.

    python -m bench.event_store --events 1000 --reservers 16 --write docs/performance.md
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sys
import tempfile
from dataclasses import fields
from pathlib import Path
from types import FrameType

import asyncpg

from bench.common import publish
from bench.event_store_lives import TEMPLATE_ID, case_life, plan
from bench.event_store_paths import (
    APPEND_PATHS,
    CREATE_RAW,
    RESERVE_PATHS,
    Append,
    at_once,
    kosh_append,
    kosh_insert_alone,
    open_cases,
    raw_copy,
    raw_executemany,
    reserve_bare,
    reserve_through_kosh,
    run_appends,
)
from bench.event_store_report import MARK_BEGIN, MARK_END, Options, QuotaCheck, Results, report
from bench.event_store_timing import CpuMeter, PathRates, breakdown
from domain import events as ev
from domain.regions import Region
from store.embedded import EmbeddedPostgres
from store.migrate import migrate
from store.pool import create_pool
from store.projections import OPEN_QUOTA

TEMPLATES = 16
LEDGER_RESERVED = "SELECT reserved FROM quota_ledger WHERE region = $1 AND year = $2"
STORED_RESERVATIONS = (
    "SELECT count(*) FROM events WHERE type = 'QuotaPlaceReserved' AND case_id = ANY($1)"
)
HOLDING = "SELECT count(*) FROM cases WHERE region IS NOT NULL AND case_id = ANY($1)"


async def measure(url: str, postmaster: int | None, o: Options) -> Results:
    size = max(o.writers, o.reservers)  # every connection opened before anything is timed
    kosh = await create_pool(url, min_size=size, max_size=size)
    raw = await asyncpg.create_pool(url, min_size=o.writers, max_size=o.writers)
    try:
        async with kosh.acquire() as conn:
            await migrate(conn)
            await conn.execute(CREATE_RAW)
        rng = random.Random(o.seed)
        templates = [
            case_life(TEMPLATE_ID, rng, months=o.months, year=2026) for _ in range(TEMPLATES)
        ]
        meter = CpuMeter(postmaster)
        appends, shape = await _append_rounds(kosh, raw, templates, meter, o)
        reservations = await _reserve_rounds(kosh, templates, meter, o)
        check = await _exhaust(kosh, templates, o)
        parts = await breakdown(kosh, templates, events=o.events, batch=o.batch)
    finally:
        await raw.close()
        await kosh.close()
    return Results(appends, reservations, check, *shape, parts=parts)


async def _append_rounds(
    kosh: asyncpg.Pool,
    raw: asyncpg.Pool,
    templates: list[list[list[ev.Event]]],
    meter: CpuMeter,
    o: Options,
) -> tuple[list[PathRates], tuple[int, int, float]]:
    """The paths' rates, and each round's events, cases and mean batch size."""
    ways: list[tuple[asyncpg.Pool, Append]] = [
        (kosh, kosh_append),
        (kosh, kosh_insert_alone),
        (raw, raw_executemany),
        (raw, raw_copy),
    ]
    paths = [PathRates(name) for name in APPEND_PATHS]
    for n, (pool, append) in enumerate(ways):  # warm-up: connections, prepared statements
        cases = plan(templates, events=1, batch=o.batch, tag=f"warm{n}", year0=1)
        await run_appends(pool, cases, o.writers, append)
    for r in range(o.rounds):
        for n in _rotated(len(ways), r):
            pool, append = ways[n]
            cases = plan(
                templates, events=o.events, batch=o.batch, tag=f"r{r}p{n}", year0=100_000 * (r + 1)
            )
            batches = [len(b) for c in cases for b in c.batches]
            with meter.measure(paths[n].samples) as done:
                await run_appends(pool, cases, o.writers, append)
                done.append(sum(batches))
    return paths, (sum(batches), len(cases), sum(batches) / len(batches))


async def _reserve_rounds(
    kosh: asyncpg.Pool, templates: list[list[list[ev.Event]]], meter: CpuMeter, o: Options
) -> list[PathRates]:
    paths = [PathRates(name) for name in RESERVE_PATHS]
    region: Region = "Pavlodar"
    for r in range(o.rounds):
        reservers = await open_cases(kosh, templates, o.reservations, f"q{r}")
        year = 5000 + r
        async with kosh.acquire() as conn:  # the bare statement's ledger row, room for all
            await conn.execute(OPEN_QUOTA, region, year + 1000, o.reservations)
        ways = [
            reserve_through_kosh(reservers, region, year, o.reservations),
            reserve_bare(region, year + 1000),
        ]
        for n in _rotated(len(ways), r):
            with meter.measure(paths[n].samples) as done:
                granted, refused = await at_once(kosh, o.reservers, ways[n], o.reservations)
                done.append(granted)
            if refused:
                raise SystemExit(f"{paths[n].name}: {refused} refused with room for all")
    return paths


async def _exhaust(
    kosh: asyncpg.Pool, templates: list[list[list[ev.Event]]], o: Options
) -> QuotaCheck:
    region: Region = "Kostanay"
    year, capacity = 9000, o.reservations // 2
    reservers = await open_cases(kosh, templates, o.reservations, "full")
    work = reserve_through_kosh(reservers, region, year, capacity)
    granted, refused = await at_once(kosh, o.reservers, work, o.reservations)
    ids = [r.case_id for r in reservers]
    async with kosh.acquire() as conn:
        ledger = await conn.fetchval(LEDGER_RESERVED, region, year)
        stored = await conn.fetchval(STORED_RESERVATIONS, ids)
        holding = await conn.fetchval(HOLDING, ids)
    return QuotaCheck(
        capacity, o.reservations, o.reservers, granted, refused, ledger or 0, stored, holding
    )


def _rotated(n: int, r: int) -> list[int]:
    return [(i + r) % n for i in range(n)]


def run(o: Options, workdir: Path | None = None) -> Results:
    """Start an embedded PostgreSQL in `workdir` (a temporary folder if None), measure, stop it."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="kosh-store-") as tmp:
            return run(o, Path(tmp))
    with EmbeddedPostgres(workdir / "pgdata", database="kosh_bench") as pg:
        return asyncio.run(measure(pg.url, pg.pid, o))


def parse(argv: list[str]) -> tuple[Options, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for option in fields(Options):  # one option each, named as the field
        help_text = option.metadata.get("help")
        parser.add_argument(f"--{option.name}", type=int, default=option.default, help=help_text)
    parser.add_argument("--write", type=Path, help="Replace the measured section of this file.")
    a = parser.parse_args(argv)
    for name in ("events", "writers", "reservers", "rounds"):
        if getattr(a, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if a.reservations < 2:
        parser.error("--reservations must be at least 2")
    return Options(**{option.name: getattr(a, option.name) for option in fields(Options)}), a.write


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through run(): the embedded server is stopped


def main(argv: list[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    options, write = parse(args_list)
    signal.signal(signal.SIGTERM, _stop)
    results = run(options)
    publish(report(results, options, args_list), write, (MARK_BEGIN, MARK_END))
    if not results.check.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
