"""`kosh report`: the regions' picture from the record (domain/regions_report.py): quota use,
kandas retention, support against clawback, where cases wait, refusals by gate and labour
places; as tables, JSON, or SVG charts. Reads the record in one read-only snapshot."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.common import JsonFlag, StateOpt, _emit, out
from cli.connect import with_record
from cli.published import record_versions
from cli.report_charts import write_report_charts
from cli.tables import row, table
from domain.regions_report import Report, ReportBuilder
from store.pool import Conn
from store.streams import case_streams, labour_streams


def report_cmd(
    charts: Annotated[
        Path | None,
        typer.Option(
            "--charts",
            help="Also draw the picture as SVG charts into this folder.",
            file_okay=False,
        ),
    ] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """The regions' picture from the record: quota use per region and year, kandas families
    still in their region by months since arrival, support paid against clawback demanded and
    repaid, where cases wait and how long, refusals by gate, labour places per industry."""
    record_versions(state)

    async def read(conn: Conn) -> Report:
        builder = ReportBuilder()  # one stream at a time: memory does not grow with the cases
        async for events in case_streams(conn):
            builder.add_case(events)
        async for request in labour_streams(conn):
            builder.add_request(request)
        return builder.result()

    found = with_record(state, read)
    drawn = write_report_charts(found, charts) if charts is not None else []
    if as_json:
        _emit(report_record(found) | {"charts": [str(p) for p in drawn]}, True, "")
        return
    _print(found)
    for path in drawn:
        out.print(f"chart: {escape(str(path))}", highlight=False)


def report_record(r: Report) -> dict[str, Any]:
    record = dataclasses.asdict(r)
    record["quota"] = [dataclasses.asdict(q) | {"held": q.held} for q in r.quota]
    return record


def _print(r: Report) -> None:
    out.print(
        f"[bold]{r.cases}[/bold] cases in the record; closed: "
        + (", ".join(f"{k} {v}" for k, v in r.closed.items()) or "none")
    )
    quota = table(
        "Kandas places per region and year",
        "Region",
        "Year",
        "Capacity",
        "Reserved",
        "Released",
        "Held",
    )
    for q in r.quota:
        row(
            quota,
            q.region,
            str(q.year),
            str(q.capacity),
            str(q.reserved),
            str(q.released),
            str(q.held),
        )
    out.print(quota)
    months = [m for m, _, _ in r.retention[0].months] if r.retention else []
    kept = table(
        "Families still in their region (of those seen that far)",
        "Region",
        "Arrived",
        "Families",
        *(f"{m} mo" for m in months),
    )
    for x in r.retention:
        shares = [f"{stayed}/{seen}" if seen else "-" for _, seen, stayed in x.months]
        row(kept, x.region, str(x.arrived_in), str(x.families), *shares)
    out.print(kept)
    money = table(
        "Support and clawback per region of the contract (KZT)",
        "Region",
        "Contracts",
        "Paid",
        "Demanded",
        "Repaid",
    )
    for m in r.money:
        row(
            money,
            m.region,
            str(m.contracts),
            _kzt(m.paid_tiyn),
            _kzt(m.demanded_tiyn),
            _kzt(m.repaid_tiyn),
        )
    out.print(money)
    stages = table(
        "Where cases wait (case days)",
        "Stage",
        "Stays ended",
        "Median",
        "Longest",
        "Waiting now",
        "Median so far",
    )
    for s in r.stages:
        row(
            stages,
            s.stage,
            str(s.ended),
            _days(s.median_days),
            _days(s.longest_days),
            str(s.waiting_now),
            _days(s.waiting_median_days),
        )
    out.print(stages)
    refused = table("Refusals by gate", "Gate", "Reason", "Cases")
    for no in r.refusals:
        row(refused, no.gate, no.reason, str(no.cases))
    out.print(refused)
    labour = table("Labour places held", "Industry", "Region", "Year", "Held")
    for lp in r.labour:
        row(labour, lp.industry, lp.region, str(lp.year), str(lp.held))
    out.print(labour)


def _kzt(tiyn: int) -> str:
    return f"{tiyn / 100:,.2f}"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"
