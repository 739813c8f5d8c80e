"""Open cases from Temporal visibility (search attributes, no personal data), soonest due
first: the console's worklist and `kosh cases --live` read them the same way."""

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
    started: date


def _value(attrs: Any, key: Any) -> Any:
    value = attrs.get(key)
    return value.date() if isinstance(value, datetime) else value


async def live_cases(client: Client, query: str, *, limit: int) -> list[LiveCase]:
    """The cases `query` finds (at most `limit`). SQL visibility (the dev server, PostgreSQL)
    has no ORDER BY: they are sorted here, soonest deadline first."""
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
                started=wf.start_time.date(),
            )
        )
    found.sort(key=lambda c: (c.next_deadline or date.max, c.case_id))
    return found
