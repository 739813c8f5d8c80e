"""What a command says to one workflow (an applicant's case, an employer's labour request):
start it, ask its status, send it an update; and what a person reads when that fails."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

import worker
from adapters.limits import PayloadTooLargeError
from cli.common import _emit, _validation_lines, fail
from cli.connect import CONNECT_SECONDS, temporal
from cli.proof import proved
from cli.stack import find_stack
from store.errors import StoreError
from store.events import last_seq
from store.records import labour_stream
from workflows import api
from workflows import employer_api as eapi

T = TypeVar("T")
Result = TypeVar("Result", api.UpdateResult, eapi.LabourUpdateResult)


@dataclass(frozen=True)
class Target:
    """A workflow a command addresses, and how its messages name it."""

    workflow_id: str
    name: str  # "case c-1"
    closed: str  # why nothing was sent to it once it has closed
    stream: str  # its events' stream in the business record


def case(case_id: str) -> Target:
    return Target(
        api.case_workflow_id(case_id),
        f"case {case_id}",
        f"case {case_id} is closed and takes no more input; nothing was sent "
        f"(`kosh status {case_id}` says how it closed)",
        case_id,
    )


def labour_request(request_id: str) -> Target:
    return Target(
        eapi.request_workflow_id(request_id),
        f"labour request {request_id}",
        f"labour request {request_id} is closed; nothing was sent",
        labour_stream(request_id),
    )


async def start(
    client: Client,
    target: Target,
    workflow: str,
    arg: Any,
    *,
    state: Path | None,
    source: Path | str,
    id_option: str,
    **options: Any,
) -> None:
    """Start `target`; exit 2 if its input is too large or its id was ever used: by any run
    in Temporal, open or closed, or by events in the business record (when it is reachable).
    A new run under a used id would start from seq 0 on a stream that already has events, and
    stall on its first append. The start itself refuses a duplicate, so a race is refused too."""
    used = await _used_by(client, target, find_stack(state).database_url)
    if used:
        _taken(target, id_option, used)
    try:
        await client.start_workflow(
            workflow,
            arg,
            id=target.workflow_id,
            task_queue=api.TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            **options,
        )
    except PayloadTooLargeError as exc:
        fail(f"{source}: {exc}", 2)
    except WorkflowAlreadyStartedError:
        _taken(target, id_option, "in Temporal")


def _taken(target: Target, id_option: str, where: str) -> NoReturn:
    fail(
        f"{target.name} already exists ({where}) and an id is never reused: give another "
        f"{id_option} (nothing was started)",
        2,
    )


async def _used_by(client: Client, target: Target, database_url: str | None) -> str:
    """What already uses `target`'s id ("" if nothing does): a run in Temporal, or events in
    the business record."""
    try:
        found = await client.get_workflow_handle(target.workflow_id).describe()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            fail(f"{target.name}: {exc.message}", 1)
    else:
        return f"in Temporal, {(found.status.name if found.status else 'unknown').lower()}"
    if database_url and await _recorded(database_url, target.stream):
        return "in the business record"
    return ""


async def _recorded(database_url: str, stream: str) -> bool:
    """Whether the business record holds events of `stream` (False when it cannot be read)."""
    try:
        async with (
            worker.database(database_url, max_size=1, connect_timeout=CONNECT_SECONDS) as pool,
            pool.acquire() as conn,
        ):
            return await last_seq(conn, case_id=stream) > 0
    except (StoreError, TimeoutError, OSError):
        return False


def query(state: Path | None, target: Target, name: str, result_type: type[T]) -> T:
    """Ask `target` a query; exit 1 naming it if Temporal cannot answer."""

    async def ask() -> T:
        handle = (await temporal(state)).get_workflow_handle(target.workflow_id)
        try:
            answer: T = await handle.query(name, result_type=result_type)
            return answer
        except RPCError as exc:
            fail(f"{target.name}: {exc.message}", 1)

    return asyncio.run(ask())


async def update(
    client: Client, target: Target, name: str, payload: dict[str, Any], result_type: type[Result]
) -> Result:
    """Send `target` a validated update: its answer (accepted, or refused with the rule); exit
    1 when nothing was sent, saying whether it does not exist or has closed."""
    handle = client.get_workflow_handle(target.workflow_id)
    try:
        return await handle.execute_update(name, payload, result_type=result_type)
    except WorkflowUpdateFailedError as exc:
        return result_type(accepted=False, reason=str(exc.cause))
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            fail(f"{target.name}: {exc.message}", 1)
        try:
            closed = (await handle.describe()).status != WorkflowExecutionStatus.RUNNING
        except RPCError:
            fail(f"no {target.name}; nothing was sent", 1)
        if closed:
            fail(target.closed, 1)
        fail(f"{target.name}: {exc.message}", 1)


def show_status(
    status: api.CaseStatus | eapi.LabourStatus, lines: list[str], as_json: bool
) -> None:
    """Print a status: `lines` about it, then how it closed and the input it refused."""
    if status.closed_reason:
        lines.append(f"  closed: {status.closed_reason} — {status.closed_detail}")
    for r in status.refused:
        lines.append(f"  refused {r.name} at {r.received_at:%Y-%m-%d %H:%M}: {r.rule}: {r.reason}")
    _emit(status.model_dump(mode="json"), as_json, "\n".join(lines))


def staff_payload(
    state: Path | None, fields: dict[str, Any], model: type[BaseModel], what: str, target: Target
) -> dict[str, Any]:
    """Staff input: the `fields` given (not None), checked against `model` before anyone is
    asked who acts (exit 2 naming every field and rule), then proved: a request id and the
    console's assertion that the signed-in member sends it (cli/proof.py)."""
    payload = {k: v for k, v in fields.items() if v is not None}
    try:
        model.model_validate(payload)
    except ValidationError as exc:
        fail(f"invalid {what}:\n{_validation_lines(exc)}", 2)
    return proved(state, target.workflow_id, payload)


def report(result: api.UpdateResult | eapi.LabourUpdateResult, as_json: bool) -> None:
    """Print an update's answer; exit 2 when it was refused."""
    _emit(
        result.model_dump(),
        as_json,
        "accepted" if result.accepted else f"[red]refused:[/red] {result.reason}",
    )
    if not result.accepted:
        raise typer.Exit(2)
