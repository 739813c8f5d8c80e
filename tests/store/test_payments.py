import asyncpg
import pytest

from store.errors import DuplicatePaymentError
from store.events import append_events, count_events
from store.queries import balance_owed, payments_for
from tests.store.factories import kandas_breach, new, new_case_id, paid, submitted


async def test_ledger_holds_one_row_per_key_when_the_append_is_retried(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    batch = [new(paid(case_id, "2026-04")), new(paid(case_id, "2026-05"))]
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        await append_events(conn, case_id=case_id, expected_seq=1, events=batch)
        retry = await append_events(conn, case_id=case_id, expected_seq=1, events=batch)
        payments = await payments_for(conn, case_id=case_id)
    assert retry.duplicates == 2
    assert [p.idempotency_key for p in payments] == [
        f"{case_id}:support:rent:2026-04",
        f"{case_id}:support:rent:2026-05",
    ]
    assert {(p.kind, p.measure, p.amount_tiyn) for p in payments} == {
        ("disbursement", "rent", 15_000_000)
    }


async def test_same_payment_in_a_second_event_is_refused(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        await append_events(
            conn, case_id=case_id, expected_seq=1, events=[new(paid(case_id, "2026-04"))]
        )
        with pytest.raises(DuplicatePaymentError):
            await append_events(
                conn, case_id=case_id, expected_seq=2, events=[new(paid(case_id, "2026-04"))]
            )
        assert await count_events(conn, case_id=case_id) == 2
        assert len(await payments_for(conn, case_id=case_id)) == 1


async def test_balance_owed_is_demanded_minus_repaid(pool: asyncpg.Pool) -> None:
    case_id = new_case_id()
    async with pool.acquire() as conn:
        await append_events(
            conn,
            case_id=case_id,
            expected_seq=0,
            events=[new(e) for e in kandas_breach(case_id, "Kostanay", 2026)],
        )
        payments = await payments_for(conn, case_id=case_id)
        owed = await balance_owed(conn, case_id=case_id)
        unknown = await balance_owed(conn, case_id=new_case_id())
    assert [p.kind for p in payments] == ["disbursement", "disbursement", "repayment"]
    assert payments[-1].idempotency_key == f"{case_id}:repayment:r-1"
    assert owed == 30_000_000 - 10_000_000
    assert unknown == 0


async def test_an_employers_subsidy_and_a_housing_certificate_are_disbursements_once(
    pool: asyncpg.Pool,
) -> None:
    """Both are paid like the family's support (decision 018): one ledger row each under its
    own measure, a retried append adding none."""
    case_id = new_case_id()
    subsidy = paid(case_id, "2026-04").model_copy(
        update={
            "measure": "employer_subsidy",
            "period": "member-2",
            "amount_tiyn": 173_000_000,
            "idempotency_key": f"{case_id}:support:employer_subsidy:member-2",
        }
    )
    certificate = paid(case_id, "2026-04").model_copy(
        update={
            "measure": "housing_certificate",
            "period": "once",
            "amount_tiyn": 500_000_000,
            "idempotency_key": f"{case_id}:support:housing_certificate:once",
        }
    )
    batch = [new(certificate), new(subsidy)]
    async with pool.acquire() as conn:
        await append_events(conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))])
        await append_events(conn, case_id=case_id, expected_seq=1, events=batch)
        retry = await append_events(conn, case_id=case_id, expected_seq=1, events=batch)
        payments = await payments_for(conn, case_id=case_id)
    assert retry.duplicates == 2
    assert [(p.kind, p.measure, p.period, p.amount_tiyn) for p in payments] == [
        ("disbursement", "housing_certificate", "once", 500_000_000),
        ("disbursement", "employer_subsidy", "member-2", 173_000_000),
    ]
