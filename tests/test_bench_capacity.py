"""bench/capacity.py's pure parts: the quota plan, the clocks, the tables, the "bounded"
verdict, the section it rewrites in docs/performance.md, and that the doc carries a measured
capacity section with its command. No timed assertions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bench import capacity_prototypes
from bench.capacity_prototypes import (
    Prototype,
    clock_through,
    plan_places,
    prototype_seconds_per_year,
)
from bench.capacity_record import due_wave
from bench.capacity_report import (
    MARK_BEGIN,
    MARK_END,
    Phase,
    Result,
    Wave,
    arithmetic,
    bounded,
    cpu_table,
    failures_sentence,
    keeping_up,
    memory_sentence,
    percentile,
    report,
    rss_range,
    start_table,
    wave_table,
)
from bench.capacity_stack import parse_metrics
from bench.common import marks
from domain import events as ev
from domain.policy import PolicyYearError, policy_in_force
from domain.regions import LABOUR_DEFICIT_REGIONS
from store.records import StoredEvent
from tests.store.factories import application

ROOT = Path(__file__).resolve().parent.parent


def wave(index: int, worker: list[float], wakes: int = 100) -> Wave:
    return Wave(
        index=index,
        seconds=60,
        wakes=wakes,
        worker_mib=worker,
        server_mib=[300.0, 310.0, 305.0],
        workflow_tasks=3 * wakes,
        cache_misses=wakes - 5,
        evictions=wakes - 4,
        lag_p50=0.4,
        lag_p95=1.25,
    )


def measured() -> Result:
    r = Result(cases=100, cache=20, wave_seconds=60, seconds_per_year=240.7, prototypes=1)
    r.worker_mib_started, r.server_mib_started, r.cached_started = 180.4, 290.6, 20
    cpu = {"Temporal server": 2.2, "kosh worker": 0.3}
    r.phases = {
        "seed": Phase("records appended", 100, 1.6),
        "start": Phase("cases started", 100, 4.0, cpu),
        "asleep": Phase("first tasks run (asleep)", 100, 6.0),
        "waves": Phase("3 waves", 300, 180.0, {"Temporal server": 30.0, "kosh worker": 39.0}),
    }
    r.waves = [wave(1, [200, 230, 220]), wave(2, [210, 240, 225]), wave(3, [205, 236, 230])]
    return r


def test_rss_range_is_min_max_last_and_percentiles_pick_from_the_sorted_values() -> None:
    assert rss_range([210.2, 250.9, 230.0]) == "210 / 251 / 230"
    assert rss_range([]) == "-"
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.95) == 5.0
    assert percentile([], 0.5) == 0.0


@pytest.mark.parametrize(
    ("peaks", "verdict"),
    [
        ([[200, 230], [210, 240], [205, 236]], True),  # a few MiB up and down: bounded
        ([[200, 230], [230, 260], [260, 290]], False),  # grows wave after wave
        ([[200, 278], [272, 311], [291, 312]], True),  # a warm-up in the first wave, then flat
        ([[200, 278], [272, 311], [291, 312], [300, 330]], False),  # grows again in the fourth
        ([[200, 230], [210, 240]], False),  # a warm-up and one wave prove nothing
        ([[200, 230], [210, 240], []], False),  # a wave without samples proves nothing either
    ],
)
def test_bounded_compares_each_wave_after_the_warm_up_with_the_one_before(
    peaks: list[list[float]], verdict: bool
) -> None:
    assert bounded([wave(i, p) for i, p in enumerate(peaks, 1)]) is verdict


def test_the_plan_fills_each_region_quota_year_after_year_leaving_a_place_per_prototype() -> None:
    assert plan_places(500, 2027) == [("Pavlodar", 2027, 500)]
    places = plan_places(11000, 2027)
    assert sum(clones for _, _, clones in places) == 11000
    policy = policy_in_force(datetime(2027, 3, 1).date())
    for region, year, clones in places:
        assert region in LABOUR_DEFICIT_REGIONS
        assert 0 < clones <= policy.quota(region, year) - 1
    years = sorted({year for _, year, _ in places})
    assert years == list(range(2027, 2032))  # the years 2026.1 projects quotas for
    assert len(set((r, y) for r, y, _ in places)) == len(places)  # one prototype per place


def test_the_plan_refuses_clones_beyond_the_years_the_policy_gives_places_for() -> None:
    """2,281 places a year, less a prototype's per region, for 2027-2031: 11,365 clones."""
    assert sum(c for _, _, c in plan_places(11365, 2027)) == 11365
    with pytest.raises(PolicyYearError, match="20000 clones need kandas places beyond 2031"):
        plan_places(20000, 2027)


def test_a_clock_through_a_point_reads_that_case_time_there_and_runs_compressed() -> None:
    wall = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    case = datetime(2031, 2, 14, 12, 0, tzinfo=UTC)
    clock = clock_through(wall, case, seconds_per_year=240.0)
    assert abs((clock.case_time(wall) - case).total_seconds()) < 1
    later = clock.case_time(wall + timedelta(seconds=60))
    assert abs((later - case).total_seconds() - 60 * clock.speedup) < 1


def test_a_wake_counts_in_the_wave_it_was_due_in() -> None:
    assert due_wave(1000.0, first_wave=1000.0, wave_seconds=60) == 1
    assert due_wave(1059.9, first_wave=1000.0, wave_seconds=60) == 1
    assert due_wave(1060.0, first_wave=1000.0, wave_seconds=60) == 2
    assert due_wave(995.0, first_wave=1000.0, wave_seconds=60) == 1  # woke a little early


def test_metrics_are_summed_over_their_labels() -> None:
    text = "\n".join(
        [
            "# HELP temporal_sticky_cache_size cached workflows",
            'temporal_sticky_cache_size{task_queue="kosh-cases"} 20',
            'temporal_workflow_task_execution_latency_count{workflow_type="A"} 7',
            'temporal_workflow_task_execution_latency_count{workflow_type="B"} 5',
        ]
    )
    totals = parse_metrics(text)
    assert totals["temporal_sticky_cache_size"] == 20
    assert totals["temporal_workflow_task_execution_latency_count"] == 12


def test_the_tables_and_the_report_name_the_command_and_the_verdict() -> None:
    r = measured()
    start = start_table(r).splitlines()
    assert start[2] == "| 100 | 1 | 2 | 4 | 25.0 | 10 | 291 | 180 | 20 (20) |"
    waves = wave_table(r).splitlines()
    assert (
        waves[2]
        == "| 1 | 60 | 100 of 100 | 300 | 95 / 96 | 0.4 / 1.2 | 200 / 230 / 220 | 300 / 310 / 305 |"
    )
    assert len(waves) == 2 + 3
    cpu = cpu_table(r).splitlines()
    assert cpu[3].startswith("| cases started | 100 | 4 | 2 | 0 |") and cpu[3].endswith(" 22 / 3 |")
    text = report(r, ["--cases", "100", "--cache", "20"])
    assert text.startswith(MARK_BEGIN) and text.endswith(MARK_END)
    assert "`python -m bench.capacity --cases 100 --cache 20`" in text
    assert "KOSH_MAX_CACHED_WORKFLOWS=20" in text
    assert (
        "no wave peaked more than 5% above the wave before): True; its peak from wave to " in text
    )
    assert "wave: +4.3%, -1.7%." in text
    assert "at most 20 cases are kept in memory" in text and "130 ms of worker CPU" in text
    other = report(r, ["--cases", "100"], "capacity-20000")
    assert other.startswith("<!-- bench:capacity-20000:begin -->")
    assert other.endswith("<!-- bench:capacity-20000:end -->")
    assert "(291 MiB after the starts here, 310 MiB at most over the waves)" in text


def test_the_report_says_whether_the_server_and_worker_kept_up_with_the_waves() -> None:
    r = measured()
    text = keeping_up(r)
    assert "Every case woke once in every wave (1.7 wakes a second)" in text
    assert "half the wakes within 0 s of their due moment and 95% within 1 s" in text
    r.waves[2].wakes, r.waves[1].lag_p95 = 80, 20.0
    text = keeping_up(r)
    assert "did not keep up" in text and "(wave 3: 80 of 100)" in text
    assert "the p95 lag reached 20 s" in text


def test_the_arithmetic_scales_the_cpu_per_case_and_per_wake_to_20000_cases() -> None:
    text = arithmetic(measured(), cpus=2)
    # 25 ms per case started, 230 ms per wake, two CPUs: 4 min to start, 38 per wave.
    assert "25 ms of CPU per case" in text and "230 ms per wake" in text
    assert "about 4 min to start them and 38 min for each wave, 119 min" in text
    assert "hence 100 cases" in text


def test_the_performance_doc_carries_a_measured_capacity_section_and_its_command() -> None:
    doc = (ROOT / "docs" / "performance.md").read_text()
    section = doc[doc.index(MARK_BEGIN) : doc.index(MARK_END)]
    assert "python -m bench.capacity" in section
    assert "| open cases |" in section and "| wave |" in section
    assert "KOSH_MAX_CACHED_WORKFLOWS=" in section


def test_a_prototype_captured_with_an_obligation_overdue_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its clones would all be due the moment they start: no waves to measure."""
    last = datetime(2030, 12, 20, 23, 0, tzinfo=UTC)
    event = ev.DocumentsVerified(policy_id="2026.1", at=last)
    stored = StoredEvent(
        position=1, case_id="p", seq=1, event_id="e", event=event, recorded_at=last
    )
    p = Prototype("cap-p000", "Pavlodar", 2030, 10, application(), events=[stored])
    monkeypatch.setattr(capacity_prototypes, "next_wakeup", lambda state: date(2031, 1, 3))
    assert p.overdue() is None
    monkeypatch.setattr(capacity_prototypes, "next_wakeup", lambda state: date(2030, 10, 3))
    assert "obligation due 2030-10-03 before its last event (2030-12-20)" in (p.overdue() or "")
    assert prototype_seconds_per_year(2) == 24.0 and prototype_seconds_per_year(69) == 69.0


def test_a_one_wave_run_says_it_cannot_show_boundedness_and_failures_are_not_hidden() -> None:
    r = measured()
    r.waves = r.waves[:1]
    text = memory_sentence(r)
    assert "One wave cannot show whether the worker's memory stays bounded" in text
    assert "180 MiB with every case asleep and at most" in text
    assert "stayed bounded" in memory_sentence(measured())
    r.failures = 1
    assert "failed: 1, each retried by Temporal" in failures_sentence(r)
    assert "every append found the record" not in failures_sentence(r)
    r.cases = 20000
    assert arithmetic(r, cpus=2).endswith("with three waves.")


def test_the_20000_case_section_carries_its_command() -> None:
    doc = (ROOT / "docs" / "performance.md").read_text()
    begin, end = marks("capacity-20000")
    section = doc[doc.index(begin) : doc.index(end)]
    assert "python -m bench.capacity --cases 20000" in section
    assert "| 20000 |" in section


def test_the_six_wave_section_carries_its_command() -> None:
    doc = (ROOT / "docs" / "performance.md").read_text()
    begin, end = marks("capacity-6-waves")
    section = doc[doc.index(begin) : doc.index(end)]
    assert (
        "python -m bench.capacity --cases 1000 --cache 200 --wave-seconds 240 --waves 6" in section
    )
    assert "| 6 | 240 | 1000 of 1000 |" in section
