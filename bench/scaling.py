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
import json
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.common import ENV, KOSH, cohort_command, write_section

MARK_BEGIN, MARK_END = "<!-- bench:scaling:begin -->", "<!-- bench:scaling:end -->"


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
        return 60 * self.cases / self.seconds if self.seconds else 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


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

    def sample_postgres(self, under: Path) -> None:
        """kosh's embedded PostgreSQL (its postmaster, a daemon not parented by kosh dev,
        names its data folder under `under`) and its backends."""
        for proc in psutil.process_iter(["name", "cmdline"]):
            try:
                named = "postgres" in (proc.info["name"] or "")
                mine = str(under) in " ".join(proc.info["cmdline"] or [])
            except psutil.Error:
                continue
            if named and mine:
                self.sample({proc.pid: "postgres"})

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for part, seconds in self.last.values():
            out[part] = out.get(part, 0.0) + seconds
        return {k: round(v, 1) for k, v in sorted(out.items())}


def run_round(workers: int, cases: int, seconds_per_year: float, seed: int) -> Round:
    result = Round(workers=workers)
    with tempfile.TemporaryDirectory(prefix="kosh-bench-") as tmp:
        state = Path(tmp) / "state"
        command = cohort_command(state, cases, seconds_per_year, seed)
        env = ENV
        out_path = Path(tmp) / "dev.out"
        with out_path.open("w") as out:
            dev = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.DEVNULL)
        extra: list[subprocess.Popen[bytes]] = []
        meter = CpuMeter()
        try:
            while True:
                if dev.poll() is not None:
                    raise SystemExit(f"kosh dev exited early ({dev.returncode})")
                try:
                    stack = json.loads((state / "stack.json").read_text())
                    if stack.get("agencies_url"):
                        break
                except (OSError, ValueError):
                    pass
                time.sleep(0.1)
            for _ in range(workers - 1):
                extra.append(
                    subprocess.Popen(
                        [str(KOSH), "worker"],
                        env={**env, "KOSH_STATE_DIR": str(state), "KOSH_LOG_LEVEL": "warning"},
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            roles = {dev.pid: "kosh dev (worker 1)"} | {p.pid: "kosh workers 2+" for p in extra}
            while dev.poll() is None:
                meter.sample(roles)
                meter.sample_postgres(state)
                time.sleep(0.5)
        finally:
            for proc in [*extra, dev]:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
                    try:
                        proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        proc.kill()
        summary = json.loads(out_path.read_text().strip().splitlines()[-1])
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
    shown = args_list[:]
    if "--write" in shown:  # the command as a reader would rerun it
        at = shown.index("--write")
        shown[at : at + 2] = ["--write", str(args.write)]
    text = report(rounds, shown)
    print(text)
    if args.write:
        write_section(args.write, MARK_BEGIN, MARK_END, text)


if __name__ == "__main__":
    main()
