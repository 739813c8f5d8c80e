"""bench/scaling.py's report (pure parts): ratios against the first round, the section it
rewrites in docs/scaling.md, and that the doc carries a measured section with its command."""

from __future__ import annotations

from pathlib import Path

from bench.scaling import MARK_BEGIN, MARK_END, Round, report, table

ROOT = Path(__file__).resolve().parent.parent


def test_ratios_are_against_the_first_round() -> None:
    rounds = [
        Round(workers=1, seconds=60, events=600, cases=30, closed=30, books_agree=True),
        Round(workers=2, seconds=30, events=600, cases=30, closed=30, books_agree=True),
    ]
    rounds[0].cpu, rounds[1].cpu = {"temporal server": 10.0}, {"temporal server": 12.5}
    lines = table(rounds).splitlines()
    assert lines[2].startswith("| 1 | 30/30 | 60.0 | 30.0 | 10 | 1.00 |")
    assert lines[3].startswith("| 2 | 30/30 | 30.0 | 60.0 | 20 | 2.00 |")
    assert lines[3].endswith(" 12.5 |")
    text = report(rounds, ["--cases", "30"])
    assert text.startswith(MARK_BEGIN) and text.endswith(MARK_END)
    assert "`python -m bench.scaling --cases 30`" in text
    assert "in every round: True" in text


def test_the_scaling_doc_carries_measured_figures_and_their_command() -> None:
    doc = (ROOT / "docs" / "scaling.md").read_text()
    section = doc[doc.index(MARK_BEGIN) : doc.index(MARK_END)]
    assert "python -m bench.scaling" in section and "| workers |" in section


def test_the_history_table_averages_per_path_and_the_doc_has_figures() -> None:
    from bench.history_cost import MARK_BEGIN as BEGIN
    from bench.history_cost import MARK_END as END
    from bench.history_cost import table as history_table

    lines = history_table({"kandas_fulfilled": [(5, 700, 320, 2048), (6, 710, 330, 4096)]})
    assert lines.splitlines()[2] == "| kandas_fulfilled | 2 | 5.5 | 705 | 330 | 3.0 |"
    doc = (ROOT / "docs" / "performance.md").read_text()
    section = doc[doc.index(BEGIN) : doc.index(END)]
    assert "python -m bench.history_cost" in section and "| kandas_fulfilled |" in section
