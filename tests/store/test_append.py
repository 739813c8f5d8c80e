import asyncio

import asyncpg
import pytest

from domain import events as ev
from domain.case import CaseState
from store.errors import ConcurrencyConflictError, ContentConflictError
from store.events import (
    WRITTEN,
    AppendResult,
    NewEvent,
    _Written,
    append_events,
    count_events,
    last_seq,
    read_events,
)
from store.rebuild import rebuild_and_compare
from tests.store.factories import POLICY, approved, at, new, new_case_id, submitted


async def test_append_then_read_back(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    batch = [new(submitted(case_id), key="intake"), *map(new, approved())]
    async with pool.acquire() as conn:
        result = await append_events(conn, case_id=case_id, expected_seq=0, events=batch)
        stored = await read_events(conn, case_id=case_id)
        tail = await read_events(conn, case_id=case_id, after_seq=3)
        assert await last_seq(conn, case_id=case_id) == 5
        assert await count_events(conn, case_id=case_id) == 5
    assert (result.last_seq, result.appended, result.duplicates) == (5, 5, 0)
    assert [s.seq for s in stored] == [1, 2, 3, 4, 5]
    assert [s.event for s in stored] == [n.event for n in batch]
    assert [s.event_id for s in stored] == [n.event_id for n in batch]
    assert stored[0].idempotency_key == "intake"
    assert [s.position for s in stored] == sorted(s.position for s in stored)
    assert [s.seq for s in tail] == [4, 5]


async def test_retried_append_is_counted_as_duplicates(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    batch = [new(submitted(case_id)), *map(new, approved())]
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=batch)
        retry = await append_events(conn, case_id=case_id, expected_seq=0, events=batch)
        assert await count_events(conn, case_id=case_id) == len(batch)
    assert (retry.last_seq, retry.appended, retry.duplicates) == (5, 0, 5)


async def test_retry_carrying_more_events_is_refused_and_stores_nothing(
    pool: asyncpg.Pool,
) -> None:
    """A batch lands whole or not at all: more events under the same ids is another decision."""
    case_id = new_case_id()
    landed = [new(submitted(case_id))]
    more = new(ev.DocumentsVerified(policy_id=POLICY, at=at(1)))
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=landed)
        with pytest.raises(ContentConflictError, match="held 1 events, not 2"):
            await append_events(conn, case_id=case_id, expected_seq=0, events=[*landed, more])
        assert [s.event_id for s in await read_events(conn, case_id=case_id)] == [
            landed[0].event_id
        ]


async def test_other_event_at_the_same_seq_is_a_conflict(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        verified = new(ev.DocumentsVerified(policy_id=POLICY, at=at(1)))
        with pytest.raises(ConcurrencyConflictError) as caught:
            await append_events(conn, case_id=case_id, expected_seq=0, events=[verified])
        assert await count_events(conn, case_id=case_id) == 1
    assert (caught.value.expected_seq, caught.value.actual_seq) == (0, 1)


async def test_partly_conflicting_batch_stores_nothing(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    first, *others = (new(e) for e in approved())
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        await append_events(conn, case_id=case_id, expected_seq=1, events=[first])
        # seq 2 is taken by `first`, seqs 3.. are free: the free ones must not be kept.
        with pytest.raises(ConcurrencyConflictError):
            await append_events(conn, case_id=case_id, expected_seq=1, events=others)
        # `first` again, but at another seq than the one it holds.
        with pytest.raises(ConcurrencyConflictError, match="already stored"):
            await append_events(conn, case_id=case_id, expected_seq=2, events=[first])
        assert await last_seq(conn, case_id=case_id) == 2


async def test_expected_seq_past_the_end_is_a_conflict(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        verified = new(ev.DocumentsVerified(policy_id=POLICY, at=at(1)))
        with pytest.raises(ConcurrencyConflictError, match="past the case's last event"):
            await append_events(conn, case_id=case_id, expected_seq=3, events=[verified])
        assert await last_seq(conn, case_id=case_id) == 1


async def test_event_id_of_another_case_is_a_conflict(pool: asyncpg.Pool) -> None:
    one, two = new_case_id(), new_case_id()
    shared = new(ev.DocumentsVerified(policy_id=POLICY, at=at(1)))
    async with pool.acquire() as conn:
        await append_events(conn, case_id=one, expected_seq=0, events=[shared])
        with pytest.raises(ConcurrencyConflictError, match="already stored"):
            await append_events(conn, case_id=two, expected_seq=0, events=[shared])
        assert await count_events(conn, case_id=two) == 0


async def test_append_joins_the_callers_transaction(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await append_events(
                    conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))]
                )
                raise RuntimeError("caller fails after the append")
        assert await count_events(conn, case_id=case_id) == 0
        assert await conn.fetchval("SELECT count(*) FROM cases WHERE case_id = $1", case_id) == 0


async def test_empty_batch_changes_nothing(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        result = await append_events(conn, case_id=new_case_id(), expected_seq=4, events=[])
    assert (result.last_seq, result.appended, result.duplicates) == (4, 0, 0)


async def test_malformed_batches_are_refused(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    verified = new(ev.DocumentsVerified(policy_id=POLICY, at=at(1)))
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="repeat"):
            await append_events(conn, case_id=case_id, expected_seq=0, events=[verified, verified])
        with pytest.raises(ValueError, match="belongs to case"):
            await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted("x"))])
        with pytest.raises(ValueError, match=">= 0"):
            await append_events(conn, case_id=case_id, expected_seq=-1, events=[verified])


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET policy_id = 'forged'",
        "DELETE FROM events",
        "DELETE FROM events WHERE false",
        "TRUNCATE events CASCADE",
    ],
)
async def test_the_log_refuses_changes(pool: asyncpg.Pool, sql: str) -> None:
    async with pool.acquire() as conn:
        await append_events(
            conn,
            case_id=(case_id := new_case_id()),
            expected_seq=0,
            events=[new(submitted(case_id))],
        )
        before = await count_events(conn)
        with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
            await conn.execute(sql)
        assert await count_events(conn) == before


def test_naive_event_times_are_refused() -> None:
    # The event model refuses naive times itself; the store checks again for any that slip by.
    naive = ev.DocumentsVerified.model_construct(policy_id=POLICY, at=at(1).replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        new(naive)


async def test_two_writers_at_once_one_wins_the_other_gets_a_conflict(pool: asyncpg.Pool) -> None:
    """Two writers read the case at seq 1 and append at the same moment, on two connections."""
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
    contenders = [new(ev.DocumentsVerified(policy_id=POLICY, at=at(day))) for day in (1, 2)]

    async def write(candidate: NewEvent) -> AppendResult | ConcurrencyConflictError:
        async with pool.acquire() as conn:
            try:
                return await append_events(
                    conn, case_id=case_id, expected_seq=1, events=[candidate]
                )
            except ConcurrencyConflictError as exc:
                return exc

    results = await asyncio.gather(*map(write, contenders))
    conflicts = [r for r in results if isinstance(r, ConcurrencyConflictError)]
    assert len(conflicts) == 1
    assert (conflicts[0].expected_seq, conflicts[0].actual_seq) == (1, 2)
    async with pool.acquire() as conn:
        stored = await read_events(conn, case_id=case_id)
    winner = contenders[results.index(next(r for r in results if r not in conflicts))]
    assert [s.event_id for s in stored] == [stored[0].event_id, winner.event_id]


# ---- the one-statement append and the states a writer remembers ------------------------------


async def test_common_append_folds_from_the_state_this_process_wrote(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        remembered = WRITTEN.get(case_id, 1)
        await append_events(
            conn, case_id=case_id, expected_seq=1, events=list(map(new, approved()))
        )
        row = await conn.fetchrow("SELECT last_seq, stage FROM cases WHERE case_id = $1", case_id)
        rebuilt = await rebuild_and_compare(conn, keep=False)
    assert remembered is not None and remembered[0].stage == "documents"
    assert WRITTEN.get(case_id, 5) is not None and WRITTEN.get(case_id, 1) is None
    assert (row["last_seq"], row["stage"]) == (5, "relocation")
    assert rebuilt.differs == {}


async def test_remembered_state_the_record_does_not_hold_is_not_used(pool: asyncpg.Pool) -> None:
    """A state remembered for the right seq but a different record (another database, a case id
    used again) fails the hash check: the append goes the transactional way, from the row."""
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        WRITTEN.put(case_id, 1, b"not the chain's hash", CaseState(stage="closed"))
        await append_events(
            conn, case_id=case_id, expected_seq=1, events=list(map(new, approved()))
        )
        stage = await conn.fetchval("SELECT stage FROM cases WHERE case_id = $1", case_id)
        rebuilt = await rebuild_and_compare(conn, keep=False)
    assert stage == "relocation"
    assert rebuilt.differs == {}


async def test_writer_remembering_a_state_the_record_moved_past_gets_a_conflict(
    pool: asyncpg.Pool,
) -> None:
    """Another process appended after this one wrote seq 1: its memory of seq 1 is stale."""
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        known = WRITTEN.get(case_id, 1)
        assert known is not None
        async with conn.transaction():  # the other writer: the transactional path
            await append_events(
                conn,
                case_id=case_id,
                expected_seq=1,
                events=[new(ev.DocumentsVerified(policy_id=POLICY, at=at(1)))],
            )
        WRITTEN.put(case_id, 1, known[1], known[0])
        late = new(ev.DocumentsVerified(policy_id=POLICY, at=at(2)))
        with pytest.raises(ConcurrencyConflictError) as caught:
            await append_events(conn, case_id=case_id, expected_seq=1, events=[late])
        assert await last_seq(conn, case_id=case_id) == 2
        rebuilt = await rebuild_and_compare(conn, keep=False)
    assert (caught.value.expected_seq, caught.value.actual_seq) == (1, 2)
    assert rebuilt.differs == {}


def test_remembered_states_are_bounded_least_recently_written_first() -> None:
    written = _Written()
    written.LIMIT = 3
    for n in range(5):
        written.put(f"c-{n}", 1, b"h", CaseState())
    written.put("c-2", 2, b"h", CaseState())
    written.put("c-5", 1, b"h", CaseState())
    assert [c for c in ("c-0", "c-1", "c-2", "c-3", "c-4", "c-5") if written.get(c, 1)] == [
        "c-4",
        "c-5",
    ]
    assert written.get("c-2", 2) is not None
