"""Histories the full-size soak of 2026-12-05 found that do not replay on today's code, kept
as they were recorded (payloads decrypted, cut just past the failing task) so the failure is
reproduced here without a server, a soak or a kill (issue #25).

- `update-accepted-after-a-command`: a worker, started after a kill, took a case's task with
  two allocation rounds' updates in it besides an activity's result; the first execution
  scheduled the staff notice first and accepted the updates after it, a replay accepts them
  first (temporalio/sdk-rust #943 and #1146 describe the same ordering).
- `timer-and-results-in-one-task`: the procedure-limit watch's timer fired in the task that
  also took two authority checks' results and four replies; the first execution granted the
  case's decision lock to the watch, a replay grants it to an authority branch (the watch's
  reach moves case time for every branch woken with it: tests/workflows/test_lock_order.py).

Each is a known failure (strict): it must fail with its own nondeterminism and no other, and
the test turns red when a fix makes it replay, so the fix also removes it from here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from tests.workflows.harness import replayer
from workflows.allocation.round import AllocationRoundWorkflow
from workflows.case.workflow import ApplicantWorkflow

HERE = Path(__file__).parent / "known_nondeterminism"
KNOWN = {
    "update-accepted-after-a-command": "Update machine does not handle this event",
    "timer-and-results-in-one-task": (
        "Activity type of scheduled event 'notify_staff' does not match activity type of "
        "activity command 'append_events'"
    ),
}


class StillNondeterministic(Exception):
    """The history fails to replay exactly as it did when it was kept."""


def test_every_kept_history_is_named() -> None:
    assert sorted(p.stem for p in HERE.glob("*.json")) == sorted(KNOWN)


@pytest.mark.xfail(strict=True, raises=StillNondeterministic, reason="issue #25: not yet fixed")
@pytest.mark.parametrize("name", sorted(KNOWN))
async def test_a_kept_history_replays(name: str) -> None:
    history = WorkflowHistory.from_json(name, json.loads((HERE / f"{name}.json").read_text()))
    found = await replayer(ApplicantWorkflow, AllocationRoundWorkflow).replay_workflow(
        history, raise_on_replay_failure=False
    )
    if found.replay_failure is None:
        return  # fixed: the strict mark turns this red, so the history is moved out of here
    if KNOWN[name] in str(found.replay_failure):
        raise StillNondeterministic(str(found.replay_failure))
    raise AssertionError(f"{name} fails otherwise now: {found.replay_failure}")
