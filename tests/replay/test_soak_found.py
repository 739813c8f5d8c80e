"""Histories the full-size soak found that did not replay, kept as they were recorded
(payloads decrypted, cut just past the task that failed) so the fault is reproduced here
without a server, a soak or a kill, and must stay fixed (issue #25).

- `timer-and-results-in-one-task` (soak of 2026-12-05): the procedure-limit watch's timer
  fired in the task that also took two authority checks' results and four replies, while
  another branch held the case's decision lock; the first execution granted the lock to the
  watch, a replay (before the fix) to an authority branch: a ticket's place followed the
  event loop's turns, which a timer's `wait_condition` takes more of. The lock now orders
  tickets by what the history fixes (workflows/decision_lock.py).

The soak's other finding, `update-accepted-after-a-command` (an allocation round's update
accepted in one order by the first execution and in another by a replay after a kill:
temporalio/sdk-rust #943, #1146), is gone with its cause: a round's word is a signal now
(docs/decisions/023), so that history, with its updates, no longer describes kosh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from tests.workflows.harness import replayer
from workflows.allocation.round import AllocationRoundWorkflow
from workflows.case.workflow import ApplicantWorkflow

HERE = Path(__file__).parent / "soak_found"
KEPT = ["timer-and-results-in-one-task"]


def test_every_kept_history_is_named() -> None:
    assert sorted(p.stem for p in HERE.glob("*.json")) == sorted(KEPT)


@pytest.mark.parametrize("name", KEPT)
async def test_a_kept_history_replays(name: str) -> None:
    history = WorkflowHistory.from_json(name, json.loads((HERE / f"{name}.json").read_text()))
    found = await replayer(ApplicantWorkflow, AllocationRoundWorkflow).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert found.replay_failure is None, f"{name}: {found.replay_failure}"
