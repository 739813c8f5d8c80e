"""Lifecycle throughput against bare Temporal, and where the worker's time goes (`make bench`).

One run, one dev server, two phases:

1. *kosh*: `kosh dev --demo N --exit-when-done` runs a mixed cohort (kandas and general,
   every path) whole, from application to closing, on a compressed policy clock, with its
   one worker (the agencies simulated over HTTP, the record in embedded PostgreSQL). With
   `--profile`, py-spy samples that process meanwhile. Its histories are read and every case
   turned into a script: its activities, timers, signals, updates and continue-as-new, in
   order, with the timers' durations and the cases' start offsets.
2. *bare Temporal*: the dev server is reopened on the same file and a bare workflow with
   empty activities and empty handlers plays every script on a worker in this process, on
   its own task queue. An input (a signal or update staff or an agency sent the kosh case)
   is sent to the bare case by the activity before it, as an agency's callback follows its
   request.

The comparison is CPU per case, read from /proc for each part (worker, Temporal server,
PostgreSQL) while it runs: at saturation, throughput is the machine's CPU over the CPU a
case costs, so the ratio of bare's CPU per case to kosh's is kosh's throughput relative to
bare Temporal's, and it holds on a noisy machine where wall-clock rates do not (they are
reported too: cases per minute from the first start to the last close, read from the server).

    python -m bench.baseline --cases 100 --seconds-per-year 2 --profile \\
        --write docs/performance.md
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from adapters.codec import CodecKeys
from bench.common import ENV, cohort_command, free_port, write_section
from bench.scaling import CpuMeter
from cli.dev import TemporalDevServer
from workflows import api

MARK_BEGIN, MARK_END = "<!-- bench:baseline:begin -->", "<!-- bench:baseline:end -->"
PROFILE_BEGIN, PROFILE_END = "<!-- bench:profile:begin -->", "<!-- bench:profile:end -->"
BASELINE_QUEUE = "kosh-bench-baseline"
LOCAL_ACTIVITY_MARKER = "core_local_activity"  # the marker a local activity's result is kept in
GOAL = 0.8

# A script step: ("activities", n) run n empty activities at once; ("local", 1) one empty
# local activity (kosh asks its record and staff registry from the worker); ("sleep", s) a
# timer that fired; ("wait", s) a timer cancelled because an input came first (a wait with a
# timeout); ("input", 0) wait for the next signal or update; ("continue", 0) continue as new.
Step = tuple[str, float]


@dataclass
class Script:
    """One kosh case's shape, as the baseline plays it."""

    offset: float  # seconds after the cohort's first start
    steps: list[Step] = field(default_factory=list)
    # Per activity step index: the inputs ("signal" / "update") its activity sends afterwards.
    sends: dict[int, list[str]] = field(default_factory=dict)


@dataclass
class Shape:
    cases: int = 0
    runs: int = 0
    activities: int = 0
    local_activities: int = 0
    timers: int = 0
    signals: int = 0
    updates: int = 0
    unplayable_inputs: int = 0  # inputs with no activity before them in their run


def _name(event: HistoryEvent) -> str:
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


def script_of(runs: list[list[HistoryEvent]], offset: float, shape: Shape) -> Script:
    """The baseline script of one case from its runs' histories, oldest run first."""
    script = Script(offset=offset)
    shape.cases += 1
    for number, events in enumerate(runs):
        shape.runs += 1
        fate = {}
        for e in events:
            if _name(e) in ("TIMER_FIRED", "TIMER_CANCELED"):
                attrs = e.timer_fired_event_attributes
                if _name(e) == "TIMER_CANCELED":
                    attrs = e.timer_canceled_event_attributes  # type: ignore[assignment]
                fate[attrs.started_event_id] = _name(e)
        last_activity: int | None = None
        previous = ""
        for e in events:
            kind = _name(e)
            if kind == "ACTIVITY_TASK_SCHEDULED":
                shape.activities += 1
                if script.steps and script.steps[-1][0] == "activities" and previous == kind:
                    script.steps[-1] = ("activities", script.steps[-1][1] + 1)
                else:
                    script.steps.append(("activities", 1))
                last_activity = len(script.steps) - 1
            elif kind == "MARKER_RECORDED" and (
                e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            ):
                # Not an input's sender: an update sent from inside the workflow task that runs
                # the local activity would wait for that task to end.
                shape.local_activities += 1
                script.steps.append(("local", 1))
            elif kind == "TIMER_STARTED":
                shape.timers += 1
                seconds = e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
                fired = fate.get(e.event_id) == "TIMER_FIRED"
                script.steps.append(("sleep" if fired else "wait", seconds.total_seconds()))
            elif kind in ("WORKFLOW_EXECUTION_SIGNALED", "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"):
                which = "signal" if kind == "WORKFLOW_EXECUTION_SIGNALED" else "update"
                shape.signals += which == "signal"
                shape.updates += which == "update"
                if last_activity is None:
                    shape.unplayable_inputs += 1
                else:
                    script.sends.setdefault(last_activity, []).append(which)
                    script.steps.append(("input", 0))
            if not kind.startswith("WORKFLOW_TASK"):
                previous = kind
        if number < len(runs) - 1:
            script.steps.append(("continue", 0))
    return script


# ---------------------------------------------------------------------------------------
# The baseline: a bare workflow, empty activities, empty handlers.


@activity.defn(name="bench_empty")
async def empty(workflow_id: str, sends: list[str]) -> None:
    """Nothing, then the inputs the kosh case received after this activity (a callback)."""
    if sends:
        client: Client = BASELINE_CLIENT[0]
        handle = client.get_workflow_handle(workflow_id)
        for which in sends:
            if which == "signal":
                await handle.signal("input")
            else:
                await handle.execute_update("input_update")


BASELINE_CLIENT: list[Client] = []


@workflow.defn(name="BareCase", sandboxed=False)
class BareCase:
    def __init__(self) -> None:
        self.received = 0

    @workflow.signal(name="input")
    def input(self) -> None:
        self.received += 1

    @workflow.update(name="input_update")
    def input_update(self) -> None:
        self.received += 1

    @input_update.validator
    def validate(self) -> None:
        pass

    def _got(self, count: int) -> Callable[[], bool]:
        return lambda: self.received >= count

    @workflow.run
    async def run(self, script: dict[str, Any]) -> int:
        steps: list[list[Any]] = script["steps"]
        sends: dict[str, list[str]] = script["sends"]
        at: int = script.get("at", 0)
        waited: int = script.get("waited", 0)
        self.received += script.get("received", 0)
        wid = workflow.info().workflow_id
        while at < len(steps):
            kind, value = steps[at]
            if kind == "activities":
                mine = sends.get(str(at), [])
                await asyncio.gather(
                    *(
                        workflow.execute_activity(
                            empty,
                            args=[wid, mine if i == 0 else []],
                            start_to_close_timeout=timedelta(seconds=30),
                        )
                        for i in range(int(value))
                    )
                )
            elif kind == "local":
                await workflow.execute_local_activity(
                    empty, args=[wid, []], start_to_close_timeout=timedelta(seconds=30)
                )
            elif kind == "sleep":
                await workflow.sleep(value)
            elif kind == "wait":
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(self._got(waited + 1), timeout=value)
            elif kind == "input":
                waited += 1
                await workflow.wait_condition(self._got(waited))
            elif kind == "continue":
                await workflow.wait_condition(workflow.all_handlers_finished)
                carried = self.received - waited
                workflow.continue_as_new({**script, "at": at + 1, "waited": 0, "received": carried})
            at += 1
        return at


def as_ordinary(scripts: list[Script]) -> list[Script]:
    """The same scripts with every local activity an ordinary one: what the cases' calls cost
    Temporal before kosh asked its record and registry from the worker."""
    return [
        Script(
            offset=s.offset,
            steps=[("activities", 1) if kind == "local" else (kind, v) for kind, v in s.steps],
            sends=s.sends,
        )
        for s in scripts
    ]


async def play(client: Client, scripts: list[Script], *, prefix: str) -> tuple[float, float]:
    """Run every script on the baseline; (cases per minute, CPU seconds of this process)."""
    BASELINE_CLIENT[:] = [client]
    me = psutil.Process()
    cpu_before = sum(me.cpu_times()[:2])
    async with Worker(
        client,
        task_queue=BASELINE_QUEUE,
        workflows=[BareCase],
        activities=[empty],
        max_concurrent_activities=200,
    ):
        began = time.monotonic()
        run_id = f"bare-{prefix}-{int(time.time())}"

        async def one(i: int, s: Script) -> None:
            await asyncio.sleep(max(0.0, s.offset - (time.monotonic() - began)))
            body = {"steps": s.steps, "sends": {str(k): v for k, v in s.sends.items()}}
            handle = await client.start_workflow(
                BareCase.run, body, id=f"{run_id}-{i}", task_queue=BASELINE_QUEUE
            )
            await handle.result(follow_runs=True)

        await asyncio.gather(*(one(i, s) for i, s in enumerate(scripts)))
    cpu = sum(me.cpu_times()[:2]) - cpu_before
    spans = [w async for w in client.list_workflows(f"WorkflowId STARTS_WITH '{run_id}-'")]
    return _per_minute(spans, len(scripts)), cpu


def _per_minute(executions: list[Any], cases: int) -> float:
    first = min(e.start_time for e in executions)
    last = max(e.close_time for e in executions if e.close_time)
    seconds = (last - first).total_seconds()
    return 60 * cases / seconds if seconds else 0.0


# ---------------------------------------------------------------------------------------
# The kosh side: the cohort, its CPU, its profile, its histories.


@dataclass
class KoshRun:
    cases: int
    closed: int
    books_agree: bool
    cpu: dict[str, float]
    per_minute: float = 0.0
    profile: Path | None = None


async def run_kosh(
    state: Path,
    cases: int,
    seconds_per_year: float,
    seed: int,
    *,
    profile: Path | None = None,
) -> KoshRun:
    """Run a cohort to the end, its CPU sampled per part (and, with `profile`, py-spy
    recording its process from the moment the stack is up)."""
    command = cohort_command(state, cases, seconds_per_year, seed)
    out_path = state.parent / f"{state.name}.out"
    with out_path.open("w") as out:
        dev = subprocess.Popen(command, env=ENV, stdout=out, stderr=subprocess.DEVNULL)
    spy: subprocess.Popen[bytes] | None = None
    meter = CpuMeter()
    try:
        while dev.poll() is None:
            address = _stack_address(state)
            # Once the stack is up: the profile leaves the start-up imports out.
            if address is not None and profile is not None and spy is None:
                spy = subprocess.Popen(
                    [
                        *(str(Path(sys.executable).parent / "py-spy"), "record"),
                        *("--pid", str(dev.pid), "--format", "raw", "--output", str(profile)),
                        *("--rate", "50", "--nonblocking"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            meter.sample({dev.pid: "kosh worker (kosh dev)"})
            meter.sample_postgres(state)
            await asyncio.sleep(0.5)
    finally:
        if dev.poll() is None:
            dev.send_signal(signal.SIGINT)
            dev.wait(timeout=60)
        if spy is not None:
            try:
                spy.wait(timeout=30)  # it writes the profile when its target exits
            except subprocess.TimeoutExpired:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
    if dev.returncode != 0:
        raise SystemExit(f"kosh dev failed ({dev.returncode}); see {state}/worker.log")
    summary = json.loads(out_path.read_text().strip().splitlines()[-1])
    run = KoshRun(
        cases=summary["cases"],
        closed=sum(summary["closed_by_reason"].values()),
        books_agree=summary["reconciliation"]["ok"],
        cpu={
            "worker" if part.startswith("kosh") else part: seconds
            for part, seconds in meter.totals().items()
        },
        profile=profile if profile is not None and profile.exists() else None,
    )
    return run


def _stack_address(state: Path) -> str | None:
    """The dev server's address once the stack is up (the agencies are its last part)."""
    try:
        stack = json.loads((state / "stack.json").read_text())
    except (OSError, ValueError):
        return None
    return str(stack["temporal_address"]) if stack.get("agencies_url") else None


async def kosh_scripts(client: Client, state: Path) -> tuple[list[Script], Shape, float]:
    """Every kosh case's script, the shape totals, and kosh's cases per minute."""
    scenarios: dict[str, str] = json.loads((state / "demo.json").read_text())
    per_case: list[tuple[datetime, list[list[HistoryEvent]]]] = []
    executions = []
    for case_id in sorted(scenarios):
        wid = api.case_workflow_id(case_id)
        runs = [w async for w in client.list_workflows(f"WorkflowId = '{wid}'")]
        runs.sort(key=lambda r: r.start_time)
        executions += runs
        histories = []
        for run in runs:
            h = await client.get_workflow_handle(wid, run_id=run.run_id).fetch_history()
            histories.append(list(h.events))
        per_case.append((runs[0].start_time, histories))
    first = min(start for start, _ in per_case)
    shape = Shape()
    scripts = [
        script_of(histories, (start - first).total_seconds(), shape)
        for start, histories in per_case
    ]
    return scripts, shape, _per_minute(executions, len(per_case))


# ---------------------------------------------------------------------------------------
# The profile: py-spy's collapsed stacks, the top costs by function.


def top_costs(collapsed: str, limit: int = 12) -> tuple[int, list[tuple[str, float, float]]]:
    """(samples, [(function, self share, inclusive share)]) from py-spy's raw format."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return 0, []
    ranked = [(name, own[name] / total, inclusive[name] / total) for name, _ in own.most_common()]
    return total, ranked[:limit]


# Where a sample's time goes: the first of these its stack meets, from the innermost frame
# out (a JSON encoder called by pydantic counts for pydantic).
AREAS = (
    ("imports (module loading)", ("importlib", "_bootstrap")),
    ("payload codec (AES-GCM)", ("adapters/codec.py", "cryptography")),
    ("pydantic (validation, serialisation)", ("pydantic",)),
    ("logging (structlog)", ("structlog", "/logging/", "activities/logging.py")),
    ("PostgreSQL client (asyncpg)", ("asyncpg",)),
    ("HTTP (agencies, notices, console)", ("httpx", "httpcore", "uvicorn", "starlette", "h11")),
    ("kosh domain and workflow code", ("/domain/", "/workflows/")),
    ("Temporal SDK (bridge, sandbox, converter)", ("temporalio",)),
    ("asyncio event loop and threads", ("asyncio", "selectors.py", "futures/thread.py")),
)


def areas(collapsed: str) -> list[tuple[str, float]]:
    """Each area's share of the samples (py-spy's raw format), largest first."""
    counts: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        counts[_area(stack.split(";"))] += count
    return [(area, n / total) for area, n in counts.most_common()] if total else []


def _area(frames: list[str]) -> str:
    for frame in reversed(frames):
        for area, marks in AREAS:
            if any(mark in frame for mark in marks):
                return area
    return "other"


def _frame(frame: str) -> str:
    """'function (path/to/file.py:12)' -> 'function (file.py)'; where it lives matters,
    not the line."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0] or where.rstrip(")")
    parts = path.split("/")
    short = "/".join(parts[-2:]) if "site-packages" not in path else _package(parts)
    return f"{name} ({short})"


def _package(parts: list[str]) -> str:
    at = parts.index("site-packages")
    return "/".join(parts[at + 1 : at + 3]) if len(parts) > at + 2 else "/".join(parts[at + 1 :])


# ---------------------------------------------------------------------------------------
# The report.


@dataclass
class Workload:
    per_minute: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per part, whole run

    def per_case(self, cases: int) -> dict[str, float]:
        return {part: seconds / cases for part, seconds in self.cpu.items()} if cases else {}


@dataclass
class Result:
    cases: int
    closed: int
    books_agree: bool
    kosh: Workload
    bare: Workload
    shape: Shape
    # The bare scripts again, every call an ordinary activity (only when kosh made local ones).
    ordinary: Workload | None = None

    @property
    def ratio(self) -> float:
        """kosh's throughput at saturation relative to bare Temporal's: bare's CPU per case
        over kosh's."""
        k, b = sum(self.kosh.cpu.values()), sum(self.bare.cpu.values())
        return b / k if k else 0.0

    @property
    def ratio_ordinary(self) -> float:
        """kosh against the bare scripts with every call an ordinary activity."""
        if self.ordinary is None:
            return 0.0
        k, o = sum(self.kosh.cpu.values()), sum(self.ordinary.cpu.values())
        return o / k if k else 0.0

    @property
    def ratio_wall(self) -> float:
        k, b = self.kosh.per_minute, self.bare.per_minute
        return k / b if b else 0.0


def table(r: Result) -> str:
    rows = [
        "| workload | cases | CPU s per case: worker | temporal server | postgres | total"
        " | throughput at saturation (CPU) | cases/min (wall) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    workloads = [("kosh (ApplicantWorkflow)", r.kosh), ("bare Temporal, same scripts", r.bare)]
    if r.ordinary is not None:
        workloads.append(("bare, same scripts, every call an ordinary activity", r.ordinary))
    for name, w in workloads:
        per = w.per_case(r.cases)
        total = sum(per.values())
        bare_total = sum(r.bare.per_case(r.cases).values())
        ratio = bare_total / total if total else 0.0
        rows.append(
            f"| {name} | {r.cases} | {per.get('worker', 0):.2f} | "
            f"{per.get('temporal server', 0):.2f} | {per.get('postgres', 0):.2f} | "
            f"{total:.2f} | {ratio:.2f} | {w.per_minute:.1f} |"
        )
    return "\n".join(rows)


def shares(cpu: dict[str, float]) -> str:
    total = sum(cpu.values())
    if not total:
        return "no CPU measured"
    return ", ".join(f"{part} {100 * s / total:.0f}%" for part, s in sorted(cpu.items()))


def report(r: Result, argv: list[str]) -> str:
    s = r.shape
    per_case = (
        f"{s.runs / s.cases:.1f} runs, {s.activities / s.cases:.1f} activities and "
        f"{s.local_activities / s.cases:.1f} local activities, "
        f"{s.timers / s.cases:.1f} timers, {s.signals / s.cases:.1f} signals and "
        f"{s.updates / s.cases:.1f} updates per case"
        if s.cases
        else "no cases"
    )
    verdict = "meets" if r.ratio >= GOAL else "is below"
    return "\n".join(
        [
            MARK_BEGIN,
            f"Measured {_when()} on {_machine()}, with",
            f"`python -m bench.baseline {' '.join(argv)}`:",
            "",
            table(r),
            "",
            f"At saturation kosh runs at **{r.ratio:.2f}** of bare Temporal's throughput (bare's",
            f"CPU per case over kosh's), which {verdict} the goal of {GOAL}; by wall clock,",
            f"one after the other on a shared machine, {r.ratio_wall:.2f}. The bare scripts",
            f"replayed {per_case}, as the kosh cases had them ({s.unplayable_inputs} inputs",
            "with no activity before them in their run were left out). Every kosh case closed",
            f"and the three books agreed: {r.closed == r.cases and r.books_agree}. CPU shares,",
            f"kosh: {shares(r.kosh.cpu)}; bare: {shares(r.bare.cpu)}. The kosh worker's",
            "process also serves the simulated agencies, the demo's staff and the console.",
            *([] if r.ordinary is None else [ordinary_sentence(r)]),
            MARK_END,
        ]
    )


def ordinary_sentence(r: Result) -> str:
    assert r.ordinary is not None
    bare, ordinary = sum(r.bare.cpu.values()), sum(r.ordinary.cpu.values())
    return (
        "The same scripts with every call an ordinary activity (as the cases made them before "
        "they asked the record and the registry from the worker, rule change "
        f"2026-11-local-record) cost bare Temporal {ordinary / r.cases:.2f} CPU s per case, "
        f"{ordinary / bare:.1f} times the scripts as played: against that, kosh runs at "
        f"{r.ratio_ordinary:.2f}."
        if bare and r.cases
        else "The same scripts with every call an ordinary activity measured no CPU."
    )


def profile_report(
    samples: int,
    costs: list[tuple[str, float, float]],
    shares_by_area: list[tuple[str, float]],
    argv: list[str],
) -> str:
    by_area = ["| where the time goes | share of samples |", "|---|---|"]
    by_area += [f"| {area} | {share:.1%} |" for area, share in shares_by_area]
    rows = ["| function (where) | own time | with callees |", "|---|---|---|"]
    rows += [f"| `{name}` | {own:.1%} | {inc:.1%} |" for name, own, inc in costs]
    return "\n".join(
        [
            PROFILE_BEGIN,
            f"Sampled {_when()} by py-spy at 50 Hz ({samples} samples of the kosh dev process",
            "in the kosh phase: its worker, the demo's staff, the simulated agencies, the",
            "console), from the moment the stack was up, with",
            f"`python -m bench.baseline {' '.join(argv)}`. By area (each sample counted for the",
            "innermost frame that names one):",
            "",
            *by_area,
            "",
            "The functions with the most time of their own:",
            "",
            *rows,
            PROFILE_END,
        ]
    )


def _when() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return f"{platform.platform()}, {psutil.cpu_count()} CPUs, {memory:.0f} GiB"


async def bare_client(address: str) -> Client:
    return await Client.connect(address, data_converter=pydantic_data_converter)


async def bench(tmp: Path, cases: int, seconds_per_year: float, seed: int, profile: bool) -> Result:
    # 1. kosh: its CPU, its profile, its scripts.
    state = tmp / "state"
    spy = tmp / "profile.txt" if profile else None
    kosh_run = await run_kosh(state, cases, seconds_per_year, seed, profile=spy)
    keys = CodecKeys.from_json((state / "codec-keys.json").read_text(), source="state")
    server = TemporalDevServer(state, free_port(), free_port())
    server.start()
    try:
        scripts, shape, kosh_per_minute = await kosh_scripts(
            await server.wait_ready(keys=keys), state
        )
        # 2. bare Temporal on the same server; then, if kosh made local activities, the same
        # scripts with every call an ordinary activity.
        assert server.pid is not None
        client = await bare_client(server.address)
        bare = await play_measured(client, scripts, server.pid, prefix="bare")
        ordinary = None
        if shape.local_activities:
            ordinary = await play_measured(
                client, as_ordinary(scripts), server.pid, prefix="ordinary"
            )
    finally:
        server.stop()
    return Result(
        cases=kosh_run.cases,
        closed=kosh_run.closed,
        books_agree=kosh_run.books_agree,
        kosh=Workload(per_minute=kosh_per_minute, cpu=kosh_run.cpu),
        bare=bare,
        shape=shape,
        ordinary=ordinary,
    )


async def play_measured(
    client: Client, scripts: list[Script], server_pid: int, *, prefix: str
) -> Workload:
    """Play the scripts; their throughput and the CPU of this process and of the server."""
    meter = CpuMeter()
    meter.sample({server_pid: "temporal server"})
    before = meter.totals().get("temporal server", 0.0)
    per_minute, worker_cpu = await play(client, scripts, prefix=prefix)
    meter.sample({server_pid: "temporal server"})
    after = meter.totals().get("temporal server", 0.0)
    return Workload(
        per_minute=per_minute,
        cpu={"worker": round(worker_cpu, 1), "temporal server": round(after - before, 1)},
    )


def main(argv: list[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--seconds-per-year", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="py-spy the kosh worker.")
    parser.add_argument("--write", type=Path, help="Replace the measured sections of this file.")
    args = parser.parse_args(args_list)
    with tempfile.TemporaryDirectory(prefix="kosh-baseline-") as tmp:
        result = asyncio.run(
            bench(Path(tmp), args.cases, args.seconds_per_year, args.seed, args.profile)
        )
        text = report(result, args_list)
        print(text)
        profile_text = None
        spy = Path(tmp) / "profile.txt"
        if args.profile and spy.exists():
            collapsed = spy.read_text()
            samples, costs = top_costs(collapsed)
            profile_text = profile_report(samples, costs, areas(collapsed), args_list)
            print(profile_text)
    if args.write:
        write_section(args.write, MARK_BEGIN, MARK_END, text)
        if profile_text:
            write_section(args.write, PROFILE_BEGIN, PROFILE_END, profile_text)


if __name__ == "__main__":
    main()
