"""A `kosh dev` state folder remembers the release of the workflow code its cases ran under
(`<state>/release`). Histories from another release cannot replay under this one, so `kosh dev`
refuses a folder whose Temporal database came from another, before it starts anything."""

from __future__ import annotations

import shlex
from pathlib import Path

from rich.markup import escape

from cli.devserver import DB_FILE
from workflows.api import RELEASE

RELEASE_FILE = "release"


class OtherReleaseError(RuntimeError):
    """The state folder's cases ran under another release of the workflow code."""


def check_release(state: Path) -> None:
    """Raise OtherReleaseError if `state` holds a Temporal database whose release file is
    missing or names another release; a folder without one may start."""
    if not (state / DB_FILE).exists():
        return
    try:
        found = (state / RELEASE_FILE).read_text().strip()
    except FileNotFoundError:
        found = None
    if found == RELEASE:
        return
    made = (
        f"under release {found!r} of the workflow code"
        if found
        else f"before kosh dev recorded releases (no {RELEASE_FILE} file)"
    )
    folder = _shown(state)
    raise OtherReleaseError(
        escape(
            f"{folder} holds a Temporal database ({DB_FILE}) whose cases ran {made}; this kosh "
            f"is release {RELEASE!r}, which cannot replay their histories, so nothing was "
            f"started. Start fresh with another state folder (`kosh dev --state FOLDER`), or "
            f"move this one away and run `kosh dev` again "
            f"(`mv {shlex.quote(folder)} {shlex.quote(folder + '.old')}`)."
        )
    )


def record_release(state: Path) -> None:
    """Mark `state` as this release's (its cases run under this workflow code from now on)."""
    (state / RELEASE_FILE).write_text(RELEASE + "\n")


def _shown(state: Path) -> str:
    """The folder as a person would type it here: relative when it lies below the working
    directory."""
    here = Path.cwd()
    if state != here and state.is_relative_to(here):
        return str(state.relative_to(here))
    return str(state)
