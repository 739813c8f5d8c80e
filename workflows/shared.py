"""What both workflows ask of Temporal the same way: the record and the staff registry from the
worker itself (local activities, the ordinary activity as the way round an outage), and
search attributes upserted only when their values change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.options import LOCAL_RETRY, NON_RETRYABLE, PAUSE_CASE_ON, STORE_RETRY


def refusal(exc: BaseException) -> ApplicationError | None:
    """The refusal in a failed call to the record or the registry (an ordinary activity wraps
    it in an ActivityError, a local activity raises it as it is); None when the failure is one
    retrying may cure (the database away, a timeout)."""
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    if isinstance(cause, ApplicationError) and (cause.non_retryable or cause.type in NON_RETRYABLE):
        return cause
    return None


async def local_first(
    method: Any,
    arg: Any,
    *,
    summary: str,
    timeout: timedelta,
    otherwise: Callable[[], Awaitable[Any]],
    local: bool = True,
) -> Any:
    """`method` as a local activity: a few quick attempts inside the workflow task, no
    activity task and one history marker. When they run out for a reason retrying may cure,
    `otherwise()`: the ordinary activity, which retries with backoff for as long as it takes
    without adding to the history. A refusal (see `refusal`) is raised: an ApplicationError
    from a local attempt, an ActivityError from an ordinary one. With `local` False (a case
    under the rules from before local calls), `otherwise()` alone."""
    if not local:
        return await otherwise()
    try:
        return await workflow.execute_local_activity_method(
            method, arg, start_to_close_timeout=timeout, retry_policy=LOCAL_RETRY, summary=summary
        )
    except (ActivityError, ApplicationError) as exc:
        if refusal(exc) is not None:
            raise
        workflow.logger.warning(
            "%s: local attempts failed (%s), retrying as an activity", summary, exc
        )
    return await otherwise()


async def ask_store(
    method: Any,
    arg: Any,
    *,
    summary: str,
    local: bool,
    local_timeout: timedelta,
    store_timeout: timedelta,
) -> Any:
    """A call to kosh's PostgreSQL (the record, the staff registry): `local_first`, with the
    ordinary activity on STORE_RETRY as the way round an outage (or, `local` False, alone)."""
    return await local_first(
        method,
        arg,
        summary=summary,
        timeout=local_timeout,
        local=local,
        otherwise=lambda: workflow.execute_activity_method(
            method,
            arg,
            start_to_close_timeout=store_timeout,
            retry_policy=STORE_RETRY,
            summary=summary,
        ),
    )


def pause_reason(exc: BaseException) -> str | None:
    """Why the record's refusal pauses the case or request (a conflict, a refused write),
    None when it is not such a refusal."""
    found = refusal(exc)
    if found is None or found.type not in PAUSE_CASE_ON:
        return None
    return f"{found.type}: {found.message}"


def upsert_changed(pairs: list[SearchAttributeUpdate[Any]]) -> None:
    """Upsert the pairs whose values differ from the run's own view of its search attributes
    (those it started with, a continued run carrying its predecessor's, and its upserts
    since); nothing when none differs. Each upsert is a history event and a visibility write."""
    published = workflow.info().typed_search_attributes
    changed = [p for p in pairs if published.get(p.key) != p.value]
    if changed:
        workflow.upsert_search_attributes(changed)
