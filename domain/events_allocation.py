"""The events of a kandas family's candidacy in the ranked allocation rounds
(docs/decisions/014; part of the union in domain/events.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from domain.event_base import EventBase
from domain.regions import Region


class CandidacyLodged(EventBase):
    """The kandas family waits for a place in its preferred regions' allocation rounds,
    ranked by its frozen score (the ScoreComputed total), ties by its submission time."""

    type: Literal["CandidacyLodged"] = "CandidacyLodged"
    score: int
    submitted_at: AwareDatetime
    regions: tuple[Region, ...]


class AllocationGranted(EventBase):
    """A round offered the family a place (its QuotaPlaceReserved follows in the same append)."""

    type: Literal["AllocationGranted"] = "AllocationGranted"
    round_id: str
    number: int
    region: Region
    rank: int
    cut_off: int | None


class AllocationNotReached(EventBase):
    """A round's places went to better-ranked candidates: the family stays a candidate."""

    type: Literal["AllocationNotReached"] = "AllocationNotReached"
    round_id: str
    number: int
    region: Region
    rank: int
    cut_off: int | None = Field(description="the lowest score offered a place (None: none)")


class MovedToGeneralTrack(EventBase):
    """The permit stands without a quota place or support: the family chose it, or its rounds
    ran out (the policy's `allocation.rounds_not_reached`)."""

    type: Literal["MovedToGeneralTrack"] = "MovedToGeneralTrack"
    reason: Literal["applicant_chose", "rounds_exhausted"]
    detail: str
