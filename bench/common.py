"""What the benchmarks share: when and where a figure was measured, the command a reader
would rerun, and the rewriting of a measured section of a doc between its markers."""

from __future__ import annotations

import argparse
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

import psutil


def cohort_parser(doc: str, *, cases: int, seconds_per_year: float) -> argparse.ArgumentParser:
    """The options of a bench that runs a demo cohort (its size, clock and seed), described by
    the first paragraph of its docstring."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=cases)
    parser.add_argument("--seconds-per-year", type=float, default=seconds_per_year)
    parser.add_argument("--seed", type=int, default=7)
    return parser


def per_second(count: float, seconds: float) -> float:
    """A rate; none when no time passed."""
    return count / seconds if seconds else 0.0


def marks(section: str) -> tuple[str, str]:
    """The comments around a measured section of a doc."""
    return f"<!-- bench:{section}:begin -->", f"<!-- bench:{section}:end -->"


def as_rerun(argv: list[str], write: Path | None) -> list[str]:
    """The arguments as a reader would rerun them: the --write path as parsed."""
    shown = argv[:]
    if "--write" in shown:
        at = shown.index("--write")
        shown[at : at + 2] = ["--write", str(write)]
    return shown


def publish(text: str, write: Path | None, section: tuple[str, str]) -> None:
    """Print a report; with `write`, it replaces its section of that file."""
    print(text)
    if write:
        write_section(write, *section, text)


def write_section(path: Path, begin: str, end: str, text: str) -> None:
    """Replace the part of `path` from `begin` to `end` (markers included) with `text`."""
    doc = path.read_text()
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(doc):
        raise SystemExit(f"{path}: no {begin} ... {end} section")
    path.write_text(pattern.sub(lambda _: text, doc))


def when() -> str:
    """Now, as a measured section dates itself."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine() -> str:
    """This machine, as a measured section names it: platform, CPUs, memory."""
    memory = psutil.virtual_memory().total / 2**30
    return f"{platform.platform()}, {psutil.cpu_count()} CPUs, {memory:.0f} GiB"
