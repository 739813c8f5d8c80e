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
branches before staff and agency input. Whatever the grouping, the step that an activity's
result woke decides before input that came with it.

Among the workflow's own branches the order of asking within one activation is not enough
either: a branch woken by a timer (a deadline's watch) asks some turns of the event loop later
than one woken by an activity's result in the same activation (the timer ends a
`wait_condition` with a timeout, which takes more steps to return), and that count of turns is
the SDK's, not the history's (the soak's `timer-and-results-in-one-task` history: the first
execution granted the lock to the watch, a replay to a check). So a ticket is ordered by what
the history fixes: its standing; the workflow task it was asked in (the history's length
then: first come, first served across tasks); within one task, the asker's branch (`as_branch`:
the main steps, then deadlines' watches, then the checks, each by its name); and only then the
order of asking (within one branch, or among inputs: signals, in history order).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TypeVar

from temporalio import workflow

T = TypeVar("T")
STEP, INPUT = 0, 1  # standing: lower first
MAIN, WATCH, CHECK = 0, 1, 2  # a branch's rank among the workflow's own: lower first
# The branch a coroutine runs as (its task's context): the main steps unless `as_branch` said.
_BRANCH: ContextVar[tuple[int, str]] = ContextVar("kosh_branch", default=(MAIN, ""))
Ticket = tuple[int, int, int, str, int]  # standing, task asked in, rank, name, order asked


async def as_branch(rank: int, name: str, work: Awaitable[T]) -> T:
    """Run `work` as the branch `name` of `rank` (WATCH, CHECK): its asks for the decision lock
    rank by these, not by when they were asked. Run it as its own task (asyncio.gather,
    create_task): the name is set in the task's own context."""
    _BRANCH.set((rank, name))
    return await work


class DecisionLock:
    def __init__(self) -> None:
        self._holder: Ticket | None = None
        self._waiting: list[Ticket] = []
        self._asked = 0

    def locked(self) -> bool:
        return self._holder is not None

    async def acquire(self, standing: int = STEP) -> None:
        rank, name = _BRANCH.get() if standing == STEP else (MAIN, "")
        task = workflow.info().get_current_history_length()
        ticket = (standing, task, rank, name, self._asked)
        self._asked += 1
        self._waiting.append(ticket)
        try:
            await workflow.wait_condition(lambda: self._turn(ticket))
        finally:
            self._waiting.remove(ticket)
        self._holder = ticket

    def _turn(self, ticket: Ticket) -> bool:
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
