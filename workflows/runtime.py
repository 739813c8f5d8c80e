"""What kosh's workflows ask of Temporal, written once for a case and for a labour request:
case time and waits on the case's calendar, calls to the agencies with timeouts and retries
that shrink with a compressed clock, the record and the staff registry asked from the worker
itself, the one lock that serialises every decision, and the rule changes a workflow follows.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

from workflows.decision_lock import DecisionLock

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.policies import PolicyActivities, VersionInput
    from activities.staff import StaffActivities
    from domain.clock import CaseClock, CaseTime
    from domain.policy import POLICIES, register
    from workflows.options import (
        ADAPTER_RETRY,
        ADAPTER_TIMEOUT,
        DEMO_TIMEOUT,
        NON_RETRYABLE,
        PAUSE_CASE_ON,
        STORE_RETRY,
        STORE_TIMEOUT,
    )


T = TypeVar("T")


class NoPolicyInForce(Exception):
    """No policy version was in force where and when a case or request applies."""


class RecordPausedError(RuntimeError):
    """The record refused an append for a reason retrying cannot cure (a conflict, a refused
    write). Not a FailureError: it fails the workflow task, so the case or request waits,
    intact and visible in the UI, until the code or the record is mended."""


def midnight(day: date) -> datetime:
    """The first instant of a case date (search attributes and timers are instants)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def refusal(exc: BaseException) -> ApplicationError | None:
    """The refusal in a failed call (an ordinary activity wraps it in an ActivityError, a
    local activity raises it as it is); None when retrying may cure the failure."""
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    if isinstance(cause, ApplicationError) and (cause.non_retryable or cause.type in NON_RETRYABLE):
        return cause
    return None


def upsert_changed(pairs: list[SearchAttributeUpdate[Any]]) -> None:
    """Upsert the pairs whose values differ from the run's own view of its search attributes
    (those it started with, a continued run's carried over, and its upserts since); nothing
    when none differs. Each upsert is a history event and a visibility write."""
    published = workflow.info().typed_search_attributes
    changed = [p for p in pairs if published.get(p.key) != p.value]
    if changed:
        workflow.upsert_search_attributes(changed)


class Runtime:
    """One workflow's dealings with Temporal. `decisions` counts what this run decided: a
    wait ends when it moves, so a staff input applied by a handler wakes the main loop."""

    def __init__(self, clock: CaseClock, *, human_floor_seconds: float = 0.0) -> None:
        self.clock = clock
        self.time = CaseTime(clock)
        self.human_floor_seconds = human_floor_seconds
        self.lock = DecisionLock()
        self.decisions = 0

    # ---- time ------------------------------------------------------------------------------
    def now(self) -> datetime:
        """Case time (the policy calendar; domain/clock.py: on the demo's clock it moves
        only while the workflow waits)."""
        return self.time.now(workflow.now())

    def carried_clock(self) -> CaseClock:
        """The clock a continued run starts from."""
        return self.time.carried(workflow.now())

    def today(self) -> date:
        return self.now().date()

    def wall_seconds(self, day: date | None, *, human: bool = False) -> float | None:
        """Wall seconds until the start of case date `day` (None: no date, wait for ever).
        On a compressed clock, a wait on a person never shrinks below the human floor."""
        if day is None:
            return None
        case_delta = midnight(day) - self.now() + timedelta(seconds=1)
        wall = self.clock.wall_delay(case_delta).total_seconds()
        if human and self.clock.speedup > 1:
            wall = max(wall, self.human_floor_seconds)
        return max(wall, 0.001)

    async def wait(self, until: date | None, *, label: str, human: bool = False) -> bool:
        """A step's wait (the step holds the lock, and lets it go meanwhile, so input is
        applied): until case date `until` or until something is decided; True for the latter.

        A wait on a person that wakes late by more than the human floor (no worker ran the
        case meanwhile: workers killed, a loaded machine) gives staff the floor again: they
        could not reach a case that nothing ran, and on a compressed clock that delay alone
        would otherwise decide the case."""
        seen = self.decisions
        while True:
            wall = self.wall_seconds(until, human=human)
            started = workflow.now()
            done = self.wait_for(lambda: self.decisions != seen, until, label=label, human=human)
            if await self.unlocked(done):
                return True
            if wall is None or not human or not await self.late_for_staff(started, wall):
                return False

    async def policy_version(self, region: Any) -> Any:
        """The version in force in `region` (None: the rest of the country's) on today's case
        date, asked of the record (docs/decisions/024) and registered when it is a published
        one, so it is known by id before anything reads it. NoPolicyInForce when none is."""
        try:
            policy = await self.ask_store(
                PolicyActivities.version_for,
                VersionInput(region=region, on=self.today()),
                summary=f"the policy in force{f' in {region}' if region else ''}",
            )
        except ActivityError as exc:
            found = refusal(exc)
            if found is not None and found.type == "NoPolicyInForce":
                raise NoPolicyInForce(found.message) from None
            raise
        if policy.id not in {p.id for p in POLICIES}:
            register(policy)
        return policy

    async def late_for_staff(self, started: datetime, wall: float) -> bool:
        """Whether a human wait begun at `started` for `wall` seconds woke later than the
        floor allows (on a compressed clock with a floor only). Asked of an activity
        (StaffActivities.woke_late), never read from `workflow.now()` here: the time a wake
        sees was not always the same in a first execution and a replay (docs/decisions/023)."""
        floor = self.human_floor_seconds
        if self.clock.speedup <= 1 or floor <= 0:
            return False
        woke = await self.call(
            StaffActivities.woke_late,
            m.WokeInput(started=started, seconds=wall + floor),
            summary="did staff have their floor?",
        )
        return bool(woke.late)

    async def unlocked(self, work: Awaitable[T]) -> T:
        """Run `work` without the lock the caller holds, so input is applied meanwhile."""
        self.lock.release()
        try:
            done = await work
        except GeneratorExit:
            raise  # the run is torn down (evicted from the cache): no lock, no clock to ask
        except BaseException:
            await self.lock.acquire()
            raise
        await self.lock.acquire()
        return done

    async def wait_for(
        self, done: Callable[[], bool], until: date | None, *, label: str, human: bool = False
    ) -> bool:
        """Until `done()` or case date `until`; True when `done()` came first (on the demo's
        clock case time then reaches `until` only on the timer: domain/clock.py)."""
        wall = self.wall_seconds(until, human=human)
        target = None if until is None else midnight(until) + timedelta(seconds=1)
        wait = self.time.begin(workflow.now(), target)
        timed_out = False
        try:
            await workflow.wait_condition(done, timeout=wall, timeout_summary=label)
        except TimeoutError:
            timed_out = True
        except asyncio.CancelledError:
            self.time.end(wait, workflow.now(), timed_out=False)
            raise
        # (a coroutine closed as the run is evicted from the cache ends nowhere: no clock then)
        self.time.end(wait, workflow.now(), timed_out=timed_out)
        return not timed_out

    # ---- calls -----------------------------------------------------------------------------
    def timeout(self, normal: timedelta) -> timedelta:
        """How long an attempt may take before Temporal retries it elsewhere (a worker that
        died mid-call is noticed only then). On a compressed demo clock every second is weeks
        of case time, so attempts are cut at DEMO_TIMEOUT (the demo's agencies answer in 2)."""
        return normal if self.clock.speedup <= 1 else min(normal, DEMO_TIMEOUT)

    def retry(self) -> RetryPolicy:
        """Temporal's backoff, on the case's clock: on a compressed demo clock a retry a second
        later would cost the case weeks, so the waits shrink with it (never below 50 ms)."""
        if self.clock.speedup <= 1:
            return ADAPTER_RETRY
        first = min(ADAPTER_RETRY.initial_interval, self.clock.wall_delay(timedelta(hours=6)))
        first = max(first, timedelta(milliseconds=50))
        return dataclasses.replace(
            ADAPTER_RETRY,
            initial_interval=first,
            maximum_interval=max(self.clock.wall_delay(timedelta(days=2)), first * 4),
        )

    async def call(self, method: Any, arg: Any, *, summary: str) -> Any:
        """An agency (or the staff notifier), retried by Temporal until it answers."""
        return await workflow.execute_activity_method(
            method,
            arg,
            start_to_close_timeout=self.timeout(ADAPTER_TIMEOUT),
            retry_policy=self.retry(),
            # A call to an agency is never abandoned mid-flight: when the case closes meanwhile,
            # the workflow waits for the call's outcome.
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=summary,
        )

    async def ask_store(self, method: Any, arg: Any, *, summary: str) -> Any:
        """kosh's PostgreSQL (the record, the staff registry): an ordinary activity, retried
        with backoff for as long as a cure may come (the database away). Not a local activity
        (docs/decisions/022): a local activity's marker moves workflow time to its completion,
        and a worker that runs a case's next task from its whole history (restarted, or
        without a cache) could hand that earlier time to the next task's first activation,
        where a replay gives the task's own: the two decided on different case times and the
        case no longer replayed. A refusal is raised: an ActivityError wrapping it."""
        return await workflow.execute_activity_method(
            method,
            arg,
            start_to_close_timeout=self.timeout(STORE_TIMEOUT),
            retry_policy=STORE_RETRY,
            summary=summary,
        )

    async def append(self, method: Any, request: Any, *, summary: str) -> Any:
        """Append to the record; a refusal that retrying cannot cure pauses the workflow
        (RecordPausedError); other refusals (no quota place left) are raised to the caller."""
        try:
            return await self.ask_store(method, request, summary=summary)
        except (ActivityError, ApplicationError) as exc:
            found = refusal(exc)
            if found is not None and found.type in PAUSE_CASE_ON:
                raise RecordPausedError(f"{found.type}: {found.message}") from None
            raise


class RuleChanges:
    """Rule changes under running workflows (docs/decisions/005): each `workflow.patched` id a
    workflow follows, asked once when it first starts and carried over on continue-as-new in
    `taken`; a continued run that lacks an id comes from before the change: False."""

    def __init__(self, ids: tuple[str, ...], taken: dict[str, bool], *, continued: bool) -> None:
        for change in ids:
            if change not in taken:
                taken[change] = not continued and workflow.patched(change)
        self.taken = taken

    def follows(self, change: str) -> bool:
        return self.taken.get(change, False)
