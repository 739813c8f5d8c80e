"""Throughput with 1, 2 and 4 worker processes on one dev server (`make bench`).

Each round runs `kosh dev --demo N --exit-when-done` (its own worker in-process, the real
dev server, embedded PostgreSQL, the agencies simulated over HTTP) and starts W-1 more
`kosh worker` processes that join it. Reported: cases per minute, events per second, and
the CPU seconds each part used, as ratios to the one-worker round of the same run.

    python -m bench.scaling --cases 60 --seconds-per-year 3 --workers 1 2 4 \\
        --write docs/scaling.md
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.common import as_rerun, marks, per_second, publish
from cli.devstack import POSTGRES, DevStack, cohort_options

MARK_BEGIN, MARK_END = marks("scaling")


@dataclass
class Round:
    workers: int
    seconds: float = 0.0
    events: int = 0
    cases: int = 0
    closed: int = 0
    books_agree: bool = False
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def cases_per_minute(self) -> float:
        return 60 * per_second(self.cases, self.seconds)

    @property
    def events_per_second(self) -> float:
        return per_second(self.events, self.seconds)


class CpuMeter:
    """CPU seconds per role, sampled while the processes live (they exit at the end)."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[str, float]] = {}

    def sample(self, roles: dict[int, str]) -> None:
        for pid, role in roles.items():
            try:
                proc = psutil.Process(pid)
                procs = [proc, *proc.children(recursive=True)]
            except psutil.Error:
                continue
            for p in procs:
                try:
                    t = p.cpu_times()
                    name = p.name()
                except psutil.Error:
                    continue
                part = (
                    "temporal server"
                    if name.startswith("temporal")
                    else "postgres"
                    if "postgres" in name
                    else role
                )
                self.last[p.pid] = (part, t.user + t.system)

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for part, seconds in self.last.values():
            out[part] = out.get(part, 0.0) + seconds
        return {k: round(v, 1) for k, v in sorted(out.items())}


def run_round(workers: int, cases: int, seconds_per_year: float, seed: int) -> Round:
    result = Round(workers=workers)
    meter = CpuMeter()
    options = cohort_options(cases, seconds_per_year=seconds_per_year, seed=seed, employers=0)
    with tempfile.TemporaryDirectory(prefix="kosh-bench-") as tmp:
        with DevStack(Path(tmp) / "state", options=options, log=Path(tmp) / "dev.out") as dev:
            dev.start(timeout=None)
            for _ in range(workers - 1):
                dev.add_worker({"KOSH_LOG_LEVEL": "warning"})
            # kosh's embedded PostgreSQL: its postmaster (a daemon not parented by kosh dev)
            # and its backends
            roles = {dev.pid: "kosh dev (worker 1)", dev.pids()[POSTGRES]: "postgres"}
            roles |= {p.pid: "kosh workers 2+" for p in dev.workers}
            while dev.running():
                meter.sample(roles)
                time.sleep(0.5)
        summary = dev.summary()
    result.seconds = summary["seconds"]
    result.events = summary["events"]
    result.cases = summary["cases"]
    result.closed = sum(summary["closed_by_reason"].values())
    result.books_agree = summary["reconciliation"]["ok"]
    result.cpu = meter.totals()
    return result


def table(rounds: list[Round]) -> str:
    base = rounds[0]
    parts = sorted({p for r in rounds for p in r.cpu})
    head = "| workers | cases closed | seconds | cases/min | events/s | ratio to 1 worker |"
    head += "".join(f" CPU s: {p} |" for p in parts)
    rule = "|---" * (6 + len(parts)) + "|"
    rows = [head, rule]
    for r in rounds:
        ratio = r.cases_per_minute / base.cases_per_minute if base.cases_per_minute else 0
        row = (
            f"| {r.workers} | {r.closed}/{r.cases} | {r.seconds:.1f} | "
            f"{r.cases_per_minute:.1f} | {r.events_per_second:.0f} | {ratio:.2f} |"
        )
        row += "".join(f" {r.cpu.get(p, 0):.1f} |" for p in parts)
        rows.append(row)
    return "\n".join(rows)


def report(rounds: list[Round], argv: list[str]) -> str:
    cpu = psutil.cpu_count()
    memory = psutil.virtual_memory().total / 2**30
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python -m bench.scaling " + " ".join(argv)
    return "\n".join(
        [
            MARK_BEGIN,
            f"Measured {when} on {platform.platform()}, {cpu} CPUs, {memory:.0f} GiB, with",
            f"`{command}`:",
            "",
            table(rounds),
            "",
            "Every case closed and the three books (workflows, record, agencies) agreed in "
            f"every round: {all(r.closed == r.cases and r.books_agree for r in rounds)}.",
            MARK_END,
        ]
    )


def main(argv: list[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--seconds-per-year", type=float, default=3.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", type=Path, help="Replace the measured section of this file.")
    args = parser.parse_args(args_list)
    rounds = []
    for w in args.workers:
        r = run_round(w, args.cases, args.seconds_per_year, args.seed)
        print(f"{w} worker(s): {r.cases_per_minute:.1f} cases/min, cpu {r.cpu}", flush=True)
        rounds.append(r)
    publish(report(rounds, as_rerun(args_list, args.write)), args.write, (MARK_BEGIN, MARK_END))


if __name__ == "__main__":
    main()
