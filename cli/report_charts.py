"""`kosh report --charts DIR`: the regions' picture drawn (matplotlib), one SVG per question,
each bar labelled with its figure and its text kept as text (cli/policy_charts.py's way)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cli.policy_charts import DRAFT, QUOTA, RECORDED, _grouped, draw_each
from domain.regions_report import Report

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def write_report_charts(found: Report, folder: Path) -> list[Path]:
    """The report's charts, written into `folder` (made if missing); their paths."""
    charts = (
        ("quota-use", _quota),
        ("retention", _retention),
        ("support-and-clawback", _money),
        ("stage-waits", _stages),
        ("refusals-by-gate", _refusals),
        ("labour-places", _labour),
    )
    return draw_each(folder, charts, found)


def _empty(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in the record", ha="center", va="center")
    ax.set_axis_off()


def _quota(ax: Axes, r: Report) -> None:
    if not r.quota:
        return _empty(ax, "quota places")
    labels = [f"{q.region} {q.year}" for q in r.quota]
    _grouped(
        ax,
        labels,
        [
            ("held", [q.held for q in r.quota], DRAFT),
            ("capacity", [q.capacity for q in r.quota], QUOTA),
        ],
    )
    ax.set_title("Kandas places held against the quota, per region and year")


def _retention(ax: Axes, r: Report) -> None:
    lines = [x for x in r.retention if any(seen for _, seen, _ in x.months)]
    if not lines:
        return _empty(ax, "arrivals")
    for line in lines:
        points = [(m, 100 * stayed / seen) for m, seen, stayed in line.months if seen]
        ax.plot(
            [m for m, _ in points],
            [p for _, p in points],
            marker="o",
            label=f"{line.region}, arrived {line.arrived_in} ({line.families})",
        )
    ax.set_ylim(0, 105)
    ax.set_xlabel("months since arrival")
    ax.set_ylabel("% still in the region (of those seen that far)")
    ax.legend(frameon=False, fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Kandas families still in their region")


def _money(ax: Axes, r: Report) -> None:
    if not r.money:
        return _empty(ax, "contracts")
    _grouped(
        ax,
        [m.region for m in r.money],
        [
            ("support paid", [m.paid_tiyn / 100 for m in r.money], DRAFT),
            ("clawback demanded", [m.demanded_tiyn / 100 for m in r.money], QUOTA),
            ("repaid", [m.repaid_tiyn / 100 for m in r.money], RECORDED),
        ],
    )
    ax.set_title("Support paid against clawback demanded and repaid (KZT), per region")


def _stages(ax: Axes, r: Report) -> None:
    if not r.stages:
        return _empty(ax, "cases")
    _grouped(
        ax,
        [s.stage for s in r.stages],
        [
            ("median days of the stays that ended", [s.median_days or 0 for s in r.stages], DRAFT),
            (
                "median days so far, waiting now",
                [s.waiting_median_days or 0 for s in r.stages],
                QUOTA,
            ),
        ],
    )
    ax.set_title("Where cases wait and how long (case days)")


def _refusals(ax: Axes, r: Report) -> None:
    if not r.refusals:
        return _empty(ax, "refusals")
    by_gate: dict[str, int] = {}
    for x in r.refusals:
        by_gate[x.gate] = by_gate.get(x.gate, 0) + x.cases
    _grouped(ax, list(by_gate), [("cases refused", list(by_gate.values()), DRAFT)])
    ax.set_title("Refusals by gate")


def _labour(ax: Axes, r: Report) -> None:
    if not r.labour:
        return _empty(ax, "labour places")
    _grouped(
        ax,
        [f"{x.industry}, {x.region} {x.year}" for x in r.labour],
        [("places held", [x.held for x in r.labour], DRAFT)],
    )
    ax.set_title("Labour places held, per industry, region and year")
