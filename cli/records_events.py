"""`kosh events`: a case's history from the event log, without personal data; `--verify`
recomputes the hash chains of one case or of every case and checks the record against the
newest signed checkpoint; `kosh events checkpoint` writes one (cli/checkpoints.py)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer._click.core import Context  # typer 0.29 vendors click: its Context
from typer.core import TyperGroup

from adapters.checkpoints import CheckpointFileError, CheckpointKeyError
from cli.checkpoints import Verified, places, verify_checkpoint
from cli.common import JsonFlag, StateOpt, _emit, fail, out
from cli.connect import with_record
from cli.events_checkpoint import checkpoint
from cli.tables import row, table, unknown_case, utc
from domain import events as ev
from domain.model import tenge
from store.events import read_events
from store.integrity import ChainReport, verify_chains
from store.pool import Conn

VERIFY = (
    "Recompute the hash chains (of the case, or of every case) and check the record against "
    "the newest signed checkpoint (KOSH_CHECKPOINT_DIR); exit 1 naming what was changed."
)
HISTORY = "history"  # the default command: `kosh events CASE` is `kosh events history CASE`


class EventsGroup(TyperGroup):
    """`kosh events ...` runs `history` unless it names another command (or asks for help)."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] != "--help"):
            args = [HISTORY, *args]
        return super().parse_args(ctx, args)


events_app = typer.Typer(
    cls=EventsGroup,
    help="A case's history from the event log (`kosh events CASE`, `kosh events --verify`: "
    "the same as `kosh events history ...`), and signed checkpoints of the whole record "
    "(`kosh events checkpoint`).",
)
events_app.command("checkpoint")(checkpoint)

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


@events_app.command(HISTORY)
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
    where = places(state)

    async def check(conn: Conn) -> tuple[ChainReport, Verified]:
        chains = await verify_chains(conn, case_id=case_id)
        return chains, await verify_checkpoint(conn, where, case_id=case_id)

    try:
        report, against = with_record(state, check)
    except (CheckpointFileError, CheckpointKeyError) as exc:
        fail(escape(str(exc)), 2)
    if case_id is not None and report.events == 0 and not against.findings:
        unknown_case(case_id)
    if as_json:
        _emit(
            {**report.model_dump(mode="json"), "checkpoint": against.model_dump(mode="json")},
            True,
            "",
        )
    else:
        _print_chains(report)
        _print_checkpoint(against)
    if report.broken or against.status == "broken":
        changed = len(report.broken) + len(against.findings)
        fail(f"{changed} change(s) to the record made behind the store's back", 1)
    if not as_json:
        out.print(
            "every chain is intact"
            + ("" if against.status == "none" else "; the checkpoint agrees")
        )


def _print_chains(report: ChainReport) -> None:
    out.print(f"checked {report.events} events of {report.cases} cases")
    for link in report.broken:
        out.print(f"[red]broken[/red] case {escape(link.case_id)} at seq {link.seq}: {link.reason}")


def _print_checkpoint(against: Verified) -> None:
    if against.checkpoint is None:
        if against.note:
            out.print(f"no checkpoint checked: {escape(against.note)}; chains only")
    else:
        c = against.checkpoint
        out.print(
            f"checkpoint {escape(Path(c.file).name)} (key {escape(c.key_id)}, written "
            f"{utc(c.written_at)}): {c.events} events of {c.streams} streams up to position "
            f"{c.last_position}"
        )
    for finding in against.findings:
        out.print(f"[red]changed[/red] {escape(finding.message)}")
    if against.after:
        out.print(
            f"{against.after} events appended after the checkpoint are checked by their chains only"
        )
