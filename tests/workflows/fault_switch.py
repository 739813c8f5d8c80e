"""The switch a test throws to make a worker die right after an append (tests/workflows/dying.py).
Passed through the sandbox, so the test and every attempt of a workflow task see one state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class Fault:
    """Die after the append of an event of type `target`, before the workflow task that made
    it completes, and stay down until Temporal hands the task out again at a later time (as
    after a SIGKILL: the task times out, and a new attempt starts); then note what the
    retried task's append adopted. Every attempt of the task before `down_for` has passed
    finds the worker still down."""

    target: str
    down_for: timedelta = timedelta(seconds=1)  # wall time (workflow time on the dev server)
    state: str = "armed"  # armed -> down -> recovered
    died_at: datetime | None = None  # the workflow time of the task that died
    retried_at: datetime | None = None
    adopted: tuple[str, ...] = ()


FAULTS: dict[str, Fault] = {}  # by workflow id
