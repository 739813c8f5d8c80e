"""Case time and calendar arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from domain.calendar import add_months, add_years
from domain.clock import SECONDS_PER_YEAR, CaseClock

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
