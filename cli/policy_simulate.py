"""`kosh policy simulate DRAFT`: the recorded cases re-decided under a draft
(domain/simulation.py) beside what was decided, read from the record and never written to
it; no Temporal, no agency is asked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.common import JsonFlag, StateOpt, _emit, date_option, one_of, out
from cli.connect import with_record
from cli.policy_charts import write_charts
from cli.policy_drafts import DraftArg, load_draft
from cli.published import record_versions
from cli.tables import kzt, row, table
from domain.labour_simulation import LabourImpact, RequestImpact, simulate_labour
from domain.regions import ALL_REGIONS
from domain.simulation import CaseImpact, Decided, Impact, simulate
from store.pool import Conn
from store.streams import case_streams, labour_streams


def policy_simulate(
    draft: DraftArg,
    since: Annotated[
        str | None, typer.Option("--from", help="Only cases submitted on or after YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Only cases submitted on or before YYYY-MM-DD.")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            help="Only cases of this region (their place, else first choice), and labour "
            "requests of it."
        ),
    ] = None,
    as_json: JsonFlag = False,
    charts: Annotated[
        Path | None,
        typer.Option(
            "--charts",
            help="Also draw the impact as SVG charts into this folder (made if missing).",
            file_okay=False,
        ),
    ] = None,
    state: StateOpt = None,
) -> None:
    """Re-decide the recorded cases under a policy draft, from the inputs the record holds,
    and show beside what was decided: decisions that change (by gate, with case ids), cases
    the draft cannot decide without an input never recorded, kandas places needed per region
    and year against the draft's quotas, support paid and clawback demanded, labour places per
    quota line against the draft's and the employers' requests it would refuse. Reads the
    record (KOSH_DATABASE_URL or a running `kosh dev`); writes nothing."""
    record_versions(state)  # the published versions too: a draft may revise one, and a
    # recorded case decided under one is re-decided against it (read by its id)
    drafted = load_draft(draft)
    window = (date_option("--from", since), date_option("--to", until))
    region = one_of("--region", region, ALL_REGIONS)

    async def read(conn: Conn) -> tuple[Impact, LabourImpact]:
        streams = [events async for events in case_streams(conn)]
        requests = [events async for events in labour_streams(conn)]
        since, until = window
        return (
            simulate(streams, drafted, since=since, until=until, region=region),
            simulate_labour(requests, drafted, since=since, until=until, region=region),
        )

    impact, labour = with_record(state, read)
    drawn = write_charts(impact, labour, charts) if charts is not None else []
    if as_json:
        charted = {"charts": [str(path) for path in drawn]}
        _emit(impact_record(impact) | {"labour": labour_record(labour)} | charted, True, "")
        return
    _print(impact)
    _print_labour(labour)
    for path in drawn:
        out.print(f"chart: {escape(str(path))}", highlight=False)


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


def _print_labour(labour: LabourImpact) -> None:
    out.print(
        f"[bold]Labour requests[/bold]: {len(labour.requests)} recorded, "
        f"{len(labour.refused)} the draft would refuse, "
        f"{len(labour.undetermined)} undetermined (an input never recorded)",
        highlight=False,
    )
    lines = table(
        "Labour places per quota line",
        "Industry",
        "Region",
        "Project",
        "Year",
        "Held",
        "Needed",
        "Draft places",
        "Short",
        "Beyond the places",
        right=("Held", "Needed", "Draft places", "Short"),
    )
    for line in labour.lines:
        places = "no lines that year" if line.places is None else line.places
        row(
            lines,
            line.industry,
            line.region,
            line.project or "-",
            line.year,
            line.held,
            line.needed,
            places,
            line.short,
            ", ".join(line.over),
        )
    out.print(lines)
    refused = table(
        "Employers' requests the draft would refuse", "Request", "Line", "Recorded", "Rule"
    )
    for r in labour.refused:
        row(refused, r.request_id, _line(r), r.recorded, r.drafted_rule or "")
    out.print(refused)
    if labour.undetermined:
        unknown = table(
            "Undetermined requests", "Request", "Recorded", "What the record does not hold"
        )
        for r in labour.undetermined:
            recorded = (
                r.recorded if r.recorded_rule is None else f"{r.recorded} ({r.recorded_rule})"
            )
            row(unknown, r.request_id, recorded, r.unknown)
        out.print(unknown)


def _line(r: RequestImpact) -> str:
    return f"{r.industry} in {r.region}" + (f", project {r.project}" if r.project else "")


def labour_record(labour: LabourImpact) -> dict[str, Any]:
    """`--json`'s labour part: every request, every line."""
    return {
        "requests": [
            {
                "request_id": r.request_id,
                "employer_key": r.employer_key,
                "industry": r.industry,
                "region": r.region,
                "project": r.project,
                "year": r.year,
                "submitted_on": r.submitted_on.isoformat(),
                "recorded": r.recorded,
                "recorded_rule": r.recorded_rule,
                "draft": r.drafted,
                "draft_rule": r.drafted_rule,
                "newly_refused": r.newly_refused,
                "undetermined": r.unknown,
            }
            for r in labour.requests
        ],
        "lines": [
            {
                "industry": line.industry,
                "region": line.region,
                "project": line.project,
                "year": line.year,
                "held": line.held,
                "needed": line.needed,
                "draft_places": line.places,
                "short": line.short,
                "beyond_places": list(line.over),
            }
            for line in labour.lines
        ],
    }


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
