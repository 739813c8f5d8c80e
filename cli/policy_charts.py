"""`kosh policy simulate --charts DIR`: a draft's impact drawn (matplotlib), one SVG per
question, each bar labelled with its figure and its text kept as text (searchable, readable
by a screen reader). Written files are stable: no date in them, the same ids on every run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.labour_simulation import LabourImpact
from domain.simulation import Impact

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RECORDED, DRAFT, QUOTA = "#7f8c8d", "#1f6feb", "#d29922"
DECISIONS = ("approve", "refer", "reject")


def write_charts(impact: Impact, labour: LabourImpact, folder: Path) -> list[Path]:
    """The charts of one simulation, written into `folder` (made if missing); their paths."""
    charts = (
        ("decisions", _decisions),
        ("kandas-places", _places),
        ("support-and-clawback", _money),
        ("labour-lines", _labour),
    )
    return draw_each(folder, charts, impact, labour)


def draw_each(folder: Path, charts: Sequence[tuple[str, Any]], *figures: Any) -> list[Path]:
    """Each named chart drawn from `figures` into `folder` as `<name>.svg`: text kept as
    text, no date, the same ids on every run; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "kosh", "font.size": 9})
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in charts:
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        draw(ax, *figures)
        path = folder / f"{name}.svg"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    return written


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, format="svg", metadata={"Date": None})


def _grouped(
    ax: Axes, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]]
) -> None:
    """Bars side by side per label, each labelled with its figure."""
    width = 0.8 / max(len(series), 1)
    for i, (name, values, colour) in enumerate(series):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        bars = ax.bar(xs, values, width, label=name, color=colour)
        ax.bar_label(bars, labels=[_figure(v) for v in values], fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 4 else 0, ha="right")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _figure(value: float) -> str:
    return f"{value:,.0f}"


def _decisions(ax: Axes, impact: Impact, labour: LabourImpact) -> None:
    scored = [c for c in impact.cases if c.recorded is not None]
    recorded = Counter(c.recorded.decision for c in scored if c.recorded)
    drafted = Counter(c.drafted.decision for c in scored if c.drafted)
    undetermined = sum(1 for c in scored if c.drafted is None)
    _grouped(
        ax,
        [*DECISIONS, "undetermined"],
        [
            ("recorded", [recorded[d] for d in DECISIONS] + [0], RECORDED),
            (f"draft {impact.draft}", [drafted[d] for d in DECISIONS] + [undetermined], DRAFT),
        ],
    )
    ax.set_title(f"Scored cases by decision ({len(scored)}), recorded and under the draft")
    ax.set_ylabel("cases")


def _places(ax: Axes, impact: Impact, labour: LabourImpact) -> None:
    lines = impact.places
    labels = [f"{p.region} {p.year}" for p in lines]
    _grouped(
        ax,
        labels,
        [
            ("held in the record", [p.held for p in lines], RECORDED),
            ("needed under the draft", [p.needed for p in lines], DRAFT),
            ("the draft's quota", [p.quota or 0 for p in lines], QUOTA),
        ],
    )
    ax.set_title("Kandas places per region and year")
    ax.set_ylabel("places")


def _money(ax: Axes, impact: Impact, labour: LabourImpact) -> None:
    m = impact.money()
    _grouped(
        ax,
        ["support paid", "clawback demanded"],
        [
            (
                "recorded",
                [m["support_paid_tiyn"] / 100, m["clawback_demanded_tiyn"] / 100],
                RECORDED,
            ),
            (
                f"draft {impact.draft}",
                [m["support_drafted_tiyn"] / 100, m["clawback_drafted_tiyn"] / 100],
                DRAFT,
            ),
        ],
    )
    ax.set_title("Support and clawback over the cases both versions price (KZT)")
    ax.set_ylabel("KZT")


def _labour(ax: Axes, impact: Impact, labour: LabourImpact) -> None:
    lines = labour.lines
    labels = [
        f"{line.industry} {line.region}{' ' + line.project if line.project else ''} {line.year}"
        for line in lines
    ]
    _grouped(
        ax,
        labels,
        [
            ("held in the record", [line.held for line in lines], RECORDED),
            ("needed under the draft", [line.needed for line in lines], DRAFT),
            ("the draft's places", [line.places or 0 for line in lines], QUOTA),
        ],
    )
    refused = len(labour.refused)
    ax.set_title(f"Labour places per quota line ({refused} requests the draft would refuse)")
    ax.set_ylabel("places")
