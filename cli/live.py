"""Open cases from Temporal visibility (search attributes, no personal data): what an
operator's filters in the Temporal UI would show, for `kosh cases --live` and its filters."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from rich.markup import escape

from cli.common import _emit, fail, out
from cli.connect import connect_to
from cli.stack import find_stack
from cli.tables import row, table
from console.listing import LiveCase, live_cases
from workflows import api


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


# The table's columns: LiveCase fields, each headed by its name ("Policy", "Waiting for").
COLUMNS = [
    "case_id",
    "track",
    "stage",
    "region",
    "policy_id",
    "waiting_for",
    "next_deadline",
    "score",
]


def show_live_cases(state: Path | None, query: str, *, limit: int, as_json: bool) -> None:
    """The open cases `query` finds, as a table (and the query, for the Temporal UI)."""
    stack = find_stack(state)

    async def go() -> list[LiveCase]:
        try:
            return await live_cases(await connect_to(stack), query, limit=limit)
        except Exception as exc:
            fail(f"cannot list cases from Temporal at {stack.temporal_address} ({exc})", 1)

    rows = asyncio.run(go())
    if as_json:
        _emit([r.model_dump(mode="json", exclude={"started"}) for r in rows], True, "")
        return
    out.print(f"[dim]{escape(query)}[/dim]")  # the same query works in the Temporal UI
    if not rows:
        out.print("no open cases match")
        return
    headings = [name.removesuffix("_id").replace("_", " ").capitalize() for name in COLUMNS]
    shown = table("Open cases (Temporal visibility)", *headings, right=("Score",))
    for c in rows:
        row(shown, *(getattr(c, name) for name in COLUMNS))
    out.print(shown)
    out.print(f"{len(rows)} open case{'s' if len(rows) != 1 else ''}")
