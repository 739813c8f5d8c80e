"""Input over kosh's size limit is refused by the client that would send it: nothing reaches
Temporal, no case sees it, the caller gets the size and the limit."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateStage
from temporalio.service import RPCError

from adapters.limits import MAX_INPUT_BYTES, PayloadTooLargeError
from tests.workflows.harness import (
    GOOD_INTERVIEW,
    INTERVIEWER,
    Rig,
    application,
    new_case_id,
    signed,
)
from worker import connect
from workflows import api


async def test_oversized_input_never_leaves_the_client(case_rig: Rig) -> None:
    client = await connect(case_rig.env.client.service_client.config.target_host)
    h = await case_rig.start(application())
    await case_rig.notice("interview_due")
    handle = client.get_workflow_handle(h.id)
    huge = GOOD_INTERVIEW | {"notes": "x" * (MAX_INPUT_BYTES + 1)}

    with pytest.raises(PayloadTooLargeError) as signal:
        await handle.signal(api.SIGNAL_INTERVIEW, huge)
    assert f"signal {api.SIGNAL_INTERVIEW}: the input is " in str(signal.value)
    assert f"at most {MAX_INPUT_BYTES:,} bytes per input (nothing was sent)" in str(signal.value)
    with pytest.raises(PayloadTooLargeError):
        await handle.start_update(
            api.UPDATE_INTERVIEW, huge, wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
    history = await h.fetch_history()
    signals = [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert api.SIGNAL_INTERVIEW not in signals
    assert (await case_rig.status(h)).refused == ()

    cid = new_case_id()
    big_start = api.CaseInput(
        case_id=cid, application=application(), snapshot={"padding": "y" * MAX_INPUT_BYTES}
    )
    with pytest.raises(PayloadTooLargeError, match=f"start {api.WORKFLOW_NAME}"):
        await client.start_workflow(
            api.WORKFLOW_NAME, big_start, id=api.case_workflow_id(cid), task_queue="nowhere"
        )
    with pytest.raises(RPCError):  # no such case was opened
        await client.get_workflow_handle(api.case_workflow_id(cid)).describe()

    # input of an ordinary size goes through the same client
    result = await handle.execute_update(
        api.UPDATE_INTERVIEW,
        signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER),
        result_type=api.UpdateResult,
    )
    assert result.accepted, result.reason
