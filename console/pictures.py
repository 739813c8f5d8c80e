"""What the console shows of one workflow, and how staff input reaches it: an applicant's case
(the interview form) or an employer's labour request (an inspection's violation form), read
and written the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, get_args

import asyncpg
from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from console.forms import INTERVIEW, VIOLATION, StaffForm
from domain.labour import Violation
from store.errors import StoreError
from store.events import read_events
from store.labour import read_labour_events
from store.pool import Conn
from workflows import api
from workflows import employer_api as eapi

Flash = dict[str, Any]


@dataclass(frozen=True)
class Subject:
    """A kind of workflow a picture page shows."""

    template: str
    url: str  # the page, with {} for the id
    workflow_id: Callable[[str], str]
    query: str  # its status query, answered with a status_type
    status_type: type[Any]
    result_type: type[Any]  # what its updates answer
    history: Callable[[Conn, str], Awaitable[list[Any]]]
    missing: str  # the problem shown when there is no such workflow, with {} for the id
    refused: str  # the flash of a refused update, with {rule} and {message}
    form: StaffForm  # the staff input its page takes
    context: dict[str, Any] = field(default_factory=dict)  # what its template always gets


async def _case_events(conn: Conn, case_id: str) -> list[Any]:
    return list(await read_events(conn, case_id=case_id))


async def _labour_events(conn: Conn, request_id: str) -> list[Any]:
    return list(await read_labour_events(conn, request_id=request_id))


CASE = Subject(
    template="case.html",
    url="/cases/{}",
    workflow_id=api.case_workflow_id,
    query=api.QUERY_STATUS,
    status_type=api.CaseStatus,
    result_type=api.UpdateResult,
    history=_case_events,
    missing="No case {}.",
    refused="Refused ({rule}): {message}",
    form=INTERVIEW,
)
LABOUR = Subject(
    template="labour.html",
    url="/labour/{}",
    workflow_id=eapi.request_workflow_id,
    query=eapi.QUERY_STATUS,
    status_type=eapi.LabourStatus,
    result_type=eapi.LabourUpdateResult,
    history=_labour_events,
    missing="No labour request {}.",
    refused="Refused: {message}",
    form=VIOLATION,
    context={"violations": get_args(Violation)},
)


async def picture(
    client: Client, pool: asyncpg.Pool, subject: Subject, subject_id: str
) -> tuple[Any | None, list[Any], str | None]:
    """The workflow's status (its own account), its history from the record, and what kept
    either from being shown."""
    handle = client.get_workflow_handle(subject.workflow_id(subject_id))
    try:
        status = await handle.query(subject.query, result_type=subject.status_type)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None, [], subject.missing.format(subject_id)
        return None, [], f"Temporal did not answer ({exc.message})."
    try:
        async with pool.acquire() as conn:
            history = await subject.history(conn, subject_id)
    except StoreError as exc:
        return status, [], f"The business record is unavailable ({exc})."
    return status, history, None


async def send(client: Client, subject: Subject, subject_id: str, payload: BaseModel) -> Flash:
    """Send staff input as a validated update; the flash that says what became of it."""
    handle = client.get_workflow_handle(subject.workflow_id(subject_id))
    try:
        result = await handle.execute_update(
            subject.form.update, payload.model_dump(mode="json"), result_type=subject.result_type
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        rule = cause.type if isinstance(cause, ApplicationError) else "refused"
        message = cause.message if isinstance(cause, ApplicationError) else str(exc)
        return {"ok": False, "text": subject.refused.format(rule=rule, message=message)}
    except RPCError as exc:
        return {"ok": False, "text": f"Not sent: {exc.message}"}
    text = subject.form.done if result.accepted else f"Refused: {result.reason}"
    return {"ok": result.accepted, "text": text}
