"""When the business record refuses an append for a reason retrying cannot cure, the case
pauses (its workflow task fails, visibly) and is neither failed nor lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.client import WorkflowExecutionStatus

from domain import events as ev
from store.events import NewEvent, append_events
from tests.workflows.harness import Rig, application, new_case_id


async def test_a_conflicting_record_pauses_the_case_instead_of_failing_it(
    broken_rig: Rig,
) -> None:
    cid = new_case_id()
    # Someone wrote into this case's record behind the workflow's back.
    stray = ev.DocumentsVerified(policy_id="2026.2", at=datetime(2026, 7, 2, tzinfo=UTC))
    async with broken_rig.pool.acquire() as conn:
        await append_events(
            conn,
            case_id=cid,
            expected_seq=0,
            events=[NewEvent(event_id=f"stray-{cid}", event=stray)],
        )
    h = await broken_rig.start(application(), case_id=cid)

    async with asyncio.timeout(10):
        while not (failures := await broken_rig.task_failures(h)):
            await asyncio.sleep(0.05)
    assert "ConcurrencyConflict" in failures[0]
    description = await h.describe()
    assert description.status == WorkflowExecutionStatus.RUNNING  # paused, not failed
