"""The business record in PostgreSQL: a case's events and payments, quotas, the cases
projection, schema migrations and projection rebuilds.

cli/main.py registers these commands after its own helpers are defined, so import cli.main
(not this module) to get the whole `kosh` app.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar, get_args

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cli.common import JsonFlag, StateOpt, _emit, codec_keys, fail, out
from cli.live import LiveCase, live_cases, visibility_query
from cli.stack import find_stack, state_dir
from domain import events as ev
from domain.application import Track
from domain.case import Stage
from domain.model import tenge
from domain.policy import POLICIES
from domain.regions import ALL_REGIONS
from store.errors import StoreError
from store.events import count_events, read_events
from store.integrity import verify_chains
from store.migrate import migrate, migration_files
from store.pool import Conn, create_pool
from store.projections import rebuild_and_compare
from store.queries import Payment, balance_owed, list_cases, payments_for, quota_usage
from worker import connect
from workflows import api

T = TypeVar("T")

CONNECT_SECONDS = 10
STAGES: tuple[str, ...] = get_args(Stage)
TRACKS: tuple[str, ...] = get_args(Track)
POLICY_IDS: tuple[str, ...] = tuple(p.id for p in POLICIES)

db_app: typer.Typer = typer.Typer(no_args_is_help=True, help="The database schema.")
projections_app: typer.Typer = typer.Typer(
    no_args_is_help=True, help="Tables derived from the event log: cases, quotas, payments."
)

# --- the database ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str
    source: str  # where the URL was found, for messages


def _database(state: Path | None) -> Database:
    url = find_stack(state).database_url
    folder = state_dir(state)
    if not url:
        ignored = (
            " (KOSH_TEMPORAL_ADDRESS is set, so a `kosh dev` state is not used)"
            if os.environ.get("KOSH_TEMPORAL_ADDRESS")
            else ""
        )
        fail(
            "no database: KOSH_DATABASE_URL is not set and no running `kosh dev` has its state "
            f"in {folder}{ignored}; start `kosh dev` or set KOSH_DATABASE_URL",
            1,
        )
    if os.environ.get("KOSH_DATABASE_URL"):
        return Database(url, "KOSH_DATABASE_URL")
    return Database(url, f"the `kosh dev` state in {folder}")


def _redacted(url: str) -> str:
    return re.sub(r"(//[^:/@]*):[^@/]+@", r"\1:***@", url)


def _with_db(state: Path | None, work: Callable[[Conn], Awaitable[T]]) -> T:
    """Run `work` on one connection to the business record; exit 1 if that fails."""
    db = _database(state)

    async def go() -> T:
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                pool = await create_pool(db.url, min_size=1, max_size=1)
        except (StoreError, TimeoutError) as exc:
            reason = str(exc) or f"no answer in {CONNECT_SECONDS}s"
            fail(
                f"cannot reach PostgreSQL at {escape(_redacted(db.url))} "
                f"(from {db.source}): {escape(reason)}",
                1,
            )
        try:
            async with pool.acquire() as conn:
                return await work(conn)
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except StoreError as exc:
        missing_table = getattr(exc.__cause__, "sqlstate", None) == "42P01"
        fail(escape(str(exc)) + ("; run `kosh db migrate`" if missing_table else ""), 1)


def _table(title: str, *columns: str, right: Sequence[str] = ()) -> Table:
    """A table whose cells wrap when the terminal is narrow but never lose characters: a case
    id, key or amount cut short with an ellipsis would be worse than none."""
    table = Table(title=title)
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left", overflow="fold")
    return table


def _kzt(tiyn: int) -> str:
    """An amount for a column headed (KZT): 150,000.50."""
    return tenge(tiyn).removesuffix(" KZT")


def _row(table: Table, *cells: object) -> None:
    """Cells are data, never markup: a `[` in a reason must print as itself."""
    table.add_row(*(Text("" if c is None else str(c)) for c in cells))


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}"


def _unknown_case(case_id: str) -> NoReturn:
    fail(f"case {escape(case_id)}: no events in the log", 1)


# --- events ---------------------------------------------------------------------------------

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
        return _utc(value)
    if isinstance(value, str):
        return f'"{value}"' if " " in value else value
    if isinstance(value, int | date):
        return str(value)
    return None


def events(
    case_id: Annotated[
        str | None, typer.Argument(help="Case id (optional with --verify: every case).")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Recompute the hash chains (of the case, or of every case); exit 1 naming "
            "the first broken link of each case whose record was changed.",
        ),
    ] = False,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A case's history from the event log, in order (--json: the stored events in full)."""
    if verify:
        _verify(state, case_id, as_json)
        return
    if case_id is None:
        fail("a case id is needed (or --verify to check every case)", 2)
    stored = _with_db(state, lambda conn: read_events(conn, case_id=case_id))
    if not stored:
        _unknown_case(case_id)
    if as_json:
        _emit([s.model_dump(mode="json") for s in stored], True, "")
        return
    table = _table(
        f"case {escape(case_id)}: {len(stored)} events",
        "Seq",
        "Occurred (UTC)",
        "Type",
        "Summary",
        right=("Seq",),
    )
    for s in stored:
        _row(table, s.seq, _utc(s.event.at), s.event.type, summary(s.event))
    out.print(table)


def _verify(state: Path | None, case_id: str | None, as_json: bool) -> None:
    report = _with_db(state, lambda conn: verify_chains(conn, case_id=case_id))
    if case_id is not None and report.events == 0:
        _unknown_case(case_id)
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


# --- quotas, payments, cases ----------------------------------------------------------------


def quotas(
    year: Annotated[int | None, typer.Option(help="Only this year.")] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Quota places per year: the kandas places per region, and beside them the foreign-labour
    places per industry, region and project (capacity, reserved, released, in use, left)."""
    from store.labour import labour_quota_usage

    async def both(conn: Conn) -> tuple[list[Any], list[Any]]:
        return await quota_usage(conn, year=year), await labour_quota_usage(conn, year=year)

    kandas, labour = _with_db(state, both)
    if as_json:
        _emit(
            {
                "kandas": [r.model_dump(mode="json") for r in kandas],
                "labour": [r.model_dump(mode="json") for r in labour],
            },
            True,
            "",
        )
        return
    numbers = ("Capacity", "Reserved", "Released", "In use", "Left")
    when = f" in {year}" if year is not None else ""
    if kandas:
        table = _table("Kandas places (regional quota)", "Region", "Year", *numbers, right=numbers)
        for r in kandas:
            _row(table, r.region, r.year, r.capacity, r.reserved, r.released, r.in_use, r.available)
        out.print(table)
    else:
        out.print("no kandas quota places reserved" + when)
    if labour:
        table = _table(
            "Foreign-labour places (labour quota)",
            "Industry",
            "Region",
            "Project",
            "Year",
            *numbers,
            right=numbers,
        )
        for x in labour:
            _row(
                table,
                x.industry,
                x.region,
                x.project or "-",
                x.year,
                x.capacity,
                x.reserved,
                x.released,
                x.in_use,
                x.available,
            )
        out.print(table)
    else:
        out.print("no foreign-labour places reserved" + when)


@dataclass(frozen=True)
class Ledger:
    events: int
    payments: list[Payment]
    owed_tiyn: int


async def _ledger(conn: Conn, case_id: str) -> Ledger:
    return Ledger(
        events=await count_events(conn, case_id=case_id),
        payments=await payments_for(conn, case_id=case_id),
        owed_tiyn=await balance_owed(conn, case_id=case_id),
    )


def payments(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A case's disbursements and repayments, and the balance it still owes."""
    ledger = _with_db(state, lambda conn: _ledger(conn, case_id))
    if not ledger.events:
        _unknown_case(case_id)
    paid = sum(p.amount_tiyn for p in ledger.payments if p.kind == "disbursement")
    repaid = sum(p.amount_tiyn for p in ledger.payments if p.kind == "repayment")
    if as_json:
        data = {
            "case_id": case_id,
            "payments": [p.model_dump(mode="json") for p in ledger.payments],
            "paid_out_tiyn": paid,
            "repaid_tiyn": repaid,
            "balance_owed_tiyn": ledger.owed_tiyn,
        }
        _emit(data, True, "")
        return
    if ledger.payments:
        table = _table(
            f"case {escape(case_id)}: payments",
            "Date",
            "Kind",
            "Measure",
            "Period",
            "Amount (KZT)",
            "Reference",
            "Idempotency key",
            right=("Amount (KZT)",),
        )
        for p in ledger.payments:
            _row(
                table,
                p.occurred_at.astimezone(UTC).date(),
                p.kind,
                p.measure,
                p.period,
                _kzt(p.amount_tiyn),
                p.reference,
                p.idempotency_key,
            )
        out.print(table)
    else:
        out.print(f"case {escape(case_id)}: no payments")
    out.print(
        f"paid out {tenge(paid)}, repaid {tenge(repaid)}, "
        f"balance owed [bold]{tenge(ledger.owed_tiyn)}[/bold]"
    )


def _one_of(option: str, value: str | None, allowed: Sequence[str]) -> str | None:
    """The allowed spelling of `value` (case does not matter), or exit 2 naming the choices."""
    if value is None:
        return None
    for choice in allowed:
        if choice.casefold() == value.casefold():
            return choice
    fail(f"{option} {escape(repr(value))} is not one of: {', '.join(allowed)}", 2)


def cases(
    stage: Annotated[
        str | None, typer.Option(help=f"Only this stage: {', '.join(STAGES)}.")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help=f"Only this region: {', '.join(ALL_REGIONS)}.")
    ] = None,
    track: Annotated[
        str | None, typer.Option(help=f"Only this track: {', '.join(TRACKS)}.")
    ] = None,
    policy: Annotated[
        str | None, typer.Option(help=f"Only this policy version: {', '.join(POLICY_IDS)}.")
    ] = None,
    waiting_for: Annotated[
        str | None,
        typer.Option(help=f"Live: only cases waiting for {', '.join(api.WAITING_FOR)}."),
    ] = None,
    due_before: Annotated[
        str | None, typer.Option(help="Live: only cases with a deadline before YYYY-MM-DD.")
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Open cases from Temporal visibility (not the record).")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most N cases.", min=1)] = 100,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Cases from the cases projection, most recently changed first; with --live (implied by
    --waiting-for and --due-before) the open cases from Temporal visibility, soonest due first."""
    stage = _one_of("--stage", stage, STAGES)
    region = _one_of("--region", region, ALL_REGIONS)
    track = _one_of("--track", track, TRACKS)
    policy = _one_of("--policy", policy, POLICY_IDS)
    waiting_for = _one_of("--waiting-for", waiting_for, api.WAITING_FOR)
    due = _date("--due-before", due_before)
    if live or waiting_for is not None or due is not None:
        _live_cases(
            state,
            visibility_query(
                stage=stage,
                track=track,
                region=region,
                policy=policy,
                waiting_for=waiting_for,
                due_before=due,
            ),
            limit=limit,
            as_json=as_json,
        )
        return
    rows = _with_db(
        state, lambda conn: list_cases(conn, stage=stage, region=region, track=track, limit=limit)
    )
    if policy is not None:
        rows = [r for r in rows if r.policy_id == policy]
    if as_json:
        _emit([r.model_dump(mode="json") for r in rows], True, "")
        return
    if not rows:
        out.print("no cases match")
        return
    money = ("Paid (KZT)", "Owed (KZT)")
    table = _table(
        "Cases",
        "Case",
        "Track",
        "Stage",
        "Region",
        "Score",
        "Decision",
        "Contract ends",
        "Closed",
        *money,
        "Updated (UTC)",
        right=("Score", *money),
    )
    for c in rows:
        _row(
            table,
            c.case_id,
            c.track,
            c.stage,
            c.region,
            c.score,
            c.decision,
            c.contract_ends_on,
            c.closed_reason,
            _kzt(c.paid_tiyn),
            _kzt(c.outstanding_tiyn),
            _utc(c.updated_at),
        )
    out.print(table)
    more = f" (the first {limit}; raise --limit for more)" if len(rows) == limit else ""
    out.print(f"{len(rows)} case{'s' if len(rows) != 1 else ''}{more}")


def _date(option: str, raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        fail(f"{option} {escape(repr(raw))} is not a date (YYYY-MM-DD)", 2)


def _live_cases(state: Path | None, query: str, *, limit: int, as_json: bool) -> None:
    stack = find_stack(state)

    async def go() -> list[LiveCase]:
        try:
            client = await connect(stack.temporal_address, stack.namespace, keys=codec_keys(stack))
            return await live_cases(client, query, limit=limit)
        except Exception as exc:
            fail(f"cannot list cases from Temporal at {stack.temporal_address} ({exc})", 1)

    rows = asyncio.run(go())
    if as_json:
        _emit([r.model_dump(mode="json") for r in rows], True, "")
        return
    out.print(f"[dim]{escape(query)}[/dim]")  # the same query works in the Temporal UI
    if not rows:
        out.print("no open cases match")
        return
    table = _table(
        "Open cases (Temporal visibility)",
        "Case",
        "Track",
        "Stage",
        "Region",
        "Policy",
        "Waiting for",
        "Next deadline",
        "Score",
        right=("Score",),
    )
    for c in rows:
        _row(
            table,
            c.case_id,
            c.track,
            c.stage,
            c.region,
            c.policy_id,
            c.waiting_for,
            c.next_deadline,
            c.score,
        )
    out.print(table)
    out.print(f"{len(rows)} open case{'s' if len(rows) != 1 else ''}")


# --- maintenance ----------------------------------------------------------------------------


@db_app.command("migrate")
def db_migrate(state: StateOpt = None, as_json: JsonFlag = False) -> None:
    """Apply pending schema migrations (safe to run twice: the second applies nothing)."""
    applied = _with_db(state, migrate)
    latest = migration_files()[-1][0]
    done = f"applied {', '.join(applied)}" if applied else "nothing to apply"
    _emit({"applied": applied, "schema_version": latest}, as_json, f"{done}; schema at {latest}")


def _rows(keys: list[str]) -> str:
    shown = ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")
    return f"{len(keys)} row{'s' if len(keys) != 1 else ''}: {shown}"


@projections_app.command("rebuild")
def projections_rebuild(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Rebuild in a transaction, compare with the live tables and roll back; "
            "exit 1 if they differ.",
        ),
    ] = False,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Recompute cases, quota_ledger and payments from the event log; report row counts."""
    result = _with_db(state, lambda conn: rebuild_and_compare(conn, keep=not check))
    if as_json:
        data = {
            "events": result.events,
            "rows": result.rows,
            "differs": result.differs,
            "rolled_back": check,
        }
        _emit(data, True, "")
    else:
        verb = "checked against" if check else "rebuilt from"
        status = "Matches the log" if check else "Before the rebuild"
        table = _table(
            f"Projections {verb} {result.events} events",
            "Projection",
            "Rows",
            status,
            right=("Rows",),
        )
        for name, count in result.rows.items():
            keys = result.differs.get(name)
            before = "matched" if not keys else f"differed ({_rows(keys)})"
            after = "yes" if not keys else f"no ({_rows(keys)})"
            _row(table, name, count, after if check else before)
        out.print(table)
    if check and result.differs:
        fail(
            f"projections differ from the log: {', '.join(result.differs)}; "
            "`kosh projections rebuild` recomputes them",
            1,
        )
