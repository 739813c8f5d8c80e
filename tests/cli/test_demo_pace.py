"""`kosh dev --demo-open N`: the cohort's cases start as earlier ones close, never more than N
open at once (the soak's arrivals, tests/fault/soak.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from cli import dev
from cli.dev import DevOptions, start_cohort


class Cohort:
    """A fake world: cases close when the test says so; `open` never exceeds the limit."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.closed = 0
        self.most_open = 0

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Cohort]:
        yield self  # the pool and its connection at once

    async def fetch(self, query: str) -> list[dict[str, Any]]:
        assert "GROUP BY stage" in query  # store.queries.cases_by_stage
        return [{"stage": "closed", "n": self.closed}, {"stage": "scoring", "n": 99}]

    async def submit(self, client: Any, case: Any, **_: Any) -> None:
        self.started.append(case.case_id)
        self.most_open = max(self.most_open, len(self.started) - self.closed)

    async def start_case(self, case_id: str) -> None:
        assert case_id == self.started[-1]


class Case:
    def __init__(self, n: int) -> None:
        self.case_id = f"demo-{n}"


@pytest.mark.parametrize(("open_at_once", "expected_most"), [(3, 3), (0, 10)])
async def test_the_cohort_starts_as_cases_close(
    monkeypatch: pytest.MonkeyPatch, open_at_once: int, expected_most: int
) -> None:
    world = Cohort()
    monkeypatch.setattr(dev.demo, "submit", world.submit)
    opts = DevOptions(state=Path("."), demo=10, demo_open=open_at_once)
    cases = [Case(n) for n in range(10)]
    starting = asyncio.create_task(
        start_cohort(None, world, world, cases, opts)  # type: ignore[arg-type]
    )
    while not starting.done():
        await asyncio.sleep(0.6)  # a case closes now and then
        world.closed = min(world.closed + 1, len(world.started))
    await starting
    assert world.started == [c.case_id for c in cases]
    assert world.most_open == expected_most
