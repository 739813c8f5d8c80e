"""`kosh dev` and the release of the workflow code: a state folder remembers the release its
cases ran under, and a folder whose Temporal database came from another (or from before
releases were recorded) is refused, exit 2, before anything starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import cli.main
from cli.release import OtherReleaseError, check_release, record_release
from tests.cli.test_cli import flat
from workflows.api import RELEASE


@pytest.fixture(autouse=True)
def here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at 80 otherwise
    return tmp_path


def old_folder(here: Path, release: str | None) -> Path:
    """A state folder with a Temporal database, and `release` in its release file (None: no
    release file, as every folder made before this release)."""
    state = here / ".kosh"
    state.mkdir()
    (state / "temporal.db").write_bytes(b"SQLite format 3\x00")
    if release is not None:
        (state / "release").write_text(release + "\n")
    return state


def dev(state: Path, *args: str) -> Result:
    return CliRunner().invoke(cli.main.app, ["dev", "--state", str(state), *args])


def test_a_fresh_folder_starts_and_is_marked_with_this_release(here: Path) -> None:
    state = here / "fresh"
    check_release(state)  # no folder yet: nothing to refuse
    state.mkdir()
    check_release(state)
    record_release(state)
    assert (state / "release").read_text() == RELEASE + "\n"
    (state / "temporal.db").write_bytes(b"")  # the dev server's database, made by this release
    check_release(state)  # a folder of the same release starts as before


def test_a_release_file_without_a_temporal_database_is_no_reason_to_stop(here: Path) -> None:
    state = here / "half"
    state.mkdir()
    (state / "release").write_text("2026-11-rehearsal\n")  # an earlier start that never got far
    check_release(state)


@pytest.mark.parametrize(
    ("release", "found"),
    [
        (None, "before kosh dev recorded releases (no release file)"),
        ("2026-11-rehearsal", "under release '2026-11-rehearsal' of the workflow code"),
        ("", "before kosh dev recorded releases (no release file)"),
    ],
)
def test_a_folder_of_another_release_is_refused_before_anything_starts(
    here: Path, release: str | None, found: str
) -> None:
    state = old_folder(here, release)
    before = sorted(p.name for p in state.iterdir())
    result = dev(state)
    assert result.exit_code == 2, result.output
    said = flat(result.output)
    assert said.startswith("error: .kosh holds a Temporal database (temporal.db) whose cases ran")
    assert found in said
    assert f"this kosh is release '{RELEASE}', which cannot replay their histories" in said
    assert "nothing was started" in said
    assert "`kosh dev --state FOLDER`" in said and "(`mv .kosh .kosh.old`)" in said
    assert sorted(p.name for p in state.iterdir()) == before  # nothing written, nothing begun


def test_the_message_names_a_folder_outside_the_working_directory_in_full(
    here: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "state"
    elsewhere.mkdir()
    (elsewhere / "temporal.db").write_bytes(b"")
    with pytest.raises(OtherReleaseError) as refused:
        check_release(elsewhere)
    assert f"{elsewhere} holds a Temporal database" in str(refused.value)
    assert f"`mv {elsewhere} {elsewhere}.old`" in str(refused.value)


def test_kosh_dev_marks_the_folder_when_it_starts(here: Path) -> None:
    """The release is written before the stack starts: here a taken port stops it next."""
    state = here / "new"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = dev(state, "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 2 and "is already in use" in flat(result.output)
    assert (state / "release").read_text() == RELEASE + "\n"
