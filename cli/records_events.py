"""`kosh events`: a case's history from the event log, without personal data; `--verify`
recomputes the hash chains of one case or of every case."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.common import JsonFlag, StateOpt, _emit, fail, out
from cli.connect import with_record
from cli.tables import row, table, unknown_case, utc
from domain import events as ev
from domain.model import tenge
from store.events import read_events
from store.integrity import verify_chains

VERIFY = (
    "Recompute the hash chains (of the case, or of every case); exit 1 naming "
    "the first broken link of each case whose record was changed."
)

# Never in the human history: document numbers and free text a person wrote about a person.
# The applicant's personal data is nested in ApplicationSubmitted.application, which the
# summary does not walk (only scalar fields are shown).
UNSHOWN = frozenset(
    {"type", "schema_version", "policy_id", "at", "case_id"}
    | {"permit_number", "certificate_number", "notes"}
)
SUMMARY_CHARS = 120


def summary(event: ev.Event) -> str:
    """One line about an event, without personal data (names, birth dates, documents)."""
    match event:
        case ev.ApplicationSubmitted(application=application):
            text = f"track={application.track} household={1 + len(application.family)}"
            if application.preferred_regions:
                text += f" regions={_value(application.preferred_regions)}"
        case ev.ScoreComputed(breakdown=breakdown):
            text = f"decision={breakdown.decision} score={breakdown.total}"
        case ev.SupportPaid():  # its idempotency key is in `kosh payments`
            text = (
                f"measure={event.measure} period={event.period} "
                f"amount={tenge(event.amount_tiyn)} reference={event.payment_reference}"
            )
        case _:
            text = " ".join(
                f"{name.removesuffix('_tiyn')}={tenge(value) if name.endswith('_tiyn') else shown}"
                for name, value in event
                if name not in UNSHOWN and (shown := _value(value)) is not None
            )
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _value(value: Any) -> str | None:
    """A scalar (or a tuple of them) as text; None for anything nested."""
    if isinstance(value, tuple):
        parts = [_value(v) for v in value]
        return None if None in parts else ",".join(p or "" for p in parts)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, str):
        return f'"{value}"' if " " in value else value
    if isinstance(value, int | date):
        return str(value)
    return None


def events(
    case_id: Annotated[
        str | None, typer.Argument(help="Case id (optional with --verify: every case).")
    ] = None,
    verify: Annotated[bool, typer.Option("--verify", help=VERIFY)] = False,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A case's history from the event log, in order (--json: the stored events in full)."""
    if verify:
        _verify(state, case_id, as_json)
        return
    if case_id is None:
        fail("a case id is needed (or --verify to check every case)", 2)
    stored = with_record(state, lambda conn: read_events(conn, case_id=case_id))
    if not stored:
        unknown_case(case_id)
    if as_json:
        _emit([s.model_dump(mode="json") for s in stored], True, "")
        return
    shown = table(
        f"case {escape(case_id)}: {len(stored)} events",
        "Seq",
        "Occurred (UTC)",
        "Type",
        "Summary",
        right=("Seq",),
    )
    for s in stored:
        row(shown, s.seq, utc(s.event.at), s.event.type, summary(s.event))
    out.print(shown)


def _verify(state: Path | None, case_id: str | None, as_json: bool) -> None:
    report = with_record(state, lambda conn: verify_chains(conn, case_id=case_id))
    if case_id is not None and report.events == 0:
        unknown_case(case_id)
    if as_json:
        _emit(report.model_dump(mode="json"), True, "")
    else:
        out.print(f"checked {report.events} events of {report.cases} cases")
        for link in report.broken:
            out.print(
                f"[red]broken[/red] case {escape(link.case_id)} at seq {link.seq}: {link.reason}"
            )
    if report.broken:
        fail(f"{len(report.broken)} case record(s) changed behind the store's back", 1)
    if not as_json:
        out.print("every chain is intact")
