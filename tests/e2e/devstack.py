"""`kosh dev` as a child process for end-to-end tests (cli/devstack.py): free ports, its own
state folder, started until its stack file says it is ready, and always stopped afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cli.devstack import DevStack


@contextmanager
def running_dev(
    state: Path, *args: str, ready: Callable[[Path, dict[str, Any]], bool] | None = None
) -> Iterator[dict[str, Any]]:
    """Run `kosh dev --state STATE ARGS` on free ports; yield its stack info once ready."""
    with DevStack(state, options=args, errors=state / "dev.err") as dev:
        up = None if ready is None else lambda info: ready(state, info.model_dump())
        yield dev.start(timeout=120, ready=up).model_dump()
