"""The one lock that serialises a workflow's decisions, granted in an order that replay
reproduces (workflows/runtime.py holds one per case and per labour request).

A first-come lock is not enough for Temporal. Within one workflow activation the SDK runs the
input handlers before the coroutines woken by an activity's result, and the activations of a
first execution are not always grouped as the same history's are on replay: a worker without
the case in its cache (one restarted after a kill) took an activity's result and, one
activation later, a staff update; replaying the history the case recorded then gave both in
one activation, the update first. First come, the update's handler took the lock first on
replay, asked its local activity first, and the case no longer replayed (a local activity's
marker read back as another's: tests/workflows/test_decision_lock.py).

So the lock is never granted where it is asked for, but at the next point where every
coroutine the activation woke has run as far as it can (a wait condition, which the SDK checks
only then), and then to the asker of the highest standing: the workflow's own steps and
branches before staff and agency input, each in the order it asked. Whatever the grouping,
the step that an activity's result woke decides before input that came with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

from temporalio import workflow

STEP, INPUT = 0, 1  # standing: lower first


class DecisionLock:
    def __init__(self) -> None:
        self._holder: tuple[int, int] | None = None
        self._waiting: list[tuple[int, int]] = []
        self._asked = 0

    def locked(self) -> bool:
        return self._holder is not None

    async def acquire(self, standing: int = STEP) -> None:
        ticket = (standing, self._asked)
        self._asked += 1
        self._waiting.append(ticket)
        try:
            await workflow.wait_condition(lambda: self._turn(ticket))
        finally:
            self._waiting.remove(ticket)
        self._holder = ticket

    def _turn(self, ticket: tuple[int, int]) -> bool:
        # a ticket withdrawn (its asker cancelled, or the workflow torn down) never comes up
        return self._holder is None and ticket in self._waiting and min(self._waiting) == ticket

    def release(self) -> None:
        if self._holder is None:
            raise RuntimeError("the decision lock is not held")
        self._holder = None

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is GeneratorExit:
            return  # the run is torn down (evicted from the cache): nothing is held any more
        self.release()

    @asynccontextmanager
    async def for_input(self) -> AsyncIterator[None]:
        """Held by an input's handler: granted after every step that asked no later."""
        await self.acquire(INPUT)
        try:
            yield
        finally:
            self.release()
