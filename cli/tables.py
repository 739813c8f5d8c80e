"""How the record commands print: tables that never lose a character, amounts and moments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cli.common import fail
from domain.model import tenge


def table(title: str, *columns: str, right: Sequence[str] = ()) -> Table:
    """A table whose cells wrap when the terminal is narrow but never lose characters: a case
    id, key or amount cut short with an ellipsis would be worse than none."""
    shown = Table(title=title)
    for name in columns:
        shown.add_column(name, justify="right" if name in right else "left", overflow="fold")
    return shown


def row(shown: Table, *cells: object) -> None:
    """Cells are data, never markup: a `[` in a reason must print as itself."""
    shown.add_row(*(Text("" if c is None else str(c)) for c in cells))


def kzt(tiyn: int) -> str:
    """An amount for a column headed (KZT): 150,000.50."""
    return tenge(tiyn).removesuffix(" KZT")


def utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}"


def unknown_case(case_id: str) -> NoReturn:
    fail(f"case {escape(case_id)}: no events in the log", 1)
