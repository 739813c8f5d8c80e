"""`kosh policy simulate DRAFT`: the recorded cases re-decided under a draft
(domain/simulation.py) beside what was decided, read from the record and never written to
it; no Temporal, no agency is asked."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.common import JsonFlag, StateOpt, _emit, date_option, one_of, out
from cli.connect import with_record
from cli.policy_drafts import DraftArg, load_draft
from cli.tables import kzt, row, table
from domain.regions import ALL_REGIONS
from domain.simulation import CaseImpact, Decided, Impact, simulate
from store.pool import Conn
from store.streams import case_streams


def policy_simulate(
    draft: DraftArg,
    since: Annotated[
        str | None, typer.Option("--from", help="Only cases submitted on or after YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Only cases submitted on or before YYYY-MM-DD.")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="Only cases of this region (their place, else first choice).")
    ] = None,
    as_json: JsonFlag = False,
    state: StateOpt = None,
) -> None:
    """Re-decide the recorded cases under a policy draft, from the inputs the record holds,
    and show beside what was decided: decisions that change (by gate, with case ids), cases
    the draft cannot decide without an input never recorded, kandas places needed per region
    and year against the draft's quotas, and support paid and clawback demanded. Reads the
    record (KOSH_DATABASE_URL or a running `kosh dev`); writes nothing."""
    drafted = load_draft(draft)
    window = (date_option("--from", since), date_option("--to", until))
    region = one_of("--region", region, ALL_REGIONS)

    async def read(conn: Conn) -> Impact:
        streams = [events async for events in case_streams(conn)]
        return simulate(streams, drafted, since=window[0], until=window[1], region=region)

    impact = with_record(state, read)
    if as_json:
        _emit(impact_record(impact), True, "")
        return
    _print(impact)


def _decided(d: Decided | None) -> str:
    if d is None:
        return "-"
    return d.decision if d.gate is None else f"{d.decision} ({d.gate})"


def _print(impact: Impact) -> None:
    scored = [c for c in impact.cases if c.recorded is not None]
    out.print(
        f"[bold]Draft {escape(impact.draft)}[/bold] over {len(impact.cases)} recorded cases: "
        f"{len(scored)} scored, {len(impact.changed)} decided otherwise, "
        f"{len(impact.undetermined)} undetermined (an input never recorded), "
        f"{len(impact.cases) - len(scored)} never scored",
        highlight=False,
    )
    flows = table("Decisions that change", "Recorded", "Under the draft", "At gate", "Cases")
    for (before, after, gate), n in sorted(impact.flows().items()):
        row(flows, before, after, gate, n)
    out.print(flows)
    changed = table("Cases decided otherwise", "Case", "Track", "Recorded", "Draft", "Why")
    for c in impact.changed:
        why = "; ".join(c.drafted.reasons) if c.drafted else ""
        row(changed, c.case_id, c.track, _decided(c.recorded), _decided(c.drafted), why)
    out.print(changed)
    if impact.undetermined:
        unknown = table("Undetermined", "Case", "Recorded", "What the record does not hold")
        for c in impact.undetermined:
            row(unknown, c.case_id, _decided(c.recorded), c.unknown)
        out.print(unknown)
    places = table(
        "Kandas places",
        "Region",
        "Year",
        "Held",
        "Needed",
        "No place yet",
        "Draft quota",
        "Short",
        "Beyond the quota",
        right=("Held", "Needed", "No place yet", "Draft quota", "Short"),
    )
    for p in impact.places:
        quota = "no figure" if p.quota is None else p.quota
        row(
            places, p.region, p.year, p.held, p.needed, p.waiting, quota, p.short, ", ".join(p.over)
        )
    out.print(places)
    money = impact.money()
    sums = table(
        "Support and clawback (KZT)",
        "",
        "Recorded",
        "Under the draft",
        right=("Recorded", "Under the draft"),
    )
    row(sums, "support paid", kzt(money["support_paid_tiyn"]), kzt(money["support_drafted_tiyn"]))
    row(
        sums,
        "clawback demanded on early departures",
        kzt(money["clawback_demanded_tiyn"]),
        kzt(money["clawback_drafted_tiyn"]),
    )
    out.print(sums)


def impact_record(impact: Impact) -> dict[str, Any]:
    """`--json`: every case, the flows, the places and the sums."""
    return {
        "draft": impact.draft,
        "cases": [_case(c) for c in impact.cases],
        "flows": [
            {"recorded": a, "draft": b, "gate": g, "cases": n}
            for (a, b, g), n in sorted(impact.flows().items())
        ],
        "places": [
            {
                "region": p.region,
                "year": p.year,
                "held": p.held,
                "needed": p.needed,
                "no_place_yet": p.waiting,
                "draft_quota": p.quota,
                "short": p.short,
                "beyond_quota": list(p.over),
            }
            for p in impact.places
        ],
        "money": impact.money(),
    }


def _case(c: CaseImpact) -> dict[str, Any]:
    def decided(d: Decided | None) -> dict[str, Any] | None:
        if d is None:
            return None
        return {
            "decision": d.decision,
            "gate": d.gate,
            "reasons": list(d.reasons),
            "total": d.total,
        }

    return {
        "case_id": c.case_id,
        "track": c.track,
        "submitted_on": c.submitted_on.isoformat(),
        "region": c.region,
        "recorded_policy": c.recorded_policy,
        "recorded": decided(c.recorded),
        "draft": decided(c.drafted),
        "changed": c.changed,
        "undetermined": c.unknown,
        "support_paid_tiyn": c.paid_tiyn,
        "support_draft_tiyn": c.drafted_paid_tiyn,
        "left_on": c.left_on.isoformat() if c.left_on else None,
        "clawback_demanded_tiyn": c.demanded_tiyn,
        "clawback_draft_tiyn": c.drafted_demand_tiyn,
    }


__all__ = ["policy_simulate"]
