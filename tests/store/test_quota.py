import asyncio
import random

import asyncpg
import pytest

from domain.regions import Region
from store.errors import PlaceAlreadyHeldError, QuotaExhaustedError, StoreError
from store.events import append_events, count_events
from store.queries import quota_usage
from store.rebuild import rebuild_and_compare
from tests.store.factories import new, new_case_id, released, reserved, submitted


def fresh_year() -> int:
    """A quota year no other test uses, so each test has its own ledger row."""
    return random.randrange(3000, 1_000_000)


async def open_case(pool: asyncpg.Pool) -> str:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
    return case_id


async def reserve_at_once(
    pool: asyncpg.Pool, cases: list[str], region: Region, *, year: int, capacity: int
) -> list[bool]:
    """Every case reserves a place in `region` at the same moment; True for those that got one."""

    async def reserve(case_id: str) -> bool:
        async with pool.acquire() as conn:
            try:
                await append_events(
                    conn,
                    case_id=case_id,
                    expected_seq=1,
                    events=[new(reserved(region, year=year, capacity=capacity))],
                )
            except QuotaExhaustedError:
                return False
            return True

    return list(await asyncio.gather(*map(reserve, cases)))


async def test_reservation_beyond_capacity_is_refused_and_not_stored(pool: asyncpg.Pool) -> None:
    year = fresh_year()
    first, second = await open_case(pool), await open_case(pool)
    async with pool.acquire() as conn:
        await append_events(
            conn, case_id=first, expected_seq=1, events=[new(reserved(year=year, capacity=1))]
        )
        with pytest.raises(QuotaExhaustedError) as caught:
            await append_events(
                conn, case_id=second, expected_seq=1, events=[new(reserved(year=year, capacity=1))]
            )
        assert (caught.value.region, caught.value.year) == ("Pavlodar", year)
        assert await count_events(conn, case_id=second) == 1
        [usage] = await quota_usage(conn, year=year)
        assert (usage.capacity, usage.reserved, usage.in_use, usage.available) == (1, 1, 1, 0)

        await append_events(conn, case_id=first, expected_seq=2, events=[new(released(year=year))])
        await append_events(
            conn, case_id=second, expected_seq=1, events=[new(reserved(year=year, capacity=1))]
        )
        [usage] = await quota_usage(conn, year=year)
    assert (usage.reserved, usage.released, usage.in_use) == (2, 1, 1)


async def test_sixteen_concurrent_reservers_get_exactly_ten_places(pool: asyncpg.Pool) -> None:
    year = fresh_year()
    cases = [await open_case(pool) for _ in range(16)]

    outcomes = await reserve_at_once(pool, cases, "Akmola", year=year, capacity=10)
    async with pool.acquire() as conn:
        [usage] = await quota_usage(conn, year=year)
        stored = await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'QuotaPlaceReserved' AND case_id = ANY($1)",
            cases,
        )
    assert sum(outcomes) == 10
    assert stored == 10
    assert (usage.region, usage.reserved, usage.available) == ("Akmola", 10, 0)


async def test_two_hundred_concurrent_reservers_get_exactly_thirty_places(
    pool: asyncpg.Pool,
) -> None:
    """Many workflows at once, each its own case, on a pool smaller than the crowd."""
    year = fresh_year()
    cases = list(await asyncio.gather(*(open_case(pool) for _ in range(200))))

    outcomes = await reserve_at_once(pool, cases, "Kostanay", year=year, capacity=30)
    async with pool.acquire() as conn:
        [usage] = await quota_usage(conn, year=year)
        holders = await conn.fetch(
            "SELECT case_id FROM events WHERE type = 'QuotaPlaceReserved' AND case_id = ANY($1)",
            cases,
        )
        # the refused ones recorded nothing: their logs still end at the submission
        refused = [c for c, won in zip(cases, outcomes, strict=True) if not won]
        lengths = {await count_events(conn, case_id=c) for c in refused}
    assert sum(outcomes) == len(holders) == 30
    assert {r["case_id"] for r in holders} == {
        c for c, won in zip(cases, outcomes, strict=True) if won
    }
    assert (usage.capacity, usage.reserved, usage.in_use, usage.available) == (30, 30, 30, 0)
    assert lengths == {1}


async def test_a_case_holds_one_place_at_a_time(pool: asyncpg.Pool) -> None:
    year = fresh_year()
    case_id = await open_case(pool)
    async with pool.acquire() as conn:
        await append_events(
            conn, case_id=case_id, expected_seq=1, events=[new(reserved(year=year))]
        )
        with pytest.raises(PlaceAlreadyHeldError) as caught:
            await append_events(
                conn, case_id=case_id, expected_seq=2, events=[new(reserved("Abai", year=year))]
            )
        assert (caught.value.region, caught.value.year) == ("Pavlodar", year)
        assert caught.value.retryable is False
        assert await count_events(conn, case_id=case_id) == 2
        assert [u.region for u in await quota_usage(conn, year=year)] == ["Pavlodar"]

        # a released place returns to the pool, and the case may then hold another
        await append_events(
            conn, case_id=case_id, expected_seq=2, events=[new(released(year=year))]
        )
        await append_events(
            conn, case_id=case_id, expected_seq=3, events=[new(reserved("Abai", year=year))]
        )
        usage = {u.region: u for u in await quota_usage(conn, year=year)}
    assert (usage["Pavlodar"].in_use, usage["Pavlodar"].released) == (0, 1)
    assert usage["Abai"].in_use == 1


async def test_a_release_without_a_reservation_is_refused_and_not_stored(
    pool: asyncpg.Pool,
) -> None:
    year = fresh_year()
    case_id = await open_case(pool)
    async with pool.acquire() as conn:
        with pytest.raises(StoreError, match="released but never reserved"):
            await append_events(
                conn, case_id=case_id, expected_seq=1, events=[new(released(year=year))]
            )
        assert await count_events(conn, case_id=case_id) == 1
        assert await quota_usage(conn, year=year) == []


async def test_a_batch_that_takes_and_gives_back_a_place_moves_the_ledger_twice(
    pool: asyncpg.Pool,
) -> None:
    """Two ledger moves in one batch go the transactional way, in the events' order."""
    year = fresh_year()
    case_id = await open_case(pool)
    batch = [new(reserved(year=year, capacity=1)), new(released(year=year))]
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=1, events=batch)
        [usage] = await quota_usage(conn, year=year)
        rebuilt = await rebuild_and_compare(conn, keep=False)
    assert (usage.reserved, usage.released, usage.in_use, usage.available) == (1, 1, 0, 1)
    assert rebuilt.differs == {}
