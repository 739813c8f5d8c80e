from typing import Any

import asyncpg

from domain import events as ev
from store.events import append_events
from store.queries import case_state, list_cases
from store.rebuild import rebuild_projections
from tests.store.factories import (
    POLICY,
    approved,
    at,
    kandas_breach,
    new,
    new_case_id,
    released,
    reserved,
    submitted,
)

SNAPSHOTS = {
    "cases": "SELECT * FROM cases ORDER BY case_id",
    "quota_ledger": "SELECT * FROM quota_ledger ORDER BY region, year",
    "payments": "SELECT * FROM payments ORDER BY idempotency_key",
}


async def snapshot(conn: Any) -> dict[str, list[dict[str, Any]]]:
    return {table: [dict(r) for r in await conn.fetch(sql)] for table, sql in SNAPSHOTS.items()}


async def append_in_batches(conn: Any, case_id: str, events: list[ev.Event], size: int) -> None:
    for start in range(0, len(events), size):
        batch = [new(e) for e in events[start : start + size]]
        await append_events(conn, case_id=case_id, expected_seq=start, events=batch)


async def test_rebuild_equals_the_live_projections(pool: asyncpg.Pool) -> None:
    breach, general, moved = new_case_id(), new_case_id(), new_case_id()
    async with pool.acquire() as conn:
        await append_in_batches(conn, breach, kandas_breach(breach, "Abai", 2027), size=3)
        general_events: list[ev.Event] = [
            submitted(general, track="general"),
            *approved(score=64),
            ev.CaseClosed(
                reason="departed", detail="left the country", policy_id=POLICY, at=at(40)
            ),
        ]
        await append_in_batches(conn, general, general_events, size=2)
        moved_events: list[ev.Event] = [
            submitted(moved),
            *approved(),
            reserved("Abai", year=2027, capacity=50),
            released("Abai", year=2027),
            reserved("Atyrau", year=2027, capacity=5),
        ]
        await append_in_batches(conn, moved, moved_events, size=1)

        live = await snapshot(conn)
        await rebuild_projections(conn)
        rebuilt = await snapshot(conn)

        monitored = await list_cases(conn, region="Atyrau", stage="relocation")
        closed = await list_cases(conn, track="general", stage="closed")
        state = await case_state(conn, case_id=breach)

    assert rebuilt == live
    assert {r["case_id"] for r in live["cases"]} >= {breach, general, moved}
    assert moved in [c.case_id for c in monitored]
    assert general in [c.case_id for c in closed]
    summary = next(c for c in closed if c.case_id == general)
    assert (summary.score, summary.decision, summary.closed_reason) == (64, "approve", "departed")
    assert state is not None
    assert (state.stage, state.region, state.paid_tiyn, state.outstanding_tiyn) == (
        "repayment",
        "Abai",
        30_000_000,
        20_000_000,
    )
