"""The record's upkeep: `kosh db migrate` (the schema) and `kosh projections rebuild` (the
tables derived from the event log)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import JsonFlag, StateOpt, _emit, fail, out
from cli.connect import with_record
from cli.tables import row, table
from store.migrate import migrate, migration_files
from store.rebuild import rebuild_and_compare

CHECK = (
    "Rebuild in a transaction, compare with the live tables and roll back; exit 1 if they differ."
)

db_app: typer.Typer = typer.Typer(no_args_is_help=True, help="The database schema.")
projections_app: typer.Typer = typer.Typer(
    no_args_is_help=True, help="Tables derived from the event log: cases, quotas, payments."
)


@db_app.command("migrate")
def db_migrate(state: StateOpt = None, as_json: JsonFlag = False) -> None:
    """Apply pending schema migrations (safe to run twice: the second applies nothing)."""
    applied = with_record(state, migrate)
    latest = migration_files()[-1][0]
    done = f"applied {', '.join(applied)}" if applied else "nothing to apply"
    _emit({"applied": applied, "schema_version": latest}, as_json, f"{done}; schema at {latest}")


def _rows(keys: list[str]) -> str:
    shown = ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")
    return f"{len(keys)} row{'s' if len(keys) != 1 else ''}: {shown}"


@projections_app.command("rebuild")
def projections_rebuild(
    check: Annotated[bool, typer.Option("--check", help=CHECK)] = False,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Recompute cases, quota_ledger and payments from the event log; report row counts."""
    result = with_record(state, lambda conn: rebuild_and_compare(conn, keep=not check))
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
        shown = table(
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
            row(shown, name, count, after if check else before)
        out.print(shown)
    if check and result.differs:
        fail(
            f"projections differ from the log: {', '.join(result.differs)}; "
            "`kosh projections rebuild` recomputes them",
            1,
        )
