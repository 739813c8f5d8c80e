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

import asyncio
import json
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from adapters.codec import CodecKeys
from bench.baseline_profile import PROFILE_BEGIN, PROFILE_END, areas, profile_report, top_costs
from bench.baseline_report import MARK_BEGIN, MARK_END, Result, Workload, report
from bench.baseline_scripts import Script, Shape, as_ordinary, per_minute, play, script_of
from bench.common import cohort_parser, publish
from bench.scaling import CpuMeter
from cli.devserver import TemporalDevServer
from cli.devstack import POSTGRES, DevStack, cohort_options, free_port
from workflows import api


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
    options = cohort_options(cases, seconds_per_year=seconds_per_year, seed=seed, employers=0)
    dev = DevStack(state, options=options, log=state.parent / f"{state.name}.out")
    spy: subprocess.Popen[bytes] | None = None
    meter = CpuMeter()
    try:
        with dev:
            roles = {dev.launch().pid: "kosh worker (kosh dev)"}
            while dev.running():
                if len(roles) == 1 and dev.read_info() is not None:
                    roles[dev.pids()[POSTGRES]] = "postgres"  # its postmaster and backends
                    # Once the stack is up: the profile leaves the start-up imports out.
                    spy = None if profile is None else record(dev.pid, profile)
                meter.sample(roles)
                await asyncio.sleep(0.5)
    finally:
        if spy is not None:
            try:
                spy.wait(timeout=30)  # it writes the profile when its target exits
            except subprocess.TimeoutExpired:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
    dev.wait()  # it failed: DevStackError, with where its log is
    summary = dev.summary()
    return KoshRun(
        cases=summary["cases"],
        closed=sum(summary["closed_by_reason"].values()),
        books_agree=summary["reconciliation"]["ok"],
        cpu={
            "worker" if part.startswith("kosh") else part: seconds
            for part, seconds in meter.totals().items()
        },
        profile=profile if profile is not None and profile.exists() else None,
    )


def record(pid: int, profile: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling process `pid` at 50 Hz into `profile` (raw) until it exits."""
    return subprocess.Popen(
        [
            *(str(Path(sys.executable).parent / "py-spy"), "record"),
            *("--pid", str(pid), "--format", "raw", "--output", str(profile)),
            *("--rate", "50", "--nonblocking"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


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
    return scripts, shape, per_minute(executions, len(per_case))


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
    parser = cohort_parser(__doc__, cases=100, seconds_per_year=2.0)
    parser.add_argument("--profile", action="store_true", help="py-spy the kosh worker.")
    parser.add_argument("--write", type=Path, help="Replace the measured sections of this file.")
    args = parser.parse_args(args_list)
    with tempfile.TemporaryDirectory(prefix="kosh-baseline-") as tmp:
        result = asyncio.run(
            bench(Path(tmp), args.cases, args.seconds_per_year, args.seed, args.profile)
        )
        publish(report(result, args_list), args.write, (MARK_BEGIN, MARK_END))
        spy = Path(tmp) / "profile.txt"
        if args.profile and spy.exists():
            collapsed = spy.read_text()
            samples, costs = top_costs(collapsed)
            profile_text = profile_report(samples, costs, areas(collapsed), args_list)
            publish(profile_text, args.write, (PROFILE_BEGIN, PROFILE_END))


if __name__ == "__main__":
    main()
