"""Allocation rounds in the record (store/rounds.py, activities/allocation.py): the waiting
candidates read from the cases projection, a round decided once (a retried or duplicated
round finds the record's decision, never a second one), its stream kept out of the
applicants' projections, and `kosh quotas`' counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.allocation import (
    AllocationActivities,
    ClockInput,
    CloseInput,
    HoldInput,
    WordInput,
)
from domain import events as ev
from domain.allocation import AllocationRoundClosed, Told, round_stream
from domain.calendar import add_months
from domain.regions import Region
from store.events import append_events, count_events
from store.rounds import candidates, read_round, rounds
from tests.store.factories import POLICY, approved, at, new, reserved, submitted

REGION: Region = "Kostanay"


async def waiting_case(pool: asyncpg.Pool, case_id: str, score: int, minute: int) -> None:
    """A kandas case with its permit and status, candidate for Pavlodar and Kostanay."""
    lodged = ev.CandidacyLodged(
        score=score,
        submitted_at=at(0).replace(minute=minute),
        regions=("Pavlodar", REGION),
        policy_id=POLICY,
        at=at(12),
    )
    status = ev.KandasStatusGranted(certificate_number="KC-1", policy_id=POLICY, at=at(11))
    events = [submitted(case_id), *approved(score), status, lodged]
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(e) for e in events])


def hold(scope: str, rid: str) -> HoldInput:
    return HoldInput(round_id=rid, region=REGION, now=at(40), size=1, scope=scope)


async def test_a_round_is_decided_once_whatever_the_candidates_when_it_is_held_again(
    pool: asyncpg.Pool,
) -> None:
    scope = f"rs-{uuid.uuid4().hex[:8]}-"
    await waiting_case(pool, f"{scope}a", 600, 5)
    await waiting_case(pool, f"{scope}b", 650, 9)
    await waiting_case(pool, f"{scope}c", 600, 1)
    # a case holding a place waits for no round
    placed = f"{scope}d"
    await waiting_case(pool, placed, 900, 0)
    async with pool.acquire() as conn:
        await append_events(
            conn, case_id=placed, expected_seq=7, events=[new(reserved(REGION, capacity=200))]
        )
        found = await candidates(conn, scope=scope)
    assert sorted(c.case_id for c in found) == [f"{scope}a", f"{scope}b", f"{scope}c"]

    acts = AllocationActivities(pool=pool)
    rid = f"{scope}kostanay-2026-04"
    first = await ActivityEnvironment().run(acts.hold_round, hold(scope, rid))
    assert first.held is not None and not first.closed
    assert [(r.case_id, r.offer) for r in first.held.ranked] == [
        (f"{scope}b", "offered"),
        (f"{scope}c", "not_reached"),  # 600 like a, but submitted first
        (f"{scope}a", "not_reached"),
    ]
    # held again (a retried activity, a duplicated round), with a new, better candidate: the
    # record's decision stands, one event in the round's stream
    await waiting_case(pool, f"{scope}e", 990, 0)
    again = await ActivityEnvironment().run(acts.hold_round, hold(scope, rid))
    assert again.held == first.held
    async with pool.acquire() as conn:
        assert await count_events(conn, case_id=round_stream(rid)) == 1

    # each case reads its own word from the record; a case not on the list reads none
    word = await ActivityEnvironment().run(
        acts.round_word, WordInput(round_id=rid, case_id=f"{scope}c")
    )
    assert word.command is not None
    assert (word.command.rank, word.command.offered, word.command.cut_off) == (2, False, 650)
    none = await ActivityEnvironment().run(
        acts.round_word, WordInput(round_id=rid, case_id=f"{scope}e")
    )
    assert none.command is None


async def test_a_round_with_nobody_waiting_records_nothing(pool: asyncpg.Pool) -> None:
    scope = f"rn-{uuid.uuid4().hex[:8]}-"
    rid = f"{scope}kostanay-2026-04"
    result = await ActivityEnvironment().run(
        AllocationActivities(pool=pool).hold_round, hold(scope, rid)
    )
    assert result.held is None
    async with pool.acquire() as conn:
        assert await read_round(conn, rid=rid) is None


async def test_a_round_closes_once_and_kosh_quotas_counts_it(pool: asyncpg.Pool) -> None:
    scope = f"rq-{uuid.uuid4().hex[:8]}-"
    await waiting_case(pool, f"{scope}a", 610, 0)
    await waiting_case(pool, f"{scope}b", 640, 0)
    acts = AllocationActivities(pool=pool)
    rid = f"{scope}kostanay-2026-04"
    held = (await ActivityEnvironment().run(acts.hold_round, hold(scope, rid))).held
    assert held is not None
    told = (
        Told(case_id=f"{scope}b", answer="granted"),
        Told(case_id=f"{scope}a", answer="not_reached"),
    )
    closed = AllocationRoundClosed(policy_id=POLICY, at=at(41), round_id=rid, told=told)
    assert (await ActivityEnvironment().run(acts.close_round, CloseInput(event=closed))).recorded
    # the same close again (a retry) and another one (a duplicated round): neither lands
    assert not (
        await ActivityEnvironment().run(acts.close_round, CloseInput(event=closed))
    ).recorded
    other = closed.model_copy(update={"told": told[:1]})
    assert not (await ActivityEnvironment().run(acts.close_round, CloseInput(event=other))).recorded
    async with pool.acquire() as conn:
        [row] = [r for r in await rounds(conn, year=2026) if r.round_id == rid]
        assert await count_events(conn, case_id=round_stream(rid)) == 2
    assert (row.number, row.period, row.candidates, row.granted, row.not_reached) == (
        4,
        "2026-04",
        2,
        1,
        1,
    )
    assert (row.places, row.cut_off) == (1, 640)


async def test_a_compressed_clock_round_is_held_at_its_laggard_candidates_case_time(
    pool: asyncpg.Pool,
) -> None:
    """On a compressed clock each case runs its own clock: the round reads where the waiting
    families' clocks stand (the last event's case time moved on by the wall time since it was
    recorded, sped up) and takes the earliest; a family of another region counts for nothing,
    and with nobody waiting there is no time to hold a round at."""
    scope = f"rc-{uuid.uuid4().hex[:8]}-"
    acts = AllocationActivities(pool=pool)
    env = ActivityEnvironment()
    nobody = await env.run(
        acts.candidates_clock, ClockInput(region=REGION, speedup=1.0, period_months=3, scope=scope)
    )
    assert nobody.now is None
    await waiting_case(pool, f"{scope}a", 600, 5)
    async with pool.acquire() as conn:
        recorded_at = await conn.fetchval(
            "SELECT recorded_at FROM events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
            f"{scope}a",
        )
        wall = await conn.fetchval("SELECT statement_timestamp()")
    speedup = 3600.0  # an hour of case time per wall second
    seen = await env.run(
        acts.candidates_clock,
        ClockInput(region=REGION, speedup=speedup, period_months=3, scope=scope),
    )
    assert seen.now is not None
    moved = seen.now - at(12)  # the last event (CandidacyLodged) was at at(12)
    assert moved >= (wall - recorded_at) * speedup
    assert moved < (wall - recorded_at) * speedup + timedelta(hours=60)  # within a minute
    # a round that comes late finds the family's clock a period on at most (its own wait
    # runs no further: workflows/case/steps.py await_allocation)
    late = await env.run(
        acts.candidates_clock,
        ClockInput(region=REGION, speedup=1e12, period_months=3, scope=scope),
    )
    assert late.now is not None
    lodged, reached = at(12).astimezone(UTC), late.now.astimezone(UTC)
    assert (reached.date(), reached.time()) == (add_months(lodged.date(), 3), lodged.time())
    other = await env.run(
        acts.candidates_clock,
        ClockInput(region="Atyrau", speedup=speedup, period_months=3, scope=scope),
    )
    assert other.now is None


async def test_a_compressed_clock_round_is_held_a_period_after_the_regions_last(
    pool: asyncpg.Pool,
) -> None:
    """Rounds held late find the waiting families' clocks a period on at most: the next round
    is still held a period after the region's last, so rounds move on period by period and
    never hold the same period again (it would find that round's record, and nothing moves)."""
    scope = f"rf-{uuid.uuid4().hex[:8]}-"
    await waiting_case(pool, f"{scope}a", 600, 5)
    acts = AllocationActivities(pool=pool)
    env = ActivityEnvironment()
    late = ClockInput(region=REGION, speedup=1e12, period_months=3, scope=scope)
    before = await env.run(acts.candidates_clock, late)
    assert before.now is not None
    # a round of this region (at the family's clock, a period on) held a place for nobody
    # else: the family was not reached, and its clock stands where it stood
    held = HoldInput(
        round_id=f"{scope}kostanay-x", region=REGION, now=before.now, size=0, scope=scope
    )
    await env.run(acts.hold_round, held)
    after = await env.run(acts.candidates_clock, late)
    assert after.now is not None
    assert after.now.astimezone(UTC).date() == add_months(before.now.astimezone(UTC).date(), 3)


async def test_a_round_in_a_year_without_figures_fails_for_good_while_a_family_waits(
    pool: asyncpg.Pool,
) -> None:
    """No quota for the round's year and a family waiting: the round fails, not retried (a
    retry cannot publish a figure), so the schedule goes on; nothing is recorded."""
    scope = f"ry-{uuid.uuid4().hex[:8]}-"
    await waiting_case(pool, f"{scope}a", 600, 5)
    acts = AllocationActivities(pool=pool)
    late = HoldInput(
        round_id=f"{scope}late", region=REGION, now=datetime(2040, 3, 1, tzinfo=UTC), scope=scope
    )
    with pytest.raises(ApplicationError, match="none for 2040") as refused:
        await ActivityEnvironment().run(acts.hold_round, late)
    assert refused.value.type == "PolicyYearError" and refused.value.non_retryable
    async with pool.acquire() as conn:
        assert await read_round(conn, rid=f"{scope}late") is None
