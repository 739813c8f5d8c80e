"""The capacity bench's figures (pure): the starts, the waves, the CPU by part and phase,
whether the worker's memory stayed bounded, the arithmetic for 20,000 cases, and their
section of docs/performance.md (bench/capacity.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import psutil

from bench.common import machine, marks, when

MARK_BEGIN, MARK_END = marks("capacity")
PARTS = ("Temporal server", "kosh worker", "kosh dev", "PostgreSQL")


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
    return "\n".join(
        [
            begin,
            f"Measured {when()} on {machine()}, with",
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
