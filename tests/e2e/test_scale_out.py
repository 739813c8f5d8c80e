"""Scale-out on the real dev server and PostgreSQL: a second worker process joins `kosh dev`
on the same task queue, takes a share of a cohort's work, and is killed (SIGKILL, mid-task)
halfway. Temporal hands its workflow tasks and timed-out activities to the surviving worker:
every case closes, and the three books (workflows, record, agencies) still agree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.devstack import KOSH, PORT_OPTIONS
from tests.e2e.test_dev_demo import free_port

pytestmark = pytest.mark.e2e
N = 12


def wait_for(what: str, check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def worked(log: Path) -> int:
    """Events the second worker appended (its JSON log lines)."""
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if '"event": "events_appended"' in line)


def test_a_second_worker_shares_the_cohort_and_its_death_loses_no_case(tmp_path: Path) -> None:
    state = tmp_path / "state"
    dev_out, dev_err, worker_log = (tmp_path / n for n in ("dev.out", "dev.err", "worker.log"))
    command = [str(KOSH), "dev", "--state", str(state), "--demo", str(N), "--exit-when-done"]
    command += ["--seconds-per-year", "8", "--seed", "5"]
    for option in PORT_OPTIONS:
        command += [option, str(free_port())]
    env = {**os.environ, "KOSH_TEMPORAL_ADDRESS": "", "KOSH_DATABASE_URL": ""}
    with dev_out.open("w") as out, dev_err.open("w") as err:
        dev = subprocess.Popen(command, env=env, stdout=out, stderr=err)
    second: subprocess.Popen[bytes] | None = None
    try:

        def stack_ready() -> bool:
            assert dev.poll() is None, dev_err.read_text()[-2000:]
            try:
                return bool(json.loads((state / "stack.json").read_text()).get("agencies_url"))
            except (OSError, ValueError):
                return False

        wait_for("kosh dev", stack_ready, 120)
        with worker_log.open("w") as log:
            second = subprocess.Popen(
                [str(KOSH), "worker"],
                env={**env, "KOSH_STATE_DIR": str(state), "KOSH_LOG_JSON": "true"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for("the second worker to take work", lambda: worked(worker_log) >= 25, 120)
        assert second.poll() is None, worker_log.read_text()[-2000:]
        second.send_signal(signal.SIGKILL)  # no graceful shutdown: tasks die mid-flight
        second.wait(timeout=10)
        shared = worked(worker_log)

        dev.wait(timeout=420)
    finally:
        for proc in (second, dev):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)

    assert dev.returncode == 0, dev_err.read_text()[-3000:]
    summary = json.loads(dev_out.read_text().strip().splitlines()[-1])
    assert summary["cases"] == N
    assert sum(summary["closed_by_reason"].values()) == N, summary["closed_by_reason"]
    books = summary["reconciliation"]
    assert books["ok"], books
    assert books["events"]["cases_differing"] == []
    assert shared >= 25 and summary["events"] > shared  # both workers did part of the work
