"""Scale-out on the real dev server and PostgreSQL: two worker processes poll one task queue
and share a demo cohort; one is killed (SIGKILL, mid-task). Temporal hands its workflow
tasks and timed-out activities to the survivor: every case closes as its scenario leads to,
and the three books (workflows, record, agencies) agree."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.fault.stack import FaultyStack, invariants

pytestmark = pytest.mark.e2e
N = 10
SEED = 5


def test_two_workers_share_the_cohort_and_one_killed_loses_no_case(tmp_path: Path) -> None:
    stack = FaultyStack(tmp_path, cases=N, seed=SEED, seconds_per_year=6)
    try:
        stack.start()  # `kosh dev --no-worker`: the cases wait for workers to join
        first, second = stack.start_worker(), stack.start_worker()
        deadline = time.monotonic() + 120
        while min(stack.appended(first), stack.appended(second)) < 5:
            assert time.monotonic() < deadline, "the two workers did not both take work"
            assert first.poll() is None and second.poll() is None
            time.sleep(0.2)
        stack.kill_worker(second)  # no graceful shutdown: its tasks die mid-flight
        summary = stack.wait_done(420)
    finally:
        stack.stop()
    assert invariants(summary, N, SEED) == []
    assert stack.appended(first) >= 5 and stack.appended(second) >= 5  # both took a share
