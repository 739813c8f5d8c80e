"""Ranked allocation of scarce kandas places: numbered rounds per region and period.

A kandas case whose permit is issued lodges its candidacy (its frozen score, the time it
submitted its application, its preferred regions) and waits. A region's round ranks every
waiting candidate who listed the region by frozen score, highest first, ties to the earlier
submission (Canada's rounds, POLICY-SOURCES), and offers the places the region has left in
the quota year (at most the round's size) to the best-ranked; the rest are not reached and
stay candidates until the policy's number of rounds runs out. A round's record is its own
stream (`round-<round id>`): what it ranked and offered, then what each candidate answered.
Pure functions only: the round workflow reads the candidates and the ledger, and records.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter

from domain.events import EventBase
from domain.model import Model
from domain.regions import Region

ROUND_STREAM_PREFIX = "round-"
# The first allocation period: round numbers count months from it (round 1 is 2026-01).
FIRST_PERIOD = (2026, 1)

Offer = Literal["offered", "not_reached"]
# What a candidate's case did with the round's word: took the place, was not reached, found
# the place gone (another round filled the region first: the ledger refused it), or was no
# longer waiting (closed, withdrawn, moved to the general track, a place held elsewhere).
Answer = Literal["granted", "not_reached", "place_gone", "not_waiting"]


class Candidate(Model):
    """A waiting kandas case as a round sees it (from the cases projection)."""

    case_id: str
    score: int = Field(description="the ScoreComputed total, frozen at the decision")
    submitted_at: AwareDatetime = Field(description="when the application was submitted")
    regions: tuple[Region, ...]


class Ranked(Model):
    """One line of a round's published list."""

    rank: int = Field(ge=1)
    case_id: str
    score: int
    submitted_at: AwareDatetime
    offer: Offer


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Highest frozen score first; a tie goes to the earlier submission (then the case id, so
    the order never depends on how the candidates were read)."""
    return sorted(candidates, key=lambda c: (-c.score, c.submitted_at, c.case_id))


def allot(candidates: Iterable[Candidate], places: int) -> tuple[Ranked, ...]:
    """The round's list: every candidate ranked, the first `places` offered a place."""
    return tuple(
        Ranked(
            rank=i,
            case_id=c.case_id,
            score=c.score,
            submitted_at=c.submitted_at,
            offer="offered" if i <= max(places, 0) else "not_reached",
        )
        for i, c in enumerate(rank(candidates), 1)
    )


def cut_off(ranked: Iterable[Ranked]) -> int | None:
    """The lowest score offered a place (None: nobody was)."""
    offered = [r.score for r in ranked if r.offer == "offered"]
    return min(offered) if offered else None


def places_for(capacity: int, in_use: int, size: int | None) -> int:
    """Places a round may offer: what the region's quota year has left, at most `size`."""
    left = max(capacity - in_use, 0)
    return left if size is None else min(left, max(size, 0))


def _period_index(year: int, month: int, months: int) -> int:
    return (year * 12 + month - 1) // months


def period_of(day: date, months: int = 1) -> str:
    """The allocation period of a case date, named by its first month (`2026-12`): periods of
    `months` months (the policy's `allocation.period_months`) from January."""
    first = _period_index(day.year, day.month, months) * months
    return f"{first // 12:04d}-{first % 12 + 1:02d}"


def round_number(day: date, months: int = 1) -> int:
    """A round's number: its period's place since the first period (2026-01 is round 1), so
    a region's rounds are numbered alike by every worker and every retry."""
    year, month = FIRST_PERIOD
    start = _period_index(year, month, months)
    return _period_index(day.year, day.month, months) - start + 1


def round_id(region: Region, day: date, *, months: int = 1, scope: str = "") -> str:
    """A region's round of a period: one per region and period (a duplicated round of the same
    period finds the same record). `scope` names a narrower cohort (tests, drills)."""
    slug = region.lower().replace(" ", "-")
    return f"{scope}{slug}-{period_of(day, months)}"


def round_stream(rid: str) -> str:
    return f"{ROUND_STREAM_PREFIX}{rid}"


# ---- the round's record ----------------------------------------------------------------------
class AllocationRoundHeld(EventBase):
    """The round's decision: who was ranked where and who is offered a place."""

    type: Literal["AllocationRoundHeld"] = "AllocationRoundHeld"
    round_id: str
    number: int
    region: Region
    period: str
    year: int = Field(description="the quota year the places come from")
    capacity: int = Field(description="the region's quota for the year")
    in_use: int = Field(description="places of that year held when the round was held")
    size: int | None = Field(description="the most places this round may offer (None: all)")
    places: int = Field(description="places offered")
    ranked: tuple[Ranked, ...]
    cut_off: int | None


class Told(Model):
    case_id: str
    answer: Answer


class AllocationRoundClosed(EventBase):
    """What each candidate's case did with the round's word, in rank order."""

    type: Literal["AllocationRoundClosed"] = "AllocationRoundClosed"
    round_id: str
    told: tuple[Told, ...]

    def count(self, answer: Answer) -> int:
        return sum(1 for t in self.told if t.answer == answer)


RoundEvent = Annotated[AllocationRoundHeld | AllocationRoundClosed, Field(discriminator="type")]
ROUND_EVENT_ADAPTER: TypeAdapter[RoundEvent] = TypeAdapter(RoundEvent)


def hold_round(
    *,
    rid: str,
    region: Region,
    today: date,
    now: datetime,
    policy_id: str,
    capacity: int,
    in_use: int,
    size: int | None,
    candidates: Iterable[Candidate],
    months: int = 1,
) -> AllocationRoundHeld | None:
    """The round of `region` for the period of `today`, over the candidates who listed the
    region; None when nobody waits for it (no round is recorded)."""
    waiting = [c for c in candidates if region in c.regions]
    if not waiting:
        return None
    places = places_for(capacity, in_use, size)
    ranked = allot(waiting, places)
    return AllocationRoundHeld(
        policy_id=policy_id,
        at=now,
        round_id=rid,
        number=round_number(today, months),
        region=region,
        period=period_of(today, months),
        year=today.year,
        capacity=capacity,
        in_use=in_use,
        size=size,
        places=min(places, len(ranked)),
        ranked=ranked,
        cut_off=cut_off(ranked),
    )
