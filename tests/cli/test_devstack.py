"""cli/devstack.py: the command it builds, and a real `kosh dev` (free ports, a tmp folder)
started, joined by a worker, its parts known, and stopped with nothing left running."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from cli.devstack import (
    KOSH,
    PORT_OPTIONS,
    POSTGRES,
    TEMPORAL,
    DevStack,
    DevStackError,
    cohort_options,
)
from cli.stack import STATE_FILE


def test_every_port_is_a_free_one_unless_the_options_name_it(tmp_path: Path) -> None:
    stack = DevStack(tmp_path / "state", options=["--no-worker", "--port", "7999"])
    command = stack.command
    assert command[:4] == [str(KOSH), "dev", "--state", str((tmp_path / "state").resolve())]
    assert command.count("--port") == 1 and command[command.index("--port") + 1] == "7999"
    for option in PORT_OPTIONS:
        assert int(command[command.index(option) + 1]) > 0
    assert stack.env["KOSH_TEMPORAL_ADDRESS"] == "" and stack.env["KOSH_DATABASE_URL"] == ""
    named = DevStack(tmp_path / "state", options=["--ui-port=8999"]).command
    assert "--ui-port" not in named and "--ui-port=8999" in named and "--port" in named


def test_a_cohort_runs_to_the_end_with_its_employers_only_when_asked() -> None:
    options = " ".join(cohort_options(4, seconds_per_year=2.0, seed=3))
    assert options == "--demo 4 --exit-when-done --seconds-per-year 2.0 --seed 3"
    assert cohort_options(4, seconds_per_year=2, seed=3, employers=0)[-2:] == ["--employers", "0"]


def test_nothing_is_known_before_it_starts(tmp_path: Path) -> None:
    stack = DevStack(tmp_path / "state")
    with pytest.raises(DevStackError):
        stack.pids()
    with pytest.raises(DevStackError):
        stack.running()
    stack.stop()  # nothing started: nothing to stop


def test_a_kosh_dev_that_exits_first_is_an_error_that_quotes_its_log(tmp_path: Path) -> None:
    errors = tmp_path / "dev.err"
    stack = DevStack(tmp_path / "state", options=["--no-such-option"], errors=errors)
    with stack, pytest.raises(DevStackError, match="exited \\(2\\) before it was up") as failed:
        stack.start(timeout=60)
    assert "--no-such-option" in str(failed.value) and str(errors) in str(failed.value)


@pytest.mark.e2e
def test_a_real_stack_starts_is_joined_and_leaves_nothing_behind(tmp_path: Path) -> None:
    state = tmp_path / "state"
    log = tmp_path / "dev.out"
    with DevStack(state, options=["--no-worker"], log=log, errors=log) as stack:
        info = stack.start(timeout=180)
        assert (state / STATE_FILE).exists()
        assert info.pid == stack.pid and info.agencies_url and info.console_url
        assert info.database_url and info.codec_keys_file
        port = stack.command[stack.command.index("--port") + 1]
        assert info.temporal_address == f"127.0.0.1:{port}"
        pids = stack.pids()
        assert set(pids) == {"kosh dev", TEMPORAL, POSTGRES}
        assert sorted(info.children) == sorted([pids[TEMPORAL], pids[POSTGRES]])
        worker = stack.add_worker({"KOSH_LOG_LEVEL": "warning"}, log=tmp_path / "worker.out")
        assert stack.workers == [worker] and worker.poll() is None
        with pytest.raises(DevStackError):
            stack.launch()  # one kosh dev per stack
    assert not stack.running() and worker.poll() is not None
    left = [pid for pid in [*pids.values(), worker.pid] if _alive(pid)]
    assert left == []
    named = [p.pid for p in psutil.process_iter(["cmdline"]) if str(state.resolve()) in _line(p)]
    assert named == []
    assert not (state / STATE_FILE).exists()  # kosh dev cleared it on the way out


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _line(p: psutil.Process) -> str:
    return " ".join(p.info["cmdline"] or [])
