"""bench/event_store.py: its report (pure parts), the case lives it appends, the figures in
docs/performance.md, and one small real run whose quota counts must be exact."""

from __future__ import annotations

import random
from pathlib import Path

from bench.event_store import measure, parse
from bench.event_store_lives import TEMPLATE_ID, CaseLog, case_life, plan, rebatched
from bench.event_store_paths import raw_rows
from bench.event_store_report import (
    MARK_BEGIN,
    MARK_END,
    Options,
    QuotaCheck,
    Results,
    parts_table,
    report,
    table,
    verdict,
)
from bench.event_store_timing import PYTHON, PathRates, Sample
from domain import events as ev
from store.embedded import EmbeddedPostgres

ROOT = Path(__file__).resolve().parent.parent


def rates(name: str, *per_round: float) -> PathRates:
    """A path that did 1,000 units in each round at the given rates (CPU: 1 ms per unit)."""
    return PathRates(name, [Sample(1000, 1000 / r, 1.0, 2.0) for r in per_round])


def appends(kosh: float = 300) -> list[PathRates]:
    return [
        rates("kosh", kosh, kosh),
        rates("alone", 1000, 1000),
        rates("many", 2000, 2000),
        rates("copy", 1500, 1500),
    ]


def test_a_ratio_is_the_median_of_the_rounds_ratios_and_the_table_shows_it() -> None:
    kosh = rates("kosh", 100, 300, 200)
    raw = rates("raw", 400, 400, 1000)  # round by round: 0.25, 0.75, 0.20
    assert kosh.rate == 200 and raw.rate == 400
    assert kosh.ratio_of(raw) == 0.25
    lines = table([kosh, raw], "event").splitlines()
    assert lines[0].startswith(
        "| path | events/s | slowest–fastest round | kosh ÷ path (median of rounds) |"
    )
    assert lines[2] == "| kosh | 200 | 100–300 | 1.00 | 1,000 | 2,000 |"
    assert lines[3] == "| raw | 400 | 400–1,000 | 0.25 | 1,000 | 2,000 |"


def test_the_verdict_says_where_the_time_goes_only_below_the_goal() -> None:
    below = verdict(appends(kosh=300))
    assert "0.15 of raw `executemany`'s rate and 0.20 of COPY's" in below
    assert "is below the goal of 0.5" in below
    assert "would take 30%. The projections take the other 70%" in below
    assert "The projections take the other 70%, though they ride in the same statement" in below
    above = verdict(appends(kosh=1200))
    assert "meets the goal" in above and "projections" not in above


def test_the_parts_of_an_append_add_up_to_the_whole() -> None:
    lines = parts_table({"COMMIT (the WAL flush)": 300.0, PYTHON: 100.0}).splitlines()
    assert lines[2] == "| COMMIT (the WAL flush) | 300 | 75% |"
    assert lines[3].endswith("| 100 | 25% |")


def check(granted: int = 200) -> QuotaCheck:
    return QuotaCheck(200, 400, 16, granted, 400 - granted, granted, granted, granted)


def test_the_quota_check_is_correct_only_when_every_count_is_the_capacity() -> None:
    assert check().ok and check().sentence().endswith(": correct.")
    assert "200 granted, 200 refused with QuotaExhaustedError" in check().sentence()
    assert not check(granted=201).ok and check(granted=201).sentence().endswith(": WRONG.")
    stored_twice = QuotaCheck(200, 400, 16, 200, 200, 200, 201, 200)
    assert not stored_twice.ok


def test_the_report_is_the_marked_section_with_its_command_and_tables() -> None:
    argv = ["--events", "100", "--write", "docs/performance.md"]
    options, write = parse(argv)
    assert (options.events, write) == (100, Path("docs/performance.md"))
    results = Results(
        appends=appends(),
        reservations=[rates("kosh", 150, 150), rates("bare", 1500, 1500)],
        check=check(),
        events=102,
        cases=3,
        mean_batch=1.0,
        parts=(102, {"COMMIT (the WAL flush)": 300.0, PYTHON: 100.0}),
    )
    text = report(results, options, argv)
    assert text.startswith(MARK_BEGIN) and text.endswith(MARK_END)
    assert "`python -m bench.event_store --events 100 --write docs/performance.md`" in text
    assert "CPUs" in text and "GiB" in text
    assert "| path | events/s |" in text and "| path | places/s |" in text
    assert "in batches as the decider emits them (mean 1.00 events)" in text
    assert "runs at 0.10 of the bare UPDATE's rate" in text
    assert check().sentence() in text


def test_a_case_life_is_what_the_decider_emits_one_decision_at_a_time() -> None:
    life = case_life(TEMPLATE_ID, random.Random(1), months=3, year=2026)
    types = [e.type for batch in life for e in batch]
    assert types[0] == "ApplicationSubmitted" and types.count("QuotaPlaceReserved") == 1
    assert "SocialContractSigned" in types and "SupportPaid" in types
    assert rebatched(life, 0) is life
    regrouped = rebatched(life, 4)
    assert [e for b in regrouped for e in b] == [e for b in life for e in b]
    assert all(len(b) == 4 for b in regrouped[:-1]) and 1 <= len(regrouped[-1]) <= 4
    [case] = plan([life], events=1, batch=0, tag="t", year0=4000)
    events = [e for b in case.batches for e in b]
    assert all(TEMPLATE_ID not in e.model_dump_json() for e in events)
    [quota] = [e for e in events if isinstance(e, ev.QuotaPlaceReserved)]
    assert quota.year == 4000
    assert case.offsets[:3] == [0, 1, 2]


def test_raw_rows_chain_their_hashes_case_by_case() -> None:
    life = case_life(TEMPLATE_ID, random.Random(2), months=1, year=2026)
    case = CaseLog("c-raw", life)
    first, second = raw_rows(case, 0), raw_rows(case, 1)
    assert first[0][:2] == ("c-raw", 1) and second[0][:2] == ("c-raw", 2)
    assert first[0][9] is None and second[0][9] == first[0][10]


def test_the_performance_doc_carries_measured_store_figures_and_their_command() -> None:
    doc = (ROOT / "docs" / "performance.md").read_text()
    section = doc[doc.index(MARK_BEGIN) : doc.index(MARK_END)]
    assert "`python -m bench.event_store" in section and "Measured" in section
    assert "| kosh `append_events` (with projections) |" in section
    assert "| raw asyncpg `executemany` |" in section and "| path | places/s |" in section
    assert ": correct." in section


async def test_a_small_real_run_grants_exactly_the_capacity(tmp_path: Path) -> None:
    options = Options(events=300, writers=2, reservers=4, reservations=40, rounds=1, months=3)
    with EmbeddedPostgres(tmp_path / "pgdata", database="kosh_bench") as pg:
        results = await measure(pg.url, pg.pid, options)
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
    assert results.check.ok, results.check.sentence()
    assert (results.check.granted, results.check.refused) == (20, 20)
    assert results.events >= 300 and results.mean_batch >= 1.0
    assert all(len(p.samples) == 1 and p.rate > 0 for p in results.appends)
    assert all(len(p.samples) == 1 and p.rate > 0 for p in results.reservations)


def test_the_state_experiment_runs_both_ways_and_puts_the_state_back(
    capsys: object, tmp_path: Path
) -> None:
    """bench/event_store_state.py, small: three passes (whole, cut, whole), each with its
    ratios; the projection's state writer is kosh's own again afterwards."""
    import store.projections as projections
    from bench.event_store_state import WHOLE, main

    main(["--events", "40", "--rounds", "1"])
    shown = capsys.readouterr().out.splitlines()  # type: ignore[attr-defined]
    assert [line.split(":")[0] for line in shown] == [
        "state written whole",
        "state cut to its stage",
        "state written whole",
    ]
    assert all("raw asyncpg `executemany`: 1.000" in line for line in shown)
    assert projections._state_json is WHOLE
