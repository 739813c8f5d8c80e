"""Labour requests in the record: their streams, the labour quota ledger (atomic under racing
employers), employers' suspensions, idempotent retries, and the rebuild agreeing with live."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest

from domain import labour as lab
from store.errors import ConcurrencyConflictError, QuotaExhaustedError
from store.events import append_events, count_events
from store.labour import (
    EmployerSuspendedError,
    append_labour_events,
    labour_quota_usage,
    labour_requests,
    read_labour_events,
)
from store.rebuild import PROJECTIONS, rebuild_and_compare
from store.records import NewLabourEvent

AT = datetime(2026, 3, 1, tzinfo=UTC)


def request(employer: str, *, industry: lab.Industry = "mining") -> lab.EmployerRequest:
    return lab.EmployerRequest(
        employer_id=employer,
        employer_name="Karaganda Coal LLP",
        industry=industry,
        region="Karaganda",
        occupation="mining engineer",
        vacancy_reference="ENB-7",
        monthly_wage_tiyn=800_000_00,
        worker=lab.Worker(
            full_name="Bekzod Umarov",
            born_on=date(1991, 5, 6),
            citizenship="UZB",
            passport="FA1234567",
        ),
    )


def new(event: lab.LabourEvent) -> NewLabourEvent:
    return NewLabourEvent(event_id=str(uuid.uuid4()), event=event)


KEY = bytes(range(32))  # the deployment's employer key


def submitted(request_id: str, employer: str) -> lab.LabourRequestSubmitted:
    return lab.LabourRequestSubmitted(
        policy_id="2026.1",
        at=AT,
        request_id=request_id,
        request=request(employer),
        employer_key=lab.employer_key(employer, KEY),
    )


def reserve(employer: str, year: int, capacity: int, at: datetime = AT) -> lab.LabourPlaceReserved:
    return lab.LabourPlaceReserved(
        policy_id="2026.1",
        at=at,
        employer_id=employer,
        industry="mining",
        region="Karaganda",
        project=None,
        year=year,
        capacity=capacity,
    )


async def open_request(pool: asyncpg.Pool, employer: str) -> str:
    request_id = f"lr-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn:
        await append_labour_events(
            conn,
            request_id=request_id,
            expected_seq=0,
            events=[new(submitted(request_id, employer))],
        )
    return request_id


async def test_places_are_granted_up_to_capacity_under_racing_employers(pool: asyncpg.Pool) -> None:
    year = random.randrange(3000, 1_000_000)
    requests = [await open_request(pool, f"BIN-{i}") for i in range(12)]

    async def one(i: int, request_id: str) -> bool:
        async with pool.acquire() as conn:
            try:
                await append_labour_events(
                    conn,
                    request_id=request_id,
                    expected_seq=1,
                    events=[new(reserve(f"BIN-{i}", year, capacity=5))],
                )
            except QuotaExhaustedError as exc:
                assert "mining in Karaganda" in str(exc)
                return False
            return True

    granted = await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
    assert sum(granted) == 5
    async with pool.acquire() as conn:
        [line] = await labour_quota_usage(conn, year=year)
        assert (line.capacity, line.reserved, line.available) == (5, 5, 0)
        # The refused ones stored nothing: their streams hold the request only.
        for request_id, got in zip(requests, granted, strict=True):
            stored = await read_labour_events(conn, request_id=request_id)
            assert len(stored) == (2 if got else 1)


async def test_a_suspended_employer_cannot_reserve_until_its_rights_return(
    pool: asyncpg.Pool,
) -> None:
    year = random.randrange(3000, 1_000_000)
    employer = f"BIN-S{uuid.uuid4().hex[:6]}"
    first = await open_request(pool, employer)
    async with pool.acquire() as conn:
        await append_labour_events(
            conn,
            request_id=first,
            expected_seq=1,
            events=[
                new(reserve(employer, year, capacity=10)),
                new(
                    lab.EmployerLiabilityImposed(
                        policy_id="2026.1",
                        at=AT,
                        employer_id=employer,
                        fine_tiyn=865_000_00,
                        quota_rights_suspended_until=date(2027, 3, 1),
                        violations=("wage_below_floor",),
                    )
                ),
            ],
        )
    second = await open_request(pool, employer)
    async with pool.acquire() as conn:
        with pytest.raises(EmployerSuspendedError, match="until 2027-03-01"):
            await append_labour_events(
                conn,
                request_id=second,
                expected_seq=1,
                events=[new(reserve(employer, year, capacity=10))],
            )
        later = datetime(2027, 3, 2, tzinfo=UTC)
        await append_labour_events(
            conn,
            request_id=second,
            expected_seq=1,
            events=[new(reserve(employer, year, capacity=10, at=later))],
        )


async def test_a_retried_append_is_harmless_and_a_conflict_is_named(pool: asyncpg.Pool) -> None:
    request_id = await open_request(pool, "BIN-R")
    year = random.randrange(3000, 1_000_000)
    batch = [new(reserve("BIN-R", year, capacity=3))]
    async with pool.acquire() as conn:
        first = await append_labour_events(
            conn, request_id=request_id, expected_seq=1, events=batch
        )
        again = await append_labour_events(
            conn, request_id=request_id, expected_seq=1, events=batch
        )
        assert (first.appended, again.appended, again.duplicates) == (1, 0, 1)
        [line] = await labour_quota_usage(conn, year=year)
        assert line.reserved == 1  # the retry reserved nothing twice
        with pytest.raises(ConcurrencyConflictError):
            await append_labour_events(
                conn,
                request_id=request_id,
                expected_seq=1,
                events=[new(reserve("BIN-R", year, capacity=3))],
            )
        # An applicant's append never writes a labour stream.
        with pytest.raises(ValueError, match="labour request's stream"):
            await append_events(conn, case_id=f"labour-{request_id}", expected_seq=2, events=[])


async def test_the_rebuild_agrees_with_the_live_labour_projections(pool: asyncpg.Pool) -> None:
    request_id = await open_request(pool, "BIN-B")
    year = random.randrange(3000, 1_000_000)
    async with pool.acquire() as conn:
        await append_labour_events(
            conn,
            request_id=request_id,
            expected_seq=1,
            events=[
                new(reserve("BIN-B", year, capacity=2)),
                new(
                    lab.LabourPlaceReleased(
                        policy_id="2026.1",
                        at=AT,
                        industry="mining",
                        region="Karaganda",
                        project=None,
                        year=year,
                        reason="employment ended early",
                    )
                ),
                new(
                    lab.LabourRequestClosed(
                        policy_id="2026.1", at=AT, reason="ended_early", detail="left in May"
                    )
                ),
            ],
        )
        rows = {r.request_id: r for r in await labour_requests(conn)}
        assert rows[request_id].stage == "closed"
        assert rows[request_id].closed_reason == "ended_early"
        # the keyed id recorded with the request, as the projection and its rebuild show it
        assert rows[request_id].employer_key == lab.employer_key("BIN-B", KEY)
        rebuilt = await rebuild_and_compare(conn, keep=False)
        assert rebuilt.differs == {}
        assert rebuilt.rows["labour_requests"] >= 1
        assert await count_events(conn, case_id=f"labour-{request_id}") == 4


def test_the_rebuild_compares_every_labour_projection() -> None:
    from store.labour import LABOUR_PROJECTIONS

    assert LABOUR_PROJECTIONS.items() <= PROJECTIONS.items()
