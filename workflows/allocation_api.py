"""The allocation round's public surface (docs/decisions/014): its name, input, result and
the schedules that start it, one per region. The CLI, `kosh dev` and the tests use this."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from domain.model import Model
from domain.regions import Region

WORKFLOW_NAME = "AllocationRoundWorkflow"
# The signal a candidate's case takes a round's word by (workflows/case/inputs.py); the round
# reads the case's answer by its `input_answer` query (docs/decisions/023: no update).
SIGNAL_ALLOCATION = "take_allocation"


def schedule_id(region: Region) -> str:
    """One schedule per region: `allocation-<region>` (also the prefix of its rounds' ids)."""
    return f"allocation-{region.lower().replace(' ', '-')}"


class RoundInput(Model):
    """A region's round. `seconds_per_year` and `origin` put it on a compressed case clock
    (the demo's); `size` caps the places it offers (the quota still bounds it); `scope`
    narrows it to case ids that start with it (a drill, a test); `round_id` names it (else
    the region and the period of its case date: one round per region and period)."""

    region: Region
    size: int | None = Field(default=None, ge=0)
    seconds_per_year: float | None = Field(default=None, ge=0.01)
    origin: datetime | None = None
    scope: str = Field(default="", max_length=100)
    round_id: str | None = Field(default=None, max_length=200)


class RoundResult(Model):
    round_id: str
    candidates: int
    granted: int
    not_reached: int
    cut_off: int | None
