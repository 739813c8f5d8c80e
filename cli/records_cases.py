"""`kosh cases`: cases from the cases projection, or with --live (and the filters only
Temporal knows) the open cases from Temporal visibility."""

from __future__ import annotations

from typing import Annotated, get_args

import typer

from cli.common import JsonFlag, StateOpt, _emit, date_option, one_of, out
from cli.connect import with_record
from cli.live import show_live_cases, visibility_query
from cli.tables import kzt, row, table, utc
from domain.application import Track
from domain.case import Stage
from domain.policy import POLICIES
from domain.regions import ALL_REGIONS
from store.queries import list_cases
from workflows import api

STAGES: tuple[str, ...] = get_args(Stage)
TRACKS: tuple[str, ...] = get_args(Track)
POLICY_IDS: tuple[str, ...] = tuple(p.id for p in POLICIES)


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
    stage = one_of("--stage", stage, STAGES)
    region = one_of("--region", region, ALL_REGIONS)
    track = one_of("--track", track, TRACKS)
    policy = one_of("--policy", policy, POLICY_IDS)
    waiting_for = one_of("--waiting-for", waiting_for, api.WAITING_FOR)
    due = date_option("--due-before", due_before)
    if live or waiting_for is not None or due is not None:
        show_live_cases(
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
    rows = with_record(
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
    shown = table(
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
        row(
            shown,
            c.case_id,
            c.track,
            c.stage,
            c.region,
            c.score,
            c.decision,
            c.contract_ends_on,
            c.closed_reason,
            kzt(c.paid_tiyn),
            kzt(c.outstanding_tiyn),
            utc(c.updated_at),
        )
    out.print(shown)
    more = f" (the first {limit}; raise --limit for more)" if len(rows) == limit else ""
    out.print(f"{len(rows)} case{'s' if len(rows) != 1 else ''}{more}")
