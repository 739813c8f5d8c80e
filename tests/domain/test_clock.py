"""Case time and calendar arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from domain.calendar import add_months, add_years
from domain.clock import SECONDS_PER_YEAR, CaseClock, CaseTime

ORIGIN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


def test_real_time_is_the_identity() -> None:
    clock = CaseClock(origin=ORIGIN)
    assert clock.speedup == 1
    later = ORIGIN + timedelta(days=3, seconds=7)
    assert clock.case_time(later) == later
    assert clock.wall_delay(timedelta(hours=5)) == timedelta(hours=5)


def test_demo_compresses_a_year_into_24_seconds() -> None:
    clock = CaseClock(origin=ORIGIN, seconds_per_year=24)
    assert clock.speedup == SECONDS_PER_YEAR / 24
    assert clock.case_time(ORIGIN) == ORIGIN
    assert clock.case_time(ORIGIN + timedelta(seconds=24)) == ORIGIN + YEAR
    assert clock.case_time(ORIGIN + timedelta(seconds=12)) == ORIGIN + YEAR / 2
    assert clock.wall_delay(YEAR) == timedelta(seconds=24)
    assert clock.wall_delay(5 * YEAR) == timedelta(minutes=2)  # a whole contract


def test_case_time_before_origin_runs_backwards_compressed() -> None:
    clock = CaseClock(origin=ORIGIN, seconds_per_year=24)
    assert clock.case_time(ORIGIN - timedelta(seconds=24)) == ORIGIN - YEAR


def test_negative_delays_never_sleep() -> None:
    clock = CaseClock(origin=ORIGIN, seconds_per_year=24)
    assert clock.wall_delay(-YEAR) == timedelta(0)


def test_wall_delay_then_case_time_round_trips_within_rounding() -> None:
    clock = CaseClock(origin=ORIGIN, seconds_per_year=24)
    for delay in (timedelta(days=1), timedelta(days=90), 5 * YEAR):
        back = clock.case_time(ORIGIN + clock.wall_delay(delay)) - ORIGIN
        # wall time has microsecond resolution, so case time is exact to `speedup` microseconds
        assert abs(back - delay) <= timedelta(microseconds=clock.speedup)


def test_case_time_keeps_the_origin_time_zone() -> None:
    almaty = timezone(timedelta(hours=5))
    clock = CaseClock(origin=ORIGIN.astimezone(almaty), seconds_per_year=24)
    assert clock.case_time(ORIGIN + timedelta(seconds=24)) == ORIGIN + YEAR
    assert clock.case_time(ORIGIN + timedelta(seconds=24)).utcoffset() == timedelta(hours=5)


def test_naive_origin_is_refused() -> None:
    with pytest.raises(ValidationError, match="origin must be timezone-aware"):
        CaseClock(origin=datetime(2026, 3, 2, 9, 0))


@pytest.mark.parametrize("seconds", [0, 0.001, -1, SECONDS_PER_YEAR + 1])
def test_scale_out_of_range_is_refused(seconds: float) -> None:
    with pytest.raises(ValidationError, match="seconds_per_year must be between"):
        CaseClock(origin=ORIGIN, seconds_per_year=seconds)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 4, 1), 0, date(2026, 4, 1)),
        (date(2026, 4, 1), 60, date(2031, 4, 1)),
    ],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2028, 2, 29), 1, date(2029, 2, 28)),
        (date(2028, 2, 29), 4, date(2032, 2, 29)),
        (date(2026, 4, 1), 5, date(2031, 4, 1)),
    ],
)
def test_add_years(day: date, years: int, expected: date) -> None:
    assert add_years(day, years) == expected


# ---- case time on a `waits` clock (docs/decisions/021) ----------------------------------------
def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_a_waits_clock_stands_still_between_waits() -> None:
    time = CaseTime(CaseClock(origin=ORIGIN, seconds_per_year=24))
    assert time.now(ORIGIN) == ORIGIN
    assert time.now(ORIGIN + seconds(600)) == ORIGIN  # ten minutes of calls, queues, a load


def test_a_wait_reaches_its_date_on_its_timer_however_late_it_fires() -> None:
    time = CaseTime(CaseClock(origin=ORIGIN, seconds_per_year=24))
    due = ORIGIN + YEAR / 2
    wait = time.begin(ORIGIN, due)
    assert time.now(ORIGIN + seconds(6)) == ORIGIN  # the wall is never read
    time.end(wait, ORIGIN + seconds(300), timed_out=True)  # the timer fired 288 s late
    assert time.now(ORIGIN + seconds(900)) == due


def test_a_wait_ended_by_input_leaves_the_time_where_it_stood() -> None:
    time = CaseTime(CaseClock(origin=ORIGIN, seconds_per_year=24))
    wait = time.begin(ORIGIN, ORIGIN + YEAR)
    time.end(wait, ORIGIN + seconds(6), timed_out=False)
    assert time.now(ORIGIN + seconds(60)) == ORIGIN
    # a round's word brings a waiting family up to the round's time, never back
    time.reach(ORIGIN + YEAR / 4)
    time.reach(ORIGIN + YEAR / 8)
    assert time.now(ORIGIN) == ORIGIN + YEAR / 4


def test_concurrent_waits_each_reach_their_date_and_time_never_goes_back() -> None:
    time = CaseTime(CaseClock(origin=ORIGIN, seconds_per_year=24))
    near, far = ORIGIN + YEAR / 12, ORIGIN + YEAR
    watch = time.begin(ORIGIN, near)
    step = time.begin(ORIGIN + seconds(1), far)
    time.end(watch, ORIGIN + seconds(10), timed_out=True)
    assert time.now(ORIGIN + seconds(10)) == near
    past = time.begin(ORIGIN + seconds(16), ORIGIN)  # a date already gone: no step back
    time.end(past, ORIGIN + seconds(17), timed_out=True)
    assert time.now(ORIGIN + seconds(17)) == near
    time.end(step, ORIGIN + seconds(40), timed_out=True)
    assert time.now(ORIGIN + seconds(41)) == far


def test_a_continued_run_starts_where_the_case_time_stood() -> None:
    time = CaseTime(CaseClock(origin=ORIGIN, seconds_per_year=24))
    wait = time.begin(ORIGIN, ORIGIN + YEAR)
    time.end(wait, ORIGIN + seconds(30), timed_out=True)
    carried = time.carried(ORIGIN + seconds(31))
    assert carried.reached == ORIGIN + YEAR
    assert CaseTime(carried).now(ORIGIN + seconds(500)) == ORIGIN + YEAR


def test_a_wall_clock_and_real_time_read_the_wall() -> None:
    wall = CaseTime(CaseClock(origin=ORIGIN, seconds_per_year=24, moves="wall"))
    assert wall.now(ORIGIN + seconds(24)) == ORIGIN + YEAR
    real = CaseTime(CaseClock(origin=ORIGIN))
    wait = real.begin(ORIGIN, ORIGIN + YEAR)
    assert real.now(ORIGIN + seconds(5)) == ORIGIN + seconds(5)
    real.end(wait, ORIGIN + YEAR + seconds(99), timed_out=True)
    assert real.now(ORIGIN + YEAR + seconds(99)) == ORIGIN + YEAR + seconds(99)
    assert real.carried(ORIGIN).reached is None
