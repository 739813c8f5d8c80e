"""A demo cohort on the real stack, with parts to break: `kosh dev --no-worker` keeps Temporal,
PostgreSQL, the simulated agencies and the simulated staff; the workers are `kosh worker`
processes this harness starts, kills (SIGKILL) and restarts. It can also stop the Temporal
dev server or PostgreSQL and bring them back on the same files.

At the end it reads `kosh dev`'s summary (cases closed by reason, events, the three books'
reconciliation) and compares the outcomes with what the cohort's scenarios lead to, which
is what an undisturbed run with the same seed produces (tests/e2e/test_dev_demo.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shlex
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from cli import demo
from cli.devstack import TEMPORAL, DevStack, DevStackError, cohort_options


def expected_outcomes(cases: int, seed: int) -> Counter[str]:
    return Counter(c.scenario.expected for c in demo.cohort(cases, seed=seed))


@dataclass
class Faults:
    """What was done to the run, for the report."""

    worker_kills: int = 0
    temporal_restarts: int = 0
    database_outages: int = 0
    notes: list[str] = field(default_factory=list)


class FaultyStack:
    def __init__(
        self,
        folder: Path,
        *,
        cases: int,
        seed: int,
        seconds_per_year: float,
        error_rate: float = 0.0,
        open_cases: int = 0,
    ) -> None:
        self.folder = folder
        self.state = folder / "state"
        self.cases, self.seed = cases, seed
        options = cohort_options(cases, seconds_per_year=seconds_per_year, seed=seed)
        options += ["--no-worker", "--sim-error-rate", str(error_rate)]
        if open_cases:  # applications arriving as earlier cases close (tests/fault/soak.py)
            options += ["--demo-open", str(open_cases)]
        # a compressed year is seconds long: staff get 20 wall seconds to answer, more than
        # any outage here lasts, so a deadline never lapses only because the clock is fast
        options += ["--human-floor-seconds", "20"]
        self.dev = DevStack(
            self.state,
            options=options,
            log=folder / "dev.out",
            errors=folder / "dev.err",
            stop_timeout=90,
        )
        self.faults = Faults()
        self.rng = random.Random(seed)
        self.logs: dict[int, Path] = {}
        self.restarted_temporal: subprocess.Popen[bytes] | None = None

    # ---- the stack ------------------------------------------------------------------------
    def start(self) -> None:
        self.dev.start(timeout=120)

    def done(self) -> bool:
        return not self.dev.running()

    # ---- workers ----------------------------------------------------------------------------
    @property
    def workers(self) -> list[subprocess.Popen[bytes]]:
        return self.dev.workers

    def start_worker(self) -> subprocess.Popen[bytes]:
        path = self.folder / f"worker-{len(self.workers) + 1}.log"
        proc = self.dev.add_worker({"KOSH_LOG_JSON": "true"}, log=path, stop_timeout=30)
        self.logs[proc.pid] = path
        return proc

    def appended(self, proc: subprocess.Popen[bytes]) -> int:
        """Appends the worker made (its JSON log lines): the share of the work it took."""
        text = self.logs[proc.pid].read_text() if self.logs[proc.pid].exists() else ""
        return text.count('"event": "events_appended"')

    def kill_worker(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            self.faults.worker_kills += 1

    def live_workers(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.workers if p.poll() is None]

    # ---- Temporal -------------------------------------------------------------------------
    def restart_temporal(self, down_seconds: float = 3.0) -> None:
        """Stop the dev server (Ctrl-C; killed if it has not stopped in 10 s), then start it
        again with the same command line: the same SQLite file, the same port."""
        proc = psutil.Process(self.dev.pids()[TEMPORAL])
        command, cwd = proc.cmdline(), proc.cwd()
        proc.send_signal(signal.SIGINT)
        if not _gone(proc, 10):
            proc.kill()
            assert _gone(proc, 10), "the dev server survived SIGKILL"
            self.faults.notes.append("the dev server ignored SIGINT for 10 s: killed")
        time.sleep(down_seconds)
        log = (self.folder / "temporal-restarted.log").open("w")
        self.restarted_temporal = subprocess.Popen(
            command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.faults.temporal_restarts += 1

    # ---- PostgreSQL -------------------------------------------------------------------------
    def stop_database(self) -> tuple[list[str], str, Path]:
        """Stop kosh's PostgreSQL (fast shutdown: connections are cut, new ones refused)."""
        pgdata = self.state / "pg"
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        postmaster = psutil.Process(pid)
        saved = (postmaster.cmdline(), postmaster.username(), Path(postmaster.exe()).parent)
        postmaster.send_signal(signal.SIGINT)
        postmaster.wait(timeout=60)
        return saved

    def start_database(self, saved: tuple[list[str], str, Path]) -> None:
        command, user, bindir = saved
        pgdata = self.state / "pg"
        options = command[1:]
        at = options.index("-D")
        del options[at : at + 2]
        pg_ctl = [str(bindir / "pg_ctl"), "-w", "-D", str(pgdata)]
        subprocess.run(
            [*pg_ctl, "-l", str(pgdata / "restart.log"), "-o", shlex.join(options), "start"],
            check=True,
            capture_output=True,
            user=user if os.geteuid() == 0 else None,
            timeout=60,
        )
        self.faults.database_outages += 1

    # ---- the end ----------------------------------------------------------------------------
    def wait_done(self, timeout: float) -> dict[str, Any]:
        """kosh dev's summary once it has exited: also when it exits 1 because the books
        disagree (the report says how; the invariants fail on it)."""
        try:
            self.dev.wait(timeout)
        except DevStackError:
            with contextlib.suppress(DevStackError):
                return self.dev.summary()
            raise
        return self.dev.summary()

    def stop(self) -> None:
        self.dev.stop()
        restarted = self.restarted_temporal
        if restarted is not None and restarted.poll() is None:
            restarted.terminate()
            restarted.wait(timeout=30)


def _gone(proc: psutil.Process, timeout: float) -> bool:
    """Exited (a zombie counts: its parent, `kosh dev`, reaps it, not us)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def invariants(summary: dict[str, Any], cases: int, seed: int) -> list[str]:
    """What must hold after any fault: every case closed as its scenario leads to, the three
    books in agreement (same events, same tenge, payment key by payment key, same places)."""
    problems = []
    closed = Counter(summary["closed_by_reason"])
    if sum(closed.values()) != cases:
        problems.append(f"{sum(closed.values())} of {cases} cases closed")
    if closed != expected_outcomes(cases, seed):
        problems.append(f"outcomes {dict(closed)} != {dict(expected_outcomes(cases, seed))}")
    books = summary["reconciliation"]
    if not books["ok"]:
        problems.append(f"books disagree: {json.dumps(books)}")
    return problems
