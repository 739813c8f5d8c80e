"""Read side for staff and operators: cases, quota usage, payments, balances."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.case import CaseState
from store.errors import translated
from store.pool import Conn


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class CaseSummary(Row):
    case_id: str
    track: str | None
    stage: str
    region: str | None
    policy_id: str
    score: int | None
    decision: str | None
    contract_starts_on: date | None
    contract_ends_on: date | None
    closed_reason: str | None
    paid_tiyn: int
    outstanding_tiyn: int
    last_seq: int
    updated_at: datetime


class QuotaUsage(Row):
    region: str
    year: int
    capacity: int
    reserved: int
    released: int
    in_use: int
    available: int


class Payment(Row):
    idempotency_key: str
    case_id: str
    kind: str
    measure: str | None
    period: str | None
    amount_tiyn: int
    reference: str
    occurred_at: datetime
    position: int


LIST_CASES = """
SELECT case_id, track, stage, region, policy_id, score, decision, contract_starts_on,
       contract_ends_on, closed_reason, paid_tiyn, outstanding_tiyn, last_seq, updated_at
FROM cases
WHERE ($1::text IS NULL OR stage = $1)
  AND ($2::text IS NULL OR track = $2)
  AND ($3::text IS NULL OR region = $3)
ORDER BY updated_at DESC, case_id
LIMIT $4
"""
CASE_STATE = "SELECT state::text FROM cases WHERE case_id = $1"
QUOTA_USAGE = """
SELECT region, year, capacity, reserved, released, reserved - released AS in_use,
       greatest(capacity - (reserved - released), 0) AS available
FROM quota_ledger
WHERE ($1::int IS NULL OR year = $1)
ORDER BY year, region
"""
PAYMENTS = """
SELECT idempotency_key, case_id, kind, measure, period, amount_tiyn, reference, occurred_at,
       position
FROM payments
WHERE ($1::text IS NULL OR case_id = $1)
ORDER BY position
"""
BALANCE_OWED = "SELECT balance_owed($1)"
CASES_BY_STAGE = "SELECT stage, count(*) AS n FROM cases GROUP BY stage"


async def list_cases(
    conn: Conn,
    *,
    stage: str | None = None,
    track: str | None = None,
    region: str | None = None,
    limit: int = 100,
) -> list[CaseSummary]:
    """Cases matching every given filter, most recently changed first."""
    rows = await _fetch(conn, LIST_CASES, stage, track, region, limit)
    return [CaseSummary.model_validate(dict(row)) for row in rows]


async def case_state(conn: Conn, *, case_id: str) -> CaseState | None:
    """The case's folded domain state as of its last event, or None for an unknown case."""
    with translated():
        raw = await conn.fetchval(CASE_STATE, case_id)
    return None if raw is None else CaseState.model_validate_json(raw)


async def quota_usage(conn: Conn, *, year: int | None = None) -> list[QuotaUsage]:
    """Quota places per region and year: capacity, reserved, released, in use, available."""
    rows = await _fetch(conn, QUOTA_USAGE, year)
    return [QuotaUsage.model_validate(dict(row)) for row in rows]


async def payments_for(conn: Conn, *, case_id: str | None = None) -> list[Payment]:
    """Payments in the ledger (one case's, or all), in the order they were recorded."""
    rows = await _fetch(conn, PAYMENTS, case_id)
    return [Payment.model_validate(dict(row)) for row in rows]


async def balance_owed(conn: Conn, *, case_id: str) -> int:
    """Repayment the case still owes in tiyn (0 when nothing is demanded or it is unknown)."""
    with translated():
        owed: int = await conn.fetchval(BALANCE_OWED, case_id)
    return owed


async def cases_by_stage(conn: Conn) -> dict[str, int]:
    """How many cases are in each stage now ("closed" included), from the projection."""
    return {row["stage"]: row["n"] for row in await _fetch(conn, CASES_BY_STAGE)}


async def _fetch(conn: Conn, sql: str, *args: Any) -> list[Any]:
    with translated():
        rows: list[Any] = await conn.fetch(sql, *args)
    return rows
