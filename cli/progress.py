"""The live progress table of `kosh dev`: cases by stage, read from the cases projection,
refreshed until every case is closed (with --exit-when-done) or until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, get_args

import asyncpg
import structlog
from rich.console import Console
from rich.live import Live
from rich.table import Table

from domain.case import Stage
from store.errors import StoreError
from store.records import APPLICANT_STREAMS

log = structlog.get_logger("kosh.dev")

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


@dataclass
class Counts:
    """What the record says now: applicants' cases and employers' labour requests."""

    stages: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    events: int = 0  # the applicants' (the labour streams' are counted apart)
    # closed cases whose exit check (their last event, docs/decisions/013) is still to come
    exit_pending: int = 0
    labour_stages: Counter[str] = field(default_factory=Counter)
    labour_reasons: Counter[str] = field(default_factory=Counter)
    labour_events: int = 0


async def counts_now(pool: asyncpg.Pool) -> Counts:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT stage, closed_reason, "
            "coalesce((state->>'exit_checked')::boolean, true) AS exit_checked FROM cases"
        )
        labour = await conn.fetch("SELECT stage, closed_reason FROM labour_requests")
        split = await conn.fetchrow(
            f"SELECT count(*) FILTER (WHERE {APPLICANT_STREAMS}) AS cases, "
            "count(*) FILTER (WHERE case_id LIKE 'labour-%') AS labour FROM events"
        )
    return Counts(
        stages=Counter(r["stage"] for r in rows),
        reasons=Counter(r["closed_reason"] for r in rows if r["closed_reason"]),
        events=int(split["cases"]),
        exit_pending=sum(r["stage"] == "closed" and not r["exit_checked"] for r in rows),
        labour_stages=Counter(r["stage"] for r in labour),
        labour_reasons=Counter(r["closed_reason"] for r in labour if r["closed_reason"]),
        labour_events=int(split["labour"]),
    )


async def watch(
    console: Console,
    pool: asyncpg.Pool,
    ui_url: str,
    started: float,
    submitted: int,
    stop: asyncio.Event,
    *,
    requested: int = 0,
    exit_when_done: bool = False,
) -> dict[str, Any] | None:
    """Refresh the table until every case and labour request is closed (with
    exit_when_done) or until stopped."""
    counts = Counts()
    with Live(console=console, refresh_per_second=2, transient=False) as live:
        while True:
            try:
                counts = await counts_now(pool)
            except (StoreError, OSError, asyncpg.PostgresError) as exc:
                # the record is down for a while: the cases wait and retry, and so do we
                log.warning("record_unavailable", error=str(exc))
            seconds = time.monotonic() - started
            live.update(
                progress_table(
                    counts.stages,
                    counts.reasons,
                    ui_url=ui_url,
                    events=counts.events,
                    seconds=seconds,
                    labour_stages=counts.labour_stages,
                    labour_reasons=counts.labour_reasons,
                )
            )
            total = sum(counts.stages.values())
            labour = sum(counts.labour_stages.values())
            closed = counts.stages.get("closed", 0)
            cases_done = total >= submitted and closed == total and not counts.exit_pending
            labour_done = labour >= requested and counts.labour_stages.get("closed", 0) == labour
            if exit_when_done and cases_done and labour_done:
                summary: dict[str, Any] = {
                    "cases": total,
                    "closed_by_reason": dict(sorted(counts.reasons.items())),
                    "events": counts.events,
                    "seconds": round(seconds, 1),
                }
                if labour:
                    summary["labour_requests"] = {
                        "requests": labour,
                        "closed_by_reason": dict(sorted(counts.labour_reasons.items())),
                        "events": counts.labour_events,
                    }
                return summary
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            if stop.is_set():
                console.print("kosh dev: stopping; open cases resume on the next start")
                return None
