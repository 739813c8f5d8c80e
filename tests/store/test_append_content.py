"""Idempotency checks content: an event id already stored with other content is never a silent
duplicate. A workflow that names itself as the writer adopts what it recorded itself in an
earlier attempt of a workflow task (the record's version stands, nothing is written); without
a writer, or over another writer's events, the append is refused."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from domain import events as ev
from domain import labour as lab
from domain.record import event_id
from store.errors import ConcurrencyConflictError, ContentConflictError
from store.events import append_events, read_events
from store.labour import append_labour_events, labour_quota_usage, read_labour_events
from store.projections import quota_usage
from store.rebuild import rebuild_and_compare
from store.records import NewEvent, NewLabourEvent
from tests.store.factories import POLICY, approved, at, new, new_case_id, reserved, submitted
from tests.store.test_labour import reserve
from tests.store.test_labour import submitted as labour_submitted


def by(writer: str, after: int, events: list[ev.Event]) -> list[NewEvent]:
    """`events` as `writer` records them after seq `after`."""
    return [
        NewEvent(event_id=event_id(writer, after + i), event=e) for i, e in enumerate(events, 1)
    ]


async def opened(conn: asyncpg.Connection, case_id: str, writer: str) -> None:
    batch = by(writer, 0, [submitted(case_id), *approved()])
    await append_events(conn, case_id=case_id, expected_seq=0, events=batch, writer=writer)


async def places(conn: asyncpg.Connection) -> dict[tuple[str, int], int]:
    return {(u.region, u.year): u.reserved for u in await quota_usage(conn)}


async def test_the_same_id_with_other_content_is_a_conflict_not_a_duplicate(
    pool: asyncpg.Pool,
) -> None:
    """The store alone, as the issue found it: the same event id with year+1 was answered
    `appended=0 duplicates=1` and the earlier version kept without a word."""
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await opened(conn, case_id, str(uuid.uuid4()))
        first = new(reserved("Pavlodar", year=2027))
        await append_events(conn, case_id=case_id, expected_seq=5, events=[first])
        later = NewEvent(event_id=first.event_id, event=reserved("Pavlodar", year=2028))
        before = await places(conn)
        with pytest.raises(ContentConflictError, match="already stored with other content"):
            await append_events(conn, case_id=case_id, expected_seq=5, events=[later])
        stored = await read_events(conn, case_id=case_id, after_seq=5)
        assert await places(conn) == before
    assert [s.event for s in stored] == [first.event]
    # a conflict for the workflow too: the activities pause a case on ConcurrencyConflict
    assert issubclass(ContentConflictError, ConcurrencyConflictError)


async def test_an_identical_retry_is_still_a_duplicate(pool: asyncpg.Pool) -> None:
    case_id, writer = new_case_id(), str(uuid.uuid4())
    async with pool.acquire() as conn:
        await opened(conn, case_id, writer)
        events = by(writer, 5, [reserved(year=2027)])
        await append_events(conn, case_id=case_id, expected_seq=5, events=events, writer=writer)
        retry = await append_events(
            conn, case_id=case_id, expected_seq=5, events=events, writer=writer
        )
    assert (retry.last_seq, retry.appended, retry.duplicates, retry.adopted) == (6, 0, 1, 0)


def decided(years: list[int]) -> list[ev.Event]:
    """A place for years[0] (none for 0), then one more event per further year (a decision of
    another size)."""
    events: list[ev.Event] = [reserved(year=years[0])] if years[0] else []
    return events + [ev.DocumentsVerified(policy_id=POLICY, at=at(y - 2000)) for y in years[1:]]


@pytest.mark.parametrize(
    ("landed", "retried"),
    [
        ([[2027]], [2028]),  # the same decision taken later: other content
        ([[2027]], [2028, 2028]),  # the retry decides more events
        ([[2027, 2027]], [2028]),  # the retry decides fewer
        ([[2027, 2027]], [2027]),  # fewer, the first the same
        ([[2027], [0, 2027]], [2028]),  # the earlier attempt took two decisions
    ],
    ids=["other-content", "more-events", "fewer-events", "prefix", "two-decisions"],
)
async def test_a_writer_adopts_what_its_earlier_attempt_recorded(
    pool: asyncpg.Pool, landed: list[list[int]], retried: list[int]
) -> None:
    case_id, writer = new_case_id(), str(uuid.uuid4())
    async with pool.acquire() as conn:
        await opened(conn, case_id, writer)
        seq, recorded = 5, list[NewEvent]()
        for years in landed:
            batch = by(writer, seq, decided(years))
            await append_events(
                conn, case_id=case_id, expected_seq=seq, events=batch, writer=writer
            )
            seq, recorded = seq + len(batch), recorded + batch
        before = await places(conn)
        result = await append_events(
            conn,
            case_id=case_id,
            expected_seq=5,
            events=by(writer, 5, decided(retried)),
            writer=writer,
        )
        stored = await read_events(conn, case_id=case_id, after_seq=5)
        after = await places(conn)
        rebuilt = await rebuild_and_compare(conn, keep=False)
    assert (result.appended, result.duplicates, result.adopted) == (0, 0, len(recorded))
    assert result.last_seq == 5 + len(recorded)
    assert [s.event for s in stored] == [n.event for n in recorded]
    assert after == before  # no place taken for 2028, none given back for 2027
    assert rebuilt.differs == {}


async def test_an_unnamed_retry_of_other_length_or_content_stores_nothing(
    pool: asyncpg.Pool,
) -> None:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await opened(conn, case_id, str(uuid.uuid4()))
        landed = [new(reserved(year=2027))]
        await append_events(conn, case_id=case_id, expected_seq=5, events=landed)
        other_first = NewEvent(event_id=landed[0].event_id, event=reserved(year=2028))
        extra = new(ev.DocumentsVerified(policy_id=POLICY, at=at(40)))
        with pytest.raises(ContentConflictError):
            await append_events(conn, case_id=case_id, expected_seq=5, events=[other_first, extra])
        assert len(await read_events(conn, case_id=case_id, after_seq=5)) == 1


async def test_another_writers_events_are_never_adopted(pool: asyncpg.Pool) -> None:
    """Adoption is of the writer's own events only: another's (a stray write behind the
    workflow's back, a case id started again) are a conflict, as before."""
    case_id, ours, theirs = new_case_id(), str(uuid.uuid4()), str(uuid.uuid4())
    async with pool.acquire() as conn:
        await opened(conn, case_id, ours)
        stray = by(theirs, 5, [reserved(year=2027)])
        await append_events(conn, case_id=case_id, expected_seq=5, events=stray, writer=theirs)
        mine = by(ours, 5, [reserved(year=2027)])
        with pytest.raises(ConcurrencyConflictError) as caught:
            await append_events(conn, case_id=case_id, expected_seq=5, events=mine, writer=ours)
        # ours, then a stray event after it: not adopted either
        case_id, mine2 = new_case_id(), str(uuid.uuid4())
        await opened(conn, case_id, mine2)
        await append_events(
            conn,
            case_id=case_id,
            expected_seq=5,
            events=by(mine2, 5, decided([2027])),
            writer=mine2,
        )
        await append_events(
            conn,
            case_id=case_id,
            expected_seq=6,
            events=by(theirs, 6, decided([0, 2027])),
            writer=theirs,
        )
        with pytest.raises(ConcurrencyConflictError):
            await append_events(
                conn,
                case_id=case_id,
                expected_seq=5,
                events=by(mine2, 5, decided([2028])),
                writer=mine2,
            )
    assert "another writer" in str(caught.value)


async def test_a_writers_events_must_carry_its_ids(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="ids event_id gives"):
            await append_events(
                conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))], writer="w"
            )


async def test_a_labour_request_adopts_what_its_earlier_attempt_recorded(
    pool: asyncpg.Pool,
) -> None:
    """The issue's fault: a labour place reserved for 2027, the retried task deciding 2028
    under the same event id. The record keeps 2027 and the request adopts it."""
    request_id, employer = f"lr-{uuid.uuid4().hex[:8]}", f"BIN{uuid.uuid4().hex[:9]}"
    writer = str(uuid.uuid4())
    opening = [
        NewLabourEvent(event_id=event_id(writer, 1), event=labour_submitted(request_id, employer))
    ]

    def place(year: int) -> list[NewLabourEvent]:
        return [NewLabourEvent(event_id=event_id(writer, 2), event=reserve(employer, year, 5))]

    async with pool.acquire() as conn:
        before = await places_in(conn, 2028)
        await append_labour_events(
            conn, request_id=request_id, expected_seq=0, events=opening, writer=writer
        )
        await append_labour_events(
            conn, request_id=request_id, expected_seq=1, events=place(2027), writer=writer
        )
        with pytest.raises(ContentConflictError):
            await append_labour_events(
                conn, request_id=request_id, expected_seq=1, events=place(2028)
            )
        result = await append_labour_events(
            conn, request_id=request_id, expected_seq=1, events=place(2028), writer=writer
        )
        stored = await read_labour_events(conn, request_id=request_id)
        after = await places_in(conn, 2028)
    assert (result.last_seq, result.adopted) == (2, 1)
    assert isinstance(stored[-1].event, lab.LabourPlaceReserved) and stored[-1].event.year == 2027
    assert after == before


async def places_in(conn: asyncpg.Connection, year: int) -> int:
    usage = await labour_quota_usage(conn)
    return sum(
        u.reserved for u in usage if (u.industry, u.region, u.year) == ("mining", "Karaganda", year)
    )
