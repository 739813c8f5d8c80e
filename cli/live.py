"""Open cases from Temporal visibility (search attributes, no personal data): what an
operator's filters in the Temporal UI would show, for `kosh cases --live` and its filters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client

from workflows import api


class LiveCase(BaseModel):
    case_id: str
    stage: str | None
    track: str | None
    region: str | None
    policy_id: str | None
    waiting_for: str | None
    next_deadline: date | None
    score: int | None


def visibility_query(
    *,
    stage: str | None = None,
    track: str | None = None,
    region: str | None = None,
    policy: str | None = None,
    waiting_for: str | None = None,
    due_before: date | None = None,
) -> str:
    """A visibility query over kosh's search attributes. Values must already be checked
    against their closed sets (the caller's job): they are quoted, never interpolated raw."""
    clauses = ["ExecutionStatus = 'Running'", f"WorkflowType = '{api.WORKFLOW_NAME}'"]
    for key, value in (
        (api.SA_STAGE, stage),
        (api.SA_TRACK, track),
        (api.SA_REGION, region),
        (api.SA_POLICY, policy),
        (api.SA_WAITING_FOR, waiting_for),
    ):
        if value is not None:
            if "'" in value:
                raise ValueError(f"{key.name}: quote in {value!r}")
            clauses.append(f"{key.name} = '{value}'")
    if due_before is not None:
        clauses.append(f"{api.SA_NEXT_DEADLINE.name} < '{due_before.isoformat()}T00:00:00Z'")
    return " AND ".join(clauses)


def _value(attrs: Any, key: Any) -> Any:
    value = attrs.get(key)
    return value.date() if isinstance(value, datetime) else value


async def live_cases(client: Client, query: str, *, limit: int) -> list[LiveCase]:
    found: list[LiveCase] = []
    async for wf in client.list_workflows(query, limit=limit):
        attrs = wf.typed_search_attributes
        found.append(
            LiveCase(
                case_id=wf.id.removeprefix("case-"),
                stage=_value(attrs, api.SA_STAGE),
                track=_value(attrs, api.SA_TRACK),
                region=_value(attrs, api.SA_REGION),
                policy_id=_value(attrs, api.SA_POLICY),
                waiting_for=_value(attrs, api.SA_WAITING_FOR),
                next_deadline=_value(attrs, api.SA_NEXT_DEADLINE),
                score=_value(attrs, api.SA_SCORE),
            )
        )
    found.sort(key=lambda c: (c.next_deadline or date.max, c.case_id))
    return found
