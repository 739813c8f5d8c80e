"""Faults across the whole stack, on the real dev server and PostgreSQL (docs/reliability.md).

Each test runs a demo cohort, breaks one part on purpose, and checks afterwards that every
case closed as its scenario leads to (what an undisturbed run with the same seed produces)
and that the workflows, the record and the agencies' ledger agree event by event and payment
key by payment key: nothing lost, nothing stored or paid twice.

`make test` runs a short version; `make fault` (KOSH_FAULT_SUITE=full) more cases and more
kills.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest

from tests.fault.stack import FaultyStack, invariants

pytestmark = [pytest.mark.e2e, pytest.mark.fault]
FULL = os.environ.get("KOSH_FAULT_SUITE") == "full"
CASES = 30 if FULL else 8
KILLS = 6 if FULL else 2
# wall seconds per case year: slow enough that a family ranked third in the demo's scarce
# region, and delayed by a kill, is still placed before the policy's last quota year (2031)
YEAR = 12.0 if FULL else 8.0
SEED = 21


def run_until_done(stack: FaultyStack, timeout: float = 600) -> dict[str, object]:
    summary = stack.wait_done(timeout)
    assert not invariants(summary, stack.cases, stack.seed), invariants(
        summary, stack.cases, stack.seed
    )
    return summary


def test_workers_killed_at_random_moments_lose_and_double_nothing(tmp_path: Path) -> None:
    stack = FaultyStack(tmp_path, cases=CASES, seed=SEED, seconds_per_year=YEAR, error_rate=0.1)
    try:
        stack.start()
        worker = stack.start_worker()
        for _ in range(KILLS):
            time.sleep(stack.rng.uniform(2.0, 7.0))
            if stack.done():
                break
            stack.kill_worker(worker)  # mid-task: no graceful shutdown
            worker = stack.start_worker()
        run_until_done(stack)
    finally:
        stack.stop()
    assert stack.faults.worker_kills >= 1


def test_the_temporal_server_restarted_mid_cohort_loses_nothing(tmp_path: Path) -> None:
    stack = FaultyStack(tmp_path, cases=CASES, seed=SEED, seconds_per_year=YEAR)
    try:
        stack.start()
        stack.start_worker()
        time.sleep(8)
        stack.restart_temporal(down_seconds=3)
        run_until_done(stack)
    finally:
        stack.stop()
    assert stack.faults.temporal_restarts == 1


def test_postgres_down_for_30_seconds_mid_cohort_loses_nothing(tmp_path: Path) -> None:
    stack = FaultyStack(tmp_path, cases=CASES, seed=SEED, seconds_per_year=YEAR)
    try:
        stack.start()
        stack.start_worker()
        time.sleep(8)
        saved = stack.stop_database()
        time.sleep(30)
        stack.start_database(saved)
        run_until_done(stack)
        failed = [p for p in stack.workers if p.poll() is not None]
        assert failed == [], "a worker died while the database was down"
    finally:
        stack.stop()
    assert stack.faults.database_outages == 1
    # the PostgreSQL started again by hand was stopped with the rest: nothing left running
    pgdata = str(stack.state / "pg")
    left = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if pgdata in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []
