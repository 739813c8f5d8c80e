"""find_stack: the environment wins, then a live `kosh dev` state file, then localhost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.stack import STATE_FILE, StackInfo, clear_stack, find_stack, state_dir, write_stack

DEV = StackInfo(
    temporal_address="127.0.0.1:17233",
    namespace="kosh-dev",
    ui_url="http://127.0.0.1:18233",
    database_url="postgresql://dev@127.0.0.1:15432/kosh",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("KOSH_TEMPORAL_ADDRESS", "KOSH_DATABASE_URL", "KOSH_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KOSH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def written(folder: Path, pid: int | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_stack(folder, DEV.model_copy(update={"pid": pid}))
    return folder


def test_state_dir_is_explicit_then_env_then_dot_kosh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert state_dir(tmp_path / "x") == (tmp_path / "x").resolve()
    assert state_dir() == (tmp_path / "state").resolve()
    monkeypatch.delenv("KOSH_STATE_DIR")
    assert state_dir() == (tmp_path / ".kosh").resolve()


def test_nothing_running_and_no_env_means_localhost(tmp_path: Path) -> None:
    assert find_stack(tmp_path / "empty") == StackInfo(temporal_address="localhost:7233")


def test_a_live_dev_stack_is_used(tmp_path: Path) -> None:
    folder = written(tmp_path / "live", os.getpid())
    assert find_stack(folder) == DEV.model_copy(update={"pid": os.getpid()})


def test_the_state_dir_comes_from_kosh_state_dir_by_default(tmp_path: Path) -> None:
    written(tmp_path / "state", os.getpid())
    assert find_stack().temporal_address == DEV.temporal_address


@pytest.mark.parametrize("pid", [None, "dead"])
def test_a_state_file_without_a_live_pid_is_ignored(tmp_path: Path, pid: str | None) -> None:
    folder = written(tmp_path / "stale", dead_pid() if pid == "dead" else None)
    found = find_stack(folder)
    assert found == StackInfo(temporal_address="localhost:7233")
    assert found.database_url is None  # a dead stack's database is not borrowed either


def test_env_address_wins_over_a_live_dev_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = written(tmp_path / "live", os.getpid())
    monkeypatch.setenv("KOSH_TEMPORAL_ADDRESS", "temporal.prod:7233")
    monkeypatch.setenv("KOSH_NAMESPACE", "kosh-prod")
    found = find_stack(folder)
    assert (found.temporal_address, found.namespace) == ("temporal.prod:7233", "kosh-prod")
    # Another deployment's address: the local dev stack's database is never borrowed.
    assert found.database_url is None


def test_env_database_wins_over_a_live_dev_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = written(tmp_path / "live", os.getpid())
    monkeypatch.setenv("KOSH_DATABASE_URL", "postgresql://prod/kosh")
    found = find_stack(folder)
    assert found.database_url == "postgresql://prod/kosh"
    assert found.temporal_address == DEV.temporal_address


def test_env_vars_alone_without_any_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOSH_TEMPORAL_ADDRESS", "10.0.0.5:7233")
    monkeypatch.setenv("KOSH_DATABASE_URL", "postgresql://db/kosh")
    found = find_stack(tmp_path / "empty")
    assert (found.temporal_address, found.database_url) == ("10.0.0.5:7233", "postgresql://db/kosh")


def test_clear_stack_removes_the_file_and_tolerates_its_absence(tmp_path: Path) -> None:
    folder = written(tmp_path / "live", os.getpid())
    clear_stack(folder)
    clear_stack(folder)
    assert not (folder / STATE_FILE).exists()
    assert find_stack(folder).temporal_address == "localhost:7233"


def test_a_corrupt_state_file_does_not_hide_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "corrupt"
    folder.mkdir()
    (folder / STATE_FILE).write_text('{"temporal_address": "127.0.0.1:1')
    monkeypatch.setenv("KOSH_TEMPORAL_ADDRESS", "10.0.0.5:7233")
    assert find_stack(folder).temporal_address == "10.0.0.5:7233"
