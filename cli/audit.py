"""`kosh audit access`: who read decrypted payloads through the codec server, of which
workflow, when (the access log, migration 0009) — "who looked at this person's file"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.markup import escape

from cli.common import JsonFlag, StateOpt, _emit, fail, out
from cli.connect import with_record
from cli.tables import row, table, utc
from store.access_log import access_log

audit_app = typer.Typer(no_args_is_help=True, help="Audit trails: who read personal data.")

UNKNOWN = "(unknown: sealed without a workflow stamp)"


def _since(text: str | None) -> datetime | None:
    """A date (midnight UTC) or an ISO moment; exit 2 naming the option otherwise."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since {escape(text)!r}: expected a date (2026-12-01) or an ISO moment", 2)
    if len(text) == 10:  # a bare date: its start, in UTC
        moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@audit_app.command("access")
def access(
    workflow: Annotated[
        str | None,
        typer.Option(help="Only this workflow (a case is case-<case id>, a request labour-<id>)."),
    ] = None,
    member: Annotated[
        str | None, typer.Option(help="Only this reader (a staff id, or the OIDC name).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only from this date (UTC) or ISO moment on.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 1000,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Every decryption the codec server logged, newest first: when, who (and how they
    signed in), which workflow, how many payloads."""
    start = _since(since)
    rows = with_record(
        state,
        lambda conn: access_log(
            conn, workflow_id=workflow, member=member, since=start, limit=limit
        ),
    )
    if as_json:
        _emit([r.model_dump(mode="json") for r in rows], True, "")
        return
    if not rows:
        out.print("no decryption logged" + (" that matches" if workflow or member or since else ""))
        return
    shown = table(
        f"Decryptions: {len(rows)}",
        "When (UTC)",
        "Member",
        "Signed in by",
        "Workflow",
        "Payloads",
        "Namespace",
        right=("Payloads",),
    )
    for r in rows:
        row(shown, utc(r.at), r.member, r.via, r.workflow_id or UNKNOWN, r.payloads, r.namespace)
    out.print(shown)
