"""The live progress table of `kosh dev`: cases by stage, read from the cases projection."""

from __future__ import annotations

from collections import Counter
from typing import get_args

from rich.table import Table

from domain.case import Stage

STAGE_ORDER = tuple(s for s in get_args(Stage) if s != "new")


def progress_table(
    stages: Counter[str],
    reasons: Counter[str],
    *,
    ui_url: str,
    events: int,
    seconds: float,
    labour_stages: Counter[str] | None = None,
    labour_reasons: Counter[str] | None = None,
) -> Table:
    table = Table(title=f"kosh — cases by stage   (Temporal UI: {ui_url})", expand=False)
    table.add_column("stage")
    table.add_column("cases", justify="right")
    for stage in STAGE_ORDER:
        if stages.get(stage):
            table.add_row(stage, str(stages[stage]))
    for reason, count in sorted(reasons.items()):
        table.add_row(f"  closed: {reason}", str(count), style="dim")
    caption = f"{sum(stages.values())} cases, {events} events, {seconds:.0f} s"
    if labour_stages:
        table.add_row("employers' requests", str(sum(labour_stages.values())), style="bold")
        for stage, count in sorted(labour_stages.items()):
            if stage != "closed":
                table.add_row(f"  {stage}", str(count))
        for reason, count in sorted((labour_reasons or Counter()).items()):
            table.add_row(f"  closed: {reason}", str(count), style="dim")
        caption += f"; {sum(labour_stages.values())} labour requests"
    table.caption = caption
    return table
