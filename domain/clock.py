"""Case time: the policy's calendar, optionally compressed for demonstrations.

A real case runs at scale 1: a five-year contract takes five years. The demo compresses
time so a person can watch whole cases: with `seconds_per_year=24` five years pass in two
minutes of wall time. Domain rules always see case time; only timers see wall time.

A compressed clock moves one of two ways (docs/decisions/021). `waits` (the demo's, and
every compressed case unless asked otherwise): case time moves only when a wait of the case
reaches its date (a timer, a person's deadline), to that date; a timer that fires late, a
queued task or a slow call costs the case no time, so a loaded machine slows a cohort down
without ageing it past the policy's years. `wall`: case
time is wall time compressed, as at scale 1 (a worker away for a day is a late wake); the
capacity bench and the late-wake tests ask for it, to measure and to provoke lateness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import field_validator

from domain.model import Model

SECONDS_PER_YEAR = 365 * 24 * 3600


class CaseClock(Model):
    """Maps wall time (the workflow's clock) to case time and back."""

    origin: datetime
    seconds_per_year: float = SECONDS_PER_YEAR
    moves: Literal["waits", "wall"] = "waits"
    # A compressed `waits` clock carried to a continued run: the case time its waits reached.
    reached: datetime | None = None

    @field_validator("origin")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        return value

    @field_validator("reached")
    @classmethod
    def _aware_reached(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("reached must be timezone-aware")
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

    @property
    def by_waits(self) -> bool:
        """Whether case time moves only while the case waits (a compressed `waits` clock)."""
        return self.speedup > 1 and self.moves == "waits"


@dataclass
class CaseTime:
    """One workflow's case time. On a `waits` clock it is moved only by the case's own waits:
    a wait that ends on its timer reaches the date it was for (however late the timer fired),
    a wait ended by input leaves it where it stood, and a round's word may bring it up to the
    round's time (`reach`). It never reads the wall, so a replay computes it from the history
    alone, however the replay groups the history's events into activations."""

    clock: CaseClock
    _base: datetime | None = None  # the case time the case's waits have reached
    _open: dict[int, datetime | None] = field(default_factory=dict)  # wait -> its date
    _next: int = 0

    def now(self, wall: datetime) -> datetime:
        if not self.clock.by_waits:
            return self.clock.case_time(wall)
        return self._base or self.clock.reached or self.clock.origin

    def begin(self, wall: datetime, until: datetime | None) -> int:
        """A wait begins (until: the case instant it waits for; None: no date)."""
        self._next += 1
        self._open[self._next] = until
        return self._next

    def end(self, wait: int, wall: datetime, *, timed_out: bool) -> None:
        """A wait ends: on its timer (it reached its date), or because what it waited for
        came (case time stands where it stood)."""
        until = self._open.pop(wait, None)
        if timed_out and until is not None:
            self.reach(until)

    def reach(self, instant: datetime) -> None:
        """Case time brought up to `instant` (never back) on a `waits` clock."""
        if self.clock.by_waits:
            self._base = max(self.now(instant), instant)

    def carried(self, wall: datetime) -> CaseClock:
        """The clock a continued run starts from (a `waits` clock carries its case time)."""
        if not self.clock.by_waits:
            return self.clock
        return self.clock.model_copy(update={"reached": self.now(wall)})
