"""The harness's own guards: its failure message names what a test's workflows still have in
flight; a test that holds the test server's clock fails alone (the next test gets a fresh
server)."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import ActivityType
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    ActivityTaskCompletedEventAttributes,
    ActivityTaskScheduledEventAttributes,
    HistoryEvent,
)
from temporalio.api.testservice.v1 import LockTimeSkippingRequest
from temporalio.client import WorkflowHistory

from tests import servers
from tests.conftest import ModuleServer
from tests.workflows.harness import Rig, application, clock_still_skips, in_flight, open_calls


async def test_the_clock_check_names_each_workflow_and_what_it_has_in_flight(
    case_rig: Rig,
) -> None:
    h = await case_rig.start(application(forged=True))  # rejected at the document check
    await case_rig.finish(h)
    assert await in_flight(case_rig.env, h) == (
        f"{h.id}: COMPLETED, no task, activities pending: none, scheduled and never closed: "
        "none, 1 run(s), last event EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
    )


def test_an_activity_a_run_never_closed_is_named() -> None:
    """A run that ended with an activity outstanding (what holds the test server's clock)."""

    def scheduled(event_id: int, name: str) -> HistoryEvent:
        return HistoryEvent(
            event_id=event_id,
            event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            activity_task_scheduled_event_attributes=ActivityTaskScheduledEventAttributes(
                activity_type=ActivityType(name=name)
            ),
        )

    completed = HistoryEvent(
        event_id=4,
        event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        activity_task_completed_event_attributes=ActivityTaskCompletedEventAttributes(
            scheduled_event_id=2
        ),
    )
    events = [scheduled(2, "append_events"), scheduled(3, "disburse_support"), completed]
    assert open_calls(WorkflowHistory("case-x", events)) == ["disburse_support"]


async def test_a_held_clock_fails_its_test_and_the_next_test_gets_a_fresh_server(
    time_server: ModuleServer,
) -> None:
    env = await time_server.current()
    await env.client.test_service.lock_time_skipping(LockTimeSkippingRequest())  # a leak

    with pytest.raises(AssertionError, match="no longer skips"):
        await clock_still_skips(env, [])
    assert servers.is_held(env)

    fresh = await time_server.current()
    assert fresh is not env and not servers.is_held(fresh)
    await clock_still_skips(fresh, [])
