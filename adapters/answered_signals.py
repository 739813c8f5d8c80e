"""An input sent by signal whose sender waits for the answer (docs/decisions/023).

A kosh workflow answers every input that carries a request id, accepted or refused with its
rule, by the query `input_answer` (workflows/handlers.py). kosh's own senders that are
programs (an allocation round telling a family, the demo's staff) signal and then ask that
query until it answers, instead of sending a validated update: an update accepted in the same
workflow task as another event is replayed in another order by a worker that lost its cache
(temporalio/sdk-rust #943, #1146), and the case would no longer replay. A signal is an event
in the history like an activity's result, so a replay sees it where the first execution did.

The signal is safe to send again (a request id is applied once), so a sender that did not get
its answer in time sends it again and asks again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

# Temporal's answers that may pass when asked again; any other means the workflow cannot
# take the input (gone, never started, the payload refused by the server).
PASSING = (
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.ABORTED,
)
# Seconds before the first look, doubled up to EVERY. A query is a workflow task on the
# case's worker (a whole replay when the case is not in its cache, after a restart), so the
# sender asks seldom: the soak's staff and rounds asking every 50 ms to 1 s slowed a loaded
# worker's own tasks past their timeout.
FIRST_LOOK = 0.5
EVERY = 3.0


class Answer(BaseModel):
    """A workflow's answer to an input (the shape of workflows.api.UpdateResult)."""

    accepted: bool
    reason: str = ""
    rule: str = ""


class NotWaiting(Exception):
    """The workflow is gone, closed without answering, or cannot take the input."""


class NoAnswerYet(Exception):
    """The workflow is running and has not answered within the sender's patience."""


async def send_and_wait(
    client: Client,
    workflow_id: str,
    name: str,
    payload: dict[str, Any],
    *,
    query: str,
    patience: float,
    alive: Callable[[], None] = lambda: None,
    sent: bool = False,
) -> Answer:
    """Signal `name` with `payload` (which names its `request_id`) and wait up to `patience`
    seconds for the workflow's answer to it, asked by the query `query`. `alive` is called
    once the signal is in the workflow's history and at each look (an activity's heartbeat).
    `sent`: an earlier attempt's signal is in the history already (a signal the server took
    is never lost), so only the answer is awaited: a busy case is not sent the same input
    again and again. Raises NotWaiting, NoAnswerYet, or RPCError when Temporal is away or
    busy."""
    request_id = payload.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        raise ValueError("request_id: an answered signal names its request")
    if not sent:
        # sent before, and applied: nothing to send (a refusal is not the answer to this one:
        # the workflow forgets it when the input comes again)
        answer = await answer_of(client, workflow_id, query, request_id, closed_too=False)
        if answer is not None and answer.accepted:
            return answer
        try:
            await client.get_workflow_handle(workflow_id).signal(name, payload)
        except RPCError as exc:
            if exc.status in PASSING:
                raise
            raise NotWaiting(exc.message) from None
    alive()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    pause = FIRST_LOOK
    while True:
        await asyncio.sleep(min(pause, max(deadline - loop.time(), 0)))
        alive()
        last = loop.time() >= deadline
        answer = await answer_of(client, workflow_id, query, request_id, closed_too=last)
        if answer is not None:
            return answer
        if last:
            raise NoAnswerYet(f"{workflow_id} has not answered request {request_id} yet")
        pause = min(pause * 2, EVERY)


async def answer_of(
    client: Client, workflow_id: str, query: str, request_id: str, *, closed_too: bool = True
) -> Answer | None:
    """The workflow's answer to `request_id`, None while it has none; with `closed_too`,
    NotWaiting when it closed without one (its last run is asked, so an answer given before
    it closed counts)."""
    handle = client.get_workflow_handle(workflow_id)
    answer = await _asked(handle, query, request_id)
    if answer is not None or not closed_too:
        return answer
    described = await handle.describe()
    if described.status == WorkflowExecutionStatus.RUNNING:
        return None
    answer = await _asked(handle, query, request_id)  # answered, then closed, meanwhile?
    if answer is not None:
        return answer
    status = described.status.name.lower() if described.status else "closed"
    raise NotWaiting(f"{workflow_id} closed ({status}) without answering request {request_id}")


async def _asked(handle: Any, query: str, request_id: str) -> Answer | None:
    try:
        answer: Answer | None = await handle.query(query, request_id, result_type=Answer | None)
    except RPCError as exc:
        if exc.status in PASSING:
            raise
        raise NotWaiting(exc.message) from None
    return answer
