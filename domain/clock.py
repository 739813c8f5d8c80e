"""Case time: the policy's calendar, optionally compressed for demonstrations.

A real case runs at scale 1: a five-year contract takes five years. The demo compresses
time so a person can watch whole cases: with `seconds_per_year=24` five years pass in two
minutes of wall time. Domain rules always see case time; only timers see wall time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import field_validator

from domain.model import Model

SECONDS_PER_YEAR = 365 * 24 * 3600


class CaseClock(Model):
    """Maps wall time (the workflow's clock) to case time and back."""

    origin: datetime
    seconds_per_year: float = SECONDS_PER_YEAR

    @field_validator("origin")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        return value

    @field_validator("seconds_per_year")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not 0.01 <= value <= SECONDS_PER_YEAR:
            raise ValueError(f"seconds_per_year must be between 0.01 and {SECONDS_PER_YEAR}")
        return value

    @property
    def speedup(self) -> float:
        return SECONDS_PER_YEAR / self.seconds_per_year

    def case_time(self, wall: datetime) -> datetime:
        """The case-calendar instant that corresponds to a wall-clock instant."""
        return self.origin + (wall - self.origin) * self.speedup

    def wall_delay(self, case_delay: timedelta) -> timedelta:
        """How long to sleep in wall time for `case_delay` to pass in case time."""
        return max(case_delay / self.speedup, timedelta(0))
