"""The time-skipping test servers the tests share, and which of them a test left with its
clock held (temporalio/sdk-java#1138: a workflow that ends with a task or an activity
outstanding can hold the test server's clock for good). A test that leaves the clock held
fails on its own (tests/workflows/harness.py `clock_still_skips`) and marks its server; the
next test gets a fresh one, so one stall fails one test, never every test after it."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

_held: set[int] = set()


def mark_held(env: WorkflowEnvironment) -> None:
    _held.add(id(env))


def is_held(env: WorkflowEnvironment) -> bool:
    return id(env) in _held


def forget(env: WorkflowEnvironment) -> None:
    _held.discard(id(env))
