"""When the business record refuses an append for a reason retrying cannot cure, the case
pauses (its workflow task fails, visibly) and is neither failed nor lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.client import WorkflowExecutionStatus

from domain import events as ev
from store.events import NewEvent, append_events, last_seq
from tests.workflows.harness import GOOD_INTERVIEW, INTERVIEWER, Rig, application, signed
from workflows import api


async def test_a_conflicting_record_pauses_the_case_instead_of_failing_it(
    broken_rig: Rig,
) -> None:
    h = await broken_rig.start(application())
    cid = h.id.removeprefix("case-")
    await broken_rig.notice("interview_due")
    # Someone writes into this case's record behind the workflow's back.
    async with broken_rig.pool.acquire() as conn:
        seq = await last_seq(conn, case_id=cid)
        stray = ev.DocumentsVerified(policy_id="2026.1", at=datetime(2026, 7, 2, tzinfo=UTC))
        await append_events(
            conn,
            case_id=cid,
            expected_seq=seq,
            events=[NewEvent(event_id=f"stray-{cid}", event=stray)],
        )
    # The interview is decided, and its append finds the record moved on.
    await h.signal(api.SIGNAL_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER))

    # (The failing workflow task is retried, and fails again, until the record is mended; a
    # failure may be reported only when the task's timeout, 10 s, runs out.)
    async with asyncio.timeout(30):
        while not (failures := await broken_rig.task_failures(h)):
            await asyncio.sleep(0.2)
    assert "ConcurrencyConflict" in failures[0]
    description = await h.describe()
    assert description.status == WorkflowExecutionStatus.RUNNING  # paused, not failed
