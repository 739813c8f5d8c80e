"""What the benchmarks share: a `kosh dev` cohort command on free ports, and the rewriting
of a measured section of a doc between its markers."""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path

KOSH = Path(sys.executable).parent / "kosh"
# Never borrow a deployment's Temporal or database from the environment.
ENV = {**os.environ, "KOSH_TEMPORAL_ADDRESS": "", "KOSH_DATABASE_URL": ""}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cohort_command(
    state: Path, cases: int, seconds_per_year: float, seed: int, *, employers: int = 0
) -> list[str]:
    """`kosh dev` running a demo cohort to the end, on free ports, in `state` (with
    `employers` employers' requests beside the applicants: none unless asked)."""
    command = [str(KOSH), "dev", "--state", str(state), "--demo", str(cases)]
    command += ["--employers", str(employers)]
    command += ["--exit-when-done", "--seconds-per-year", str(seconds_per_year)]
    command += ["--seed", str(seed)]
    for option in ("--port", "--ui-port", "--console-port", "--codec-port"):
        command += [option, str(free_port())]
    return command


def write_section(path: Path, begin: str, end: str, text: str) -> None:
    """Replace the part of `path` from `begin` to `end` (markers included) with `text`."""
    doc = path.read_text()
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(doc):
        raise SystemExit(f"{path}: no {begin} ... {end} section")
    path.write_text(pattern.sub(lambda _: text, doc))
