"""Capacity: open kandas cases asleep in contract monitoring, on one dev server (`make bench`).

Runs `kosh dev --no-worker` (the real dev server, embedded PostgreSQL, the agencies simulated
over HTTP, the demo's staff) and one `kosh worker` joining it, its sticky cache far smaller
than the number of cases, then:

1. Prototypes: real kandas cases driven by the real workflow, worker, agencies and staff from
   the application through scoring, relocation and the year of rent to the continue-as-new
   that opens their third case year; their snapshot and search attributes are taken from
   that run's start and the prototype is stopped. One per quota place (region, year) the
   clones hold: a case holds a place, a region's places per year are the quota, so 20,000
   contracts need nine years of places. Each starts as a new case whose clock reads
   1 March of its quota year.
2. Clones: a prototype's record and snapshot under a new case id. Its events are appended
   through the store's own append (projections, quota ledger, payments, hash chain); the
   agencies' references (permit, kandas certificate, authority requests, payments) are the
   simulator's for the new id; the snapshot starts the case as continue-as-new starts a run,
   with the prototype's search attributes, on a clock that has it asleep on its next
   residence check, the wakes spread evenly over each monitoring interval.
3. Waves: one monitoring interval of wall time each; every case wakes once a wave (the
   address registry asked through the simulator, one event appended). The worker's and the
   server's RSS are sampled every second; at the end the record checks itself (projections
   against a rebuild from the log, hash chains).

`make bench` runs the largest size that fits about a quarter of an hour on two shared CPUs:

    python -m bench.capacity --cases 1000 --cache 200 --wave-seconds 240 --waves 3 \
        --write docs/performance.md

The default, 20,000 cases (issue #11), takes about an hour on two cores; `make bench-20000`
writes it to a section of its own (`--section capacity-20000`):

    python -m bench.capacity --cases 20000 --cache 1000 --waves 1 --wave-seconds 1800 \
        --settle 750 --timeout 5400 --section capacity-20000 --write docs/performance.md

Every report ends with the arithmetic for 20,000 from the CPU each case and each wake cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from adapters.codec import CodecKeys
from bench.capacity_clones import seed, start_clones
from bench.capacity_prototypes import Prototype, drive_prototypes, plan_places, prototypes_for
from bench.capacity_record import check_record, count_wakes, wakes_since
from bench.capacity_report import PARTS, Phase, Result, Wave, report, rss_range
from bench.capacity_stack import (
    CACHED,
    EVICTIONS,
    FAILED,
    MISSES,
    TASKS,
    Stack,
    cpu_seconds,
    metric,
    rss_mib,
    sample_until,
    scrape,
    wait_asleep,
)
from bench.common import as_rerun, marks, publish
from cli.stack import StackInfo
from domain.clock import SECONDS_PER_YEAR
from domain.policy import policy_by_id
from store.pool import create_pool
from worker import connect


class Phases:
    """Times each phase of the run, wall and CPU by part."""

    def __init__(self, result: Result, pids: dict[str, int]) -> None:
        self.result, self.pids = result, pids

    @contextlib.asynccontextmanager
    async def phase(self, name: str, label: str, cases: int) -> Any:
        began, cpu = time.monotonic(), cpu_seconds(self.pids)
        yield
        spent = cpu_seconds(self.pids)
        used = {part: spent.get(part, 0.0) - cpu.get(part, 0.0) for part in PARTS}
        self.result.phases[name] = Phase(label, cases, time.monotonic() - began, used)
        print(f"{label}: {cases} cases, {time.monotonic() - began:.0f} s", flush=True)


# ---- the run -------------------------------------------------------------------------------
async def measure(
    stack: Stack, info: StackInfo, protos: list[Prototype], args: argparse.Namespace
) -> Result:
    result = Result(cases=args.cases, cache=args.cache, wave_seconds=args.wave_seconds)
    assert info.codec_keys_file is not None and info.database_url is not None
    keys = CodecKeys.from_json(Path(info.codec_keys_file).read_text(), source="state")
    client = await connect(info.temporal_address, keys=keys)
    pool = await create_pool(info.database_url, max_size=8)
    pids = stack.pids()
    timer = Phases(result, pids)
    stamp = protos[0].case_id.rsplit("-", 1)[0]
    try:
        async with timer.phase("prototypes", "prototypes driven to year three", len(protos)):
            await drive_prototypes(client, pool, protos, args.timeout)
        result.prototypes = len(protos)
        interval = policy_by_id(protos[0].state.policy_id).contract.monitoring_interval_days
        speedup = interval * 86400 / args.wave_seconds
        result.seconds_per_year = SECONDS_PER_YEAR / speedup
        async with timer.phase("seed", "records appended", args.cases):
            clones = await seed(pool, protos, stamp)
        tasks_before = metric(await asyncio.to_thread(scrape, stack.metrics_url), TASKS)
        first_wave = time.time() + args.settle
        result.started_at = time.time()
        async with timer.phase("start", "cases started", args.cases):
            await start_clones(
                client,
                clones,
                first_wave=first_wave,
                wave_seconds=args.wave_seconds,
                seconds_per_year=result.seconds_per_year,
            )
        async with timer.phase("asleep", "first tasks run (asleep)", args.cases):
            await wait_asleep(stack.metrics_url, tasks_before, len(clones), args.timeout)
        result.worker_mib_started = rss_mib(pids["kosh worker"])
        result.server_mib_started = rss_mib(pids["Temporal server"])
        cached = metric(await asyncio.to_thread(scrape, stack.metrics_url), CACHED)
        result.cached_started = int(cached)
        result.late_seconds = max(0.0, time.time() - first_wave)
        await sample_until(first_wave, pids)
        async with timer.phase("waves", f"{args.waves} waves", args.cases * args.waves):
            for index in range(1, args.waves + 1):
                result.waves.append(await run_wave(stack, pids, index, first_wave, args))
        woken = await wakes_since(pool, stamp, first_wave)
        result.phases["waves"].cases = woken
        # The last wave's stragglers land (not sampled): they count in the wave they were due.
        drain = time.monotonic() + args.wave_seconds / 2
        await count_wakes(pool, result, stamp, first_wave, speedup)
        while result.waves[-1].wakes < args.cases and time.monotonic() < drain:
            await asyncio.sleep(5.0)
            await count_wakes(pool, result, stamp, first_wave, speedup)
        result.load = psutil.getloadavg()[1]
        totals = await asyncio.to_thread(scrape, stack.metrics_url)
        result.failures = int(sum(metric(totals, name) for name in FAILED))
        result.record = await check_record(pool)
    finally:
        await pool.close()
    return result


async def run_wave(
    stack: Stack, pids: dict[str, int], index: int, first_wave: float, args: argparse.Namespace
) -> Wave:
    wave = Wave(index=index, seconds=args.wave_seconds)
    before = await asyncio.to_thread(scrape, stack.metrics_url)
    await sample_until(first_wave + index * args.wave_seconds, pids, wave)
    after = await asyncio.to_thread(scrape, stack.metrics_url)
    wave.workflow_tasks = int(metric(after, TASKS) - metric(before, TASKS))
    wave.cache_misses = int(metric(after, MISSES) - metric(before, MISSES))
    wave.evictions = int(metric(after, EVICTIONS) - metric(before, EVICTIONS))
    print(
        f"wave {index}: worker {rss_range(wave.worker_mib)} MiB, server "
        f"{rss_range(wave.server_mib)} MiB, {wave.workflow_tasks} workflow tasks, "
        f"{wave.cache_misses} cache misses, {wave.evictions} evictions",
        flush=True,
    )
    return wave


def main(argv: list[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20000, help="Open cases (default 20000).")
    parser.add_argument("--cache", type=int, default=1000, help="KOSH_MAX_CACHED_WORKFLOWS")
    parser.add_argument("--waves", type=int, default=3, help="Monitoring intervals measured.")
    parser.add_argument(
        "--wave-seconds",
        type=float,
        help="Wall seconds per monitoring interval (default: cases / 4, at least 60).",
    )
    parser.add_argument(
        "--settle",
        type=float,
        help="Seconds from the first start to the first wave (default: cases / 10 + 30).",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="Give up on a phase after this long."
    )
    parser.add_argument("--write", type=Path, help="Replace the measured section of this file.")
    parser.add_argument(
        "--section",
        default="capacity",
        help="The section --write replaces, between <!-- bench:SECTION:begin/end --> "
        "(default: capacity, the one `make bench` writes).",
    )
    args = parser.parse_args(args_list)
    if args.wave_seconds is None:
        args.wave_seconds = max(60.0, args.cases / 4)
    if args.settle is None:
        args.settle = args.cases / 10 + 30
    stamp = f"cap{int(time.time())}"
    protos = prototypes_for(plan_places(args.cases, datetime.now(UTC).year + 1), stamp)
    with tempfile.TemporaryDirectory(prefix="kosh-capacity-") as tmp:
        stack = Stack(Path(tmp) / "state", cache=args.cache, prototypes=[p.case_id for p in protos])
        try:
            info = stack.start()
            result = asyncio.run(measure(stack, info, protos, args))
        finally:
            stack.stop()
    text = report(result, as_rerun(args_list, args.write), args.section)
    publish(text, args.write, marks(args.section))


if __name__ == "__main__":
    main()
