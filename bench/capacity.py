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
import json
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from itertools import pairwise
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.common import TypedSearchAttributes
from temporalio.converter import decode_typed_search_attributes

from adapters.codec import CodecKeys
from adapters.simulator import SimConfig, Simulator
from bench.common import ENV, KOSH, free_port, write_section
from cli.demo import SCENARIOS, DemoBook, cohort
from domain.agenda import next_wakeup, support_schedule
from domain.application import Application
from domain.case import CaseState
from domain.clock import SECONDS_PER_YEAR, CaseClock
from domain.events import EVENT_ADAPTER
from domain.policy import policy_by_id, policy_in_force
from domain.regions import LABOUR_DEFICIT_REGIONS, Region
from store.events import NewEvent, StoredEvent, append_events, read_events
from store.integrity import verify_chains
from store.pool import create_pool
from store.projections import rebuild_and_compare
from worker import connect
from workflows import api
from workflows.applicant import RULE_CHANGES
from workflows.state import RunState


def marks(section: str) -> tuple[str, str]:
    """The comments around a measured section of docs/performance.md."""
    return f"<!-- bench:{section}:begin -->", f"<!-- bench:{section}:end -->"


MARK_BEGIN, MARK_END = marks("capacity")
PROTOTYPE_SECONDS_PER_YEAR = 24.0  # the demo's clock: a prototype reaches year three in a minute


def prototype_seconds_per_year(prototypes: int) -> float:
    """The prototypes' clock: the demo's, slowed down as more of them run at once, so two
    shared CPUs keep every one of their obligations on time (69 at the demo's clock fell a
    case year behind their residence checks and were captured overdue)."""
    return max(PROTOTYPE_SECONDS_PER_YEAR, float(prototypes))


KANDAS_FULFILLED = next(s for s in SCENARIOS if s.name == "kandas_fulfilled")
MIB = 2**20
# The worker's SDK metrics (Prometheus names, summed over their labels).
TASKS = "temporal_workflow_task_execution_latency_count"
MISSES = "temporal_sticky_cache_miss"
EVICTIONS = "temporal_sticky_cache_total_forced_eviction"
CACHED = "temporal_sticky_cache_size"
FAILED = ("temporal_workflow_task_execution_failed", "temporal_activity_execution_failed")
PARTS = ("Temporal server", "kosh worker", "kosh dev", "PostgreSQL")


# ---- the figures (pure) ------------------------------------------------------------------
@dataclass
class Wave:
    """One monitoring interval of wall time: RSS samples (MiB) and what the cases did."""

    index: int
    seconds: float
    wakes: int = 0
    worker_mib: list[float] = field(default_factory=list)
    server_mib: list[float] = field(default_factory=list)
    workflow_tasks: int = 0
    cache_misses: int = 0
    evictions: int = 0
    lag_p50: float = 0.0
    lag_p95: float = 0.0


@dataclass
class Phase:
    """Wall and CPU seconds (by part) of one phase of the run, for `cases` cases."""

    name: str
    cases: int
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)


@dataclass
class Result:
    cases: int
    cache: int
    wave_seconds: float
    seconds_per_year: float = 0.0
    prototypes: int = 0
    worker_mib_started: float = 0.0
    server_mib_started: float = 0.0
    cached_started: int = 0
    started_at: float = 0.0  # wall epoch seconds: the first clone's start
    late_seconds: float = 0.0  # the first wave began this long before every case slept
    load: float = 0.0  # the machine's 5-minute load average at the end
    failures: int = 0  # workflow tasks and activities that failed over the run
    record: str = ""  # what the record's own checks said at the end
    phases: dict[str, Phase] = field(default_factory=dict)
    waves: list[Wave] = field(default_factory=list)

    def seconds(self, phase: str) -> float:
        return self.phases[phase].seconds if phase in self.phases else 0.0

    @property
    def starts_per_second(self) -> float:
        started = self.seconds("start")
        return self.cases / started if started else 0.0


def rss_range(samples: Sequence[float]) -> str:
    """min / max / last, in MiB."""
    if not samples:
        return "-"
    return f"{min(samples):.0f} / {max(samples):.0f} / {samples[-1]:.0f}"


def bounded(waves: Sequence[Wave], *, slack: float = 0.05) -> bool:
    """The worker's memory is bounded when its growth stops: from the second wave on, no wave
    peaks more than `slack` above the wave before it. The first wave is the worker's warm-up
    (it starts before the process has replayed an evicted case or reached its allocator's
    working size); a leak per case or per wake would grow every wave after it."""
    peaks = [max(w.worker_mib) for w in waves if w.worker_mib]
    if len(peaks) < 3 or len(peaks) < len(waves):
        return False
    return all(later <= earlier * (1 + slack) for earlier, later in pairwise(peaks[1:]))


def memory_sentence(r: Result) -> str:
    """Whether the waves show the worker's memory bounded (one wave cannot)."""
    if len(r.waves) < 3:
        peak = max((m for w in r.waves for m in w.worker_mib), default=0.0)
        waves = "One wave" if len(r.waves) == 1 else f"{len(r.waves)} waves"
        return (
            f"{waves} cannot show whether the worker's memory stays bounded from wave to wave "
            "(the first is its warm-up; the 1,000-case run's three waves can): its RSS was "
            f"{r.worker_mib_started:.0f} MiB with every case asleep and at most {peak:.0f} "
            "MiB over the waves."
        )
    peaks = [max(w.worker_mib) for w in r.waves if w.worker_mib]
    steps = ", ".join(f"{100 * (b / a - 1):+.1f}%" for a, b in pairwise(peaks))
    return (
        "The worker's memory stayed bounded (after the first wave, its warm-up, no wave peaked "
        f"more than 5% above the wave before): {bounded(r.waves)}; its peak from wave to wave: "
        f"{steps}."
    )


def failures_sentence(r: Result) -> str:
    if r.failures == 0:
        return (
            "Workflow tasks and activities failed: 0 (every append found the record where the "
            "case's snapshot left it)."
        )
    return (
        f"Workflow tasks and activities failed: {r.failures}, each retried by Temporal (the "
        "worker's metrics count an attempt that failed, not a case); the record check below "
        "says whether anything was lost or written twice."
    )


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_table(r: Result) -> str:
    return "\n".join(
        [
            "| open cases | prototypes | record seeded (s) | started in (s) | starts/s "
            "| all asleep after (s) | Temporal server RSS (MiB) | kosh worker RSS (MiB) "
            "| cases in the sticky cache (limit) |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {r.cases} | {r.prototypes} | {r.seconds('seed'):.0f} | {r.seconds('start'):.0f} "
            f"| {r.starts_per_second:.1f} | {r.seconds('start') + r.seconds('asleep'):.0f} "
            f"| {r.server_mib_started:.0f} | {r.worker_mib_started:.0f} "
            f"| {r.cached_started} ({r.cache}) |",
        ]
    )


def wave_table(r: Result) -> str:
    rows = [
        "| wave | seconds | cases woken | workflow tasks | sticky cache misses / evictions "
        "| wake lag p50 / p95 (s) | kosh worker RSS min / max / last (MiB) "
        "| Temporal server RSS min / max / last (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in r.waves:
        rows.append(
            f"| {w.index} | {w.seconds:.0f} | {w.wakes} of {r.cases} | {w.workflow_tasks} "
            f"| {w.cache_misses} / {w.evictions} | {w.lag_p50:.1f} / {w.lag_p95:.1f} "
            f"| {rss_range(w.worker_mib)} | {rss_range(w.server_mib)} |"
        )
    return "\n".join(rows)


def cpu_table(r: Result) -> str:
    """CPU seconds by part and phase, and per case (ms) for the server and the worker."""
    rows = [
        "| phase | cases | seconds |"
        + "".join(f" CPU s: {p} |" for p in PARTS)
        + " ms per case: server / worker |",
        "|---" * (4 + len(PARTS)) + "|",
    ]
    for ph in r.phases.values():
        per = [1000 * ph.cpu.get(p, 0.0) / ph.cases if ph.cases else 0.0 for p in PARTS[:2]]
        rows.append(
            f"| {ph.name} | {ph.cases} | {ph.seconds:.0f} |"
            + "".join(f" {ph.cpu.get(p, 0.0):.0f} |" for p in PARTS)
            + f" {per[0]:.0f} / {per[1]:.0f} |"
        )
    return "\n".join(rows)


def cpu_ms(r: Result, *phases: str) -> float:
    """CPU milliseconds, all parts together, per case of these phases (per the first's cases)."""
    found = [r.phases[p] for p in phases if p in r.phases]
    if not found or not found[0].cases:
        return 0.0
    return 1000 * sum(sum(ph.cpu.values()) for ph in found) / found[0].cases


def explain(r: Result) -> str:
    waves = r.phases.get("waves", Phase("waves", 0, 0.0))
    misses = sum(w.cache_misses for w in r.waves)
    wakes = waves.cases  # recorded while the waves ran, as the CPU seconds were
    per_wake = 1000 * waves.cpu.get("kosh worker", 0.0) / wakes if wakes else 0.0
    server = [m for w in r.waves for m in w.server_mib]
    return (
        f"What bounds the worker's memory is its sticky cache: at most {r.cache} cases are "
        "kept in memory between their tasks, however many are open; a case asleep beyond that "
        "costs the worker nothing until it wakes. Waking an evicted case costs a replay: the "
        "worker fetches the run's history from the server and re-executes the workflow to the "
        f"point where it slept ({misses} sticky cache misses for {wakes} wakes here), which "
        f"with the residence check and its append comes to {per_wake:.0f} ms of worker CPU per "
        "wake. The server's memory is another matter, not bounded by the worker's cache: it "
        f"holds the open executions and their histories ({r.server_mib_started:.0f} MiB after "
        f"the starts here, {max(server, default=0.0):.0f} MiB at most over the waves)."
    )


def arithmetic(r: Result, cpus: int, target: int = 20000) -> str:
    """What `target` cases would take here, from the CPU each case and each wake cost."""
    setup = cpu_ms(r, "seed") + cpu_ms(r, "start", "asleep")
    wake = cpu_ms(r, "waves")
    start_min = target * setup / 1000 / cpus / 60
    wave_min = target * wake / 1000 / cpus / 60
    return (
        f"Arithmetic for {target:,} open cases on this machine, with both CPUs to the run: "
        f"{setup:.0f} ms of CPU per case to append its record and start it (server, worker, "
        f"PostgreSQL and agencies together) and {wake:.0f} ms per wake make about "
        f"{start_min:.0f} min to start them and {wave_min:.0f} min for each wave, "
        f"{start_min + 3 * wave_min:.0f} min with three waves"
        + (
            ": more than `make bench` can spend here, hence "
            f"{r.cases:,} cases (`make bench-20000` runs {target:,})."
            if r.cases < target
            else "."
        )
    )


def keeping_up(r: Result) -> str:
    """Whether every case woke in every wave, or a backlog was left at the end."""
    if not r.waves:
        return ""
    rate = r.cases / r.wave_seconds
    tail = max(w.lag_p95 for w in r.waves)
    short = [f"wave {w.index}: {w.wakes} of {r.cases}" for w in r.waves if w.wakes < r.cases]
    if short:
        return (
            f"The server and the worker did not keep up with {rate:.1f} wakes a second here: "
            f"not every case had woken by the end ({'; '.join(short)}), the p95 lag reached "
            f"{tail:.0f} s, and the memory figures are those of a worker busy without pause."
        )
    return (
        f"Every case woke once in every wave ({rate:.1f} wakes a second): the server and the "
        f"worker kept up, half the wakes within {max(w.lag_p50 for w in r.waves):.0f} s of "
        f"their due moment and 95% within {tail:.0f} s."
    )


def overlap(r: Result) -> str:
    if r.late_seconds < 1:
        return "Every case was asleep before the first wave. "
    return f"The first wave began {r.late_seconds:.0f} s before every case was asleep. "


def shown_command(argv: Sequence[str]) -> str:
    """The command as a reader would rerun it."""
    return " ".join(["python -m bench.capacity", *argv])


def report(r: Result, argv: Sequence[str], section: str = "capacity") -> str:
    begin, end = marks(section)
    cpu = psutil.cpu_count()
    memory = psutil.virtual_memory().total / 2**30
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            begin,
            f"Measured {when} on {platform.platform()}, {cpu} CPUs, {memory:.0f} GiB, with",
            f"`{shown_command(argv)}`: sticky cache `KOSH_MAX_CACHED_WORKFLOWS={r.cache}`, "
            f"a monitoring interval every {r.wave_seconds:.0f} s of wall time "
            f"({r.seconds_per_year:.0f} s per case year). The cases are {r.cases} copies of "
            f"{r.prototypes} real kandas cases that the workflow drove from the application to "
            "the continue-as-new of their third case year (one per quota region and year the "
            "copies hold); each copy's record is appended through the store and it starts from "
            "its prototype's snapshot, as continue-as-new starts a run (bench/capacity.py).",
            "",
            start_table(r),
            "",
            wave_table(r),
            "",
            cpu_table(r),
            "",
            f"{memory_sentence(r)} {failures_sentence(r)} "
            f"{r.record} {overlap(r)}Load average at the end: {r.load:.1f} on {cpu} CPUs "
            "(the machine is shared).",
            "",
            keeping_up(r),
            "",
            explain(r),
            "",
            arithmetic(r, cpu or 1),
            end,
        ]
    )


def plan_places(cases: int, first_year: int) -> list[tuple[Region, int, int]]:
    """(region, year, clones): quota places for `cases` clones, every labour-deficit region
    year after year from `first_year` (each region-year's prototype holds a place itself)."""
    policy = policy_in_force(date(first_year, 3, 1))
    places: list[tuple[Region, int, int]] = []
    year, left = first_year, cases
    while left > 0:
        for region in sorted(LABOUR_DEFICIT_REGIONS, key=lambda r: (-policy.quota(r, year), r)):
            take = min(policy.quota(region, year) - 1, left)
            if take > 0:
                places.append((region, year, take))
                left -= take
        year += 1
    return places


def clock_through(wall: datetime, case_time: datetime, seconds_per_year: float) -> CaseClock:
    """The compressed clock that reads `case_time` at wall instant `wall`."""
    speedup = SECONDS_PER_YEAR / seconds_per_year
    origin = wall - (case_time - wall) / (speedup - 1)
    return CaseClock(origin=origin, seconds_per_year=seconds_per_year)


def due_wave(due_wall: float, first_wave: float, wave_seconds: float) -> int:
    """Which wave (from 1) a wake due at wall instant `due_wall` belongs to."""
    return max(1, int((due_wall - first_wave) // wave_seconds) + 1)


# ---- the stack -----------------------------------------------------------------------------
def _interruptible() -> None:
    """SIGINT stops the child even when this bench runs in the background of a shell (which
    ignores SIGINT for its background jobs, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Stack:
    """`kosh dev --no-worker` and one `kosh worker` joining it, in a state folder."""

    def __init__(self, state: Path, *, cache: int, prototypes: list[str]) -> None:
        self.state, self.cache = state, cache
        self.metrics_url = f"http://127.0.0.1:{free_port()}/metrics"
        self.dev: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        state.mkdir(parents=True)
        # The demo's staff answer the prototypes' interview and arrival notices.
        DemoBook(dict.fromkeys(prototypes, KANDAS_FULFILLED.name)).save(state / "demo.json")

    def start(self) -> dict[str, Any]:
        command = [str(KOSH), "dev", "--state", str(self.state), "--no-worker"]
        for option in ("--port", "--ui-port", "--console-port", "--codec-port"):
            command += [option, str(free_port())]
        self.dev = self._spawn(command, ENV, "dev.out")
        stack = self._wait_for_stack()
        env = {
            **ENV,
            "KOSH_STATE_DIR": str(self.state),
            "KOSH_MAX_CACHED_WORKFLOWS": str(self.cache),
            "KOSH_METRICS_LISTEN": self.metrics_url.split("/")[2],
            "KOSH_LOG_LEVEL": "warning",
        }
        self.worker = self._spawn([str(KOSH), "worker"], env, "worker.out")
        return stack

    def _spawn(self, command: list[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
        with (self.state / log).open("wb") as out:
            return subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_interruptible
            )

    def _wait_for_stack(self) -> dict[str, Any]:
        assert self.dev is not None
        while True:
            if self.dev.poll() is not None:
                raise SystemExit(f"kosh dev exited early; see {self.state / 'dev.out'}")
            with contextlib.suppress(OSError, ValueError):
                stack: dict[str, Any] = json.loads((self.state / "stack.json").read_text())
                if stack.get("agencies_url"):
                    return stack
            time.sleep(0.2)

    def pids(self, stack: dict[str, Any]) -> dict[str, int]:
        """The process of each part (PostgreSQL: its postmaster)."""
        assert self.dev is not None and self.worker is not None
        out = {"kosh dev": self.dev.pid, "kosh worker": self.worker.pid}
        for pid in stack["children"]:
            with contextlib.suppress(psutil.Error):
                name = psutil.Process(pid).name()
                out["Temporal server" if name.startswith("temporal") else "PostgreSQL"] = pid
        if "Temporal server" not in out:
            raise SystemExit("the Temporal dev server is not among kosh dev's children")
        return out

    def stop(self) -> None:
        # The worker first: without its server it would wait for it.
        for proc in (self.worker, self.dev):
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def rss_mib(pid: int) -> float:
    try:
        return float(psutil.Process(pid).memory_info().rss) / MIB
    except psutil.Error:
        return 0.0


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each part, its child processes included."""
    out: dict[str, float] = {}
    for part, pid in pids.items():
        try:
            root = psutil.Process(pid)
            procs = [root, *(root.children(recursive=True) if part == "PostgreSQL" else [])]
        except psutil.Error:
            continue
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                out[part] = out.get(part, 0.0) + t.user + t.system
        if part == "PostgreSQL":  # backends that have exited, reaped by the postmaster
            with contextlib.suppress(psutil.Error):
                t = root.cpu_times()
                out[part] = out.get(part, 0.0) + t.children_user + t.children_system
    return out


def scrape(url: str) -> dict[str, float]:
    """The worker's Prometheus metrics, summed over their labels."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        return parse_metrics(reply.read().decode())


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text: each metric's value summed over its labels."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        with contextlib.suppress(ValueError):
            totals[name] = totals.get(name, 0.0) + float(value)
    return totals


def metric(totals: dict[str, float], name: str) -> float:
    return totals.get(name, totals.get(name + "_total", 0.0))


# ---- prototypes: real cases driven to their third case year ------------------------------
@dataclass
class Prototype:
    case_id: str
    region: Region
    year: int
    clones: int
    application: Application
    snapshot: dict[str, Any] = field(default_factory=dict)
    search_attributes: TypedSearchAttributes = TypedSearchAttributes.empty
    events: list[StoredEvent] = field(default_factory=list)
    state: CaseState = field(default_factory=CaseState)

    def overdue(self) -> str | None:
        """Why the case was not asleep when it was captured (its clones would all wake at
        once, not in waves), or None."""
        earliest, due = self.asleep_between()
        if earliest < due:
            return None
        return (
            f"prototype {self.case_id} was captured with an obligation due "
            f"{due + timedelta(hours=1):%Y-%m-%d} "
            f"before its last event ({earliest - timedelta(hours=1):%Y-%m-%d}): the machine "
            "did not keep the prototypes' clock; run fewer cases or on more CPUs"
        )

    def asleep_between(self) -> tuple[datetime, datetime]:
        """Case times at which it sleeps: after its last event, before its next obligation."""
        day = next_wakeup(self.state)
        assert day is not None
        last = max(e.event.at for e in self.events)
        due = datetime.combine(day, dtime.min, tzinfo=UTC)
        return last + timedelta(hours=1), due - timedelta(hours=1)


def prototypes_for(places: Sequence[tuple[Region, int, int]], stamp: str) -> list[Prototype]:
    out = []
    for i, (region, year, clones) in enumerate(places):
        demo_case = cohort(1, seed=1000 + i, prefix="capacity")[0]
        assert demo_case.scenario == KANDAS_FULFILLED
        # Thirty at the application, whatever the year: the scoring passes every prototype.
        application = demo_case.application.model_copy(
            update={"preferred_regions": (region,), "born_on": date(year - 30, 5, 1)}
        )
        out.append(Prototype(f"{stamp}-p{i:03d}", region, year, clones, application))
    return out


async def start_prototype(client: Client, p: Prototype, seconds_per_year: float) -> None:
    """A new case (a first run's rules) whose clock reads 1 March of its quota year."""
    clock = clock_through(datetime.now(UTC), datetime(p.year, 3, 1, tzinfo=UTC), seconds_per_year)
    fresh = RunState(clock=clock, human_floor_seconds=5.0, rules=dict.fromkeys(RULE_CHANGES, True))
    inp = api.CaseInput(
        case_id=p.case_id, application=p.application, snapshot=fresh.model_dump(mode="json")
    )
    await client.start_workflow(
        api.WORKFLOW_NAME,
        inp,
        id=api.case_workflow_id(p.case_id),
        task_queue=api.TASK_QUEUE,
        static_summary=api.static_summary(inp),
    )


def rent_paid(case: CaseState) -> bool:
    schedule = support_schedule(case, policy_by_id(case.policy_id))
    return bool(schedule) and all(s.idempotency_key in case.paid_keys for s in schedule)


async def capture(client: Client, p: Prototype, *, timeout: float) -> None:
    """Wait for the run continue-as-new opens after the rent year, keep its input (the
    snapshot) and search attributes, and stop the prototype."""
    handle = client.get_workflow_handle(api.case_workflow_id(p.case_id))
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        run_id = (await handle.describe()).run_id
        if run_id != seen:
            seen = run_id
            run = client.get_workflow_handle(handle.id, run_id=run_id)
            async for event in run.fetch_history_events():
                assert event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
                attrs = event.workflow_execution_started_event_attributes
                inp = (await client.data_converter.decode(attrs.input.payloads, [api.CaseInput]))[0]
                snap = RunState.model_validate(inp.snapshot) if inp.snapshot else None
                if snap and snap.case.stage == "monitoring" and rent_paid(snap.case):
                    await run.terminate(reason="capacity bench: prototype captured")
                    p.snapshot, p.state = inp.snapshot, snap.case
                    p.search_attributes = decode_typed_search_attributes(attrs.search_attributes)
                    return
                break
        await asyncio.sleep(1.0)
    status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
    raise SystemExit(f"prototype {p.case_id} did not reach its third case year: {status.stage}")


async def drive_prototypes(
    client: Client, pool: asyncpg.Pool, protos: list[Prototype], timeout: float
) -> None:
    seconds_per_year = prototype_seconds_per_year(len(protos))
    for p in protos:
        await start_prototype(client, p, seconds_per_year)
    await asyncio.gather(*(capture(client, p, timeout=timeout) for p in protos))
    async with pool.acquire() as conn:
        for p in protos:
            seq = RunState.model_validate(p.snapshot).seq
            p.events = [e for e in await read_events(conn, case_id=p.case_id) if e.seq <= seq]
    for p in protos:
        overdue = p.overdue()
        if overdue:
            raise SystemExit(overdue)


# ---- clones --------------------------------------------------------------------------------
async def agency_references(case: CaseState, case_id: str) -> list[str]:
    """What the simulated agencies answer this case id: permit, kandas certificate, the
    authorities' request references, the treasury's payment references, in that order."""
    sim = Simulator(SimConfig(latency_ms=(0, 0), silence_rate=1.0))
    app = case.application
    assert app is not None
    refs = [await sim.issue_permit(case_id=case_id), await sim.grant_kandas_status(case_id=case_id)]
    for r in case.authority_requests:
        key = f"{case_id}:authority:{r.name}"  # the workflow's request key
        refs.append(
            await sim.request(case_id=case_id, application=app, authority=r.name, request_key=key)
        )
    renamed = case.model_copy(update={"case_id": case_id})
    for item in support_schedule(renamed, policy_by_id(case.policy_id)):
        receipt = await sim.disburse(
            idempotency_key=item.idempotency_key,
            case_id=case_id,
            amount_tiyn=item.amount_tiyn,
            purpose=item.measure,
        )
        refs.append(receipt.reference)
    return refs


@dataclass
class Clone:
    case_id: str
    proto: Prototype
    snapshot: dict[str, Any]


class Cloner:
    """A prototype's record and snapshot under new case ids."""

    def __init__(self, p: Prototype, proto_refs: list[str]) -> None:
        self.p = p
        self.tokens = [p.case_id, *proto_refs]
        self.record = json.dumps(
            [{"key": e.idempotency_key, "event": e.event.model_dump(mode="json")} for e in p.events]
        )
        self.snapshot = json.dumps(p.snapshot)
        for token in self.tokens:
            if token not in self.record:  # the simulator no longer answers as it did
                raise SystemExit(f"{p.case_id}: {token} is not in the prototype's record")
        self.pattern = re.compile("|".join(map(re.escape, sorted(self.tokens, key=len)[::-1])))

    @classmethod
    async def of(cls, p: Prototype) -> Cloner:
        return cls(p, await agency_references(p.state, p.case_id))

    async def clone(self, case_id: str) -> tuple[list[NewEvent], Clone]:
        refs = await agency_references(self.p.state, case_id)
        mapping = dict(zip(self.tokens, [case_id, *refs], strict=True))

        def swap(text: str) -> str:
            return self.pattern.sub(lambda m: mapping[m.group(0)], text)

        events = [
            NewEvent(
                event_id=str(uuid.uuid4()),
                event=EVENT_ADAPTER.validate_python(item["event"]),
                idempotency_key=item["key"],
            )
            for item in json.loads(swap(self.record))
        ]
        return events, Clone(case_id, self.p, json.loads(swap(self.snapshot)))


async def seed(
    pool: asyncpg.Pool, protos: list[Prototype], stamp: str, *, at_once: int = 6
) -> list[Clone]:
    """Append every clone's record through the store's own append, a few cases at once."""
    cloners = [await Cloner.of(p) for p in protos]
    jobs = [
        (c, f"{stamp}-c{n:05d}")
        for n, c in enumerate(c for c in cloners for _ in range(c.p.clones))
    ]
    clones: list[Clone] = []
    slots = asyncio.Semaphore(at_once)

    async def one(cloner: Cloner, case_id: str) -> None:
        events, clone = await cloner.clone(case_id)
        async with slots, pool.acquire() as conn:
            await append_events(conn, case_id=case_id, expected_seq=0, events=events)
        clones.append(clone)

    for at in range(0, len(jobs), 500):
        await asyncio.gather(*(one(c, case_id) for c, case_id in jobs[at : at + 500]))
    clones.sort(key=lambda c: c.case_id)
    return clones


async def start_clones(
    client: Client,
    clones: list[Clone],
    *,
    first_wave: float,
    wave_seconds: float,
    seconds_per_year: float,
    at_once: int = 32,
) -> None:
    """Start every clone from its snapshot, as continue-as-new starts a run, on a clock that
    wakes it at `first_wave` plus its share of the interval (wall epoch seconds); no clone
    sleeps longer than its interval, so the last ones started may wake a little early."""
    speedup = SECONDS_PER_YEAR / seconds_per_year
    slots = asyncio.Semaphore(at_once)

    async def one(i: int, c: Clone) -> None:
        async with slots:
            now = datetime.now(UTC)
            wake = datetime.fromtimestamp(first_wave + wave_seconds * i / len(clones), UTC)
            earliest, due = c.proto.asleep_between()
            case_now = min(max(due - (wake - now) * speedup, earliest), due)
            clock = clock_through(now, case_now, seconds_per_year).model_dump(mode="json")
            inp = api.CaseInput(
                case_id=c.case_id,
                application=c.proto.application,
                snapshot={**c.snapshot, "clock": clock},
            )
            await client.start_workflow(
                api.WORKFLOW_NAME,
                inp,
                id=api.case_workflow_id(c.case_id),
                task_queue=api.TASK_QUEUE,
                search_attributes=c.proto.search_attributes,
            )

    await asyncio.gather(*(one(i, c) for i, c in enumerate(clones)))


# ---- measuring -----------------------------------------------------------------------------
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


async def sample_until(until: float, pids: dict[str, int], wave: Wave | None = None) -> None:
    while time.time() < until:
        if wave is not None:
            wave.worker_mib.append(rss_mib(pids["kosh worker"]))
            wave.server_mib.append(rss_mib(pids["Temporal server"]))
        await asyncio.sleep(max(0.0, min(1.0, until - time.time())))


async def wait_asleep(metrics_url: str, tasks_before: float, cases: int, timeout: float) -> None:
    """Until the worker has run every clone's first workflow task (each then sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = metric(await asyncio.to_thread(scrape, metrics_url), TASKS) - tasks_before
        if done >= cases:
            return
        await asyncio.sleep(1.0)
    raise SystemExit(f"the worker had not run every clone's first task after {timeout:.0f} s")


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
    stack: Stack, info: dict[str, Any], protos: list[Prototype], args: argparse.Namespace
) -> Result:
    result = Result(cases=args.cases, cache=args.cache, wave_seconds=args.wave_seconds)
    keys = CodecKeys.from_json(Path(info["codec_keys_file"]).read_text(), source="state")
    client = await connect(info["temporal_address"], keys=keys)
    pool = await create_pool(info["database_url"], max_size=8)
    pids = stack.pids(info)
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
    shown = args_list[:]
    if "--write" in shown:
        at = shown.index("--write")
        shown[at : at + 2] = ["--write", str(args.write)]
    text = report(result, shown, args.section)
    print(text)
    if args.write:
        write_section(args.write, *marks(args.section), text)


if __name__ == "__main__":
    main()
