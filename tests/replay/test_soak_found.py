"""Histories the full-size soak found that do not replay on today's code, kept as they were
recorded (payloads decrypted, cut just past the failing task) so the failure is reproduced
here without a server, a soak or a kill (issue #25).

- `authority-overdue-after-a-timed-out-task` (soak of 2026-12-05 13:58, on 5d28fad): four
  authority checks' due-date timers fired around a workflow task that timed out on the loaded
  worker; the attempt that completed recorded a criminal-record reply, then citizenship
  consent overdue, then its staff notice; a replay schedules another append where the first
  execution notified staff (`Activity type of scheduled event 'append_events' does not
  match ... 'notify_staff'`). Not yet explained; the staff-floor wake (decision 023) was
  another case of a first execution deciding with a timed-out attempt's view.

Each is a known failure (strict): it must fail with its own nondeterminism and no other, and
the test turns red when a fix makes it replay, so the fix also moves it out of here. A
history recorded before a later change of the case workflow may fail otherwise: it is then
retired (tests/replay's stored histories are re-recorded; these cannot be)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from tests.workflows.harness import replayer
from workflows.allocation.round import AllocationRoundWorkflow
from workflows.case.workflow import ApplicantWorkflow

HERE = Path(__file__).parent / "soak_found"
KNOWN = {
    "authority-overdue-after-a-timed-out-task": (
        "Activity type of scheduled event 'append_events' does not match activity type of "
        "activity command 'notify_staff'"
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
