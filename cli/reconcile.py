"""Three books that must agree: each workflow's own state, the business record in PostgreSQL,
and what the outside world saw (the payment adapter's ledger).

Run by `kosh dev --exit-when-done` over the cases it submitted: a disagreement is a lost or
doubled event, a place counted twice, or a tenge paid twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.simulator import Simulator
from store.events import count_events
from store.queries import case_state, payments_for, quota_usage
from workflows import api


async def _status(client: Client, case_id: str, *, patience: float = 120.0) -> api.CaseStatus:
    """The case's own account (a query: a worker replays the closed case to answer it). A
    query that times out because no worker is polling right now (one is restarting) is
    asked again until `patience` runs out."""
    handle = client.get_workflow_handle(api.case_workflow_id(case_id))
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            status: api.CaseStatus = await handle.query(
                api.QUERY_STATUS, result_type=api.CaseStatus
            )
            return status
        except RPCError as exc:
            no_worker = exc.status == RPCStatusCode.DEADLINE_EXCEEDED or "Timeout" in exc.message
            if not no_worker or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1.0)


async def reconcile(
    client: Client, pool: asyncpg.Pool, sim: Simulator, case_ids: list[str]
) -> dict[str, Any]:
    """Figures from each book for `case_ids`, and whether they agree (`ok`)."""
    statuses = [await _status(client, c) for c in case_ids]
    wanted = set(case_ids)
    async with pool.acquire() as conn:
        recorded = {c: await count_events(conn, case_id=c) for c in case_ids}
        ledger = [p for p in await payments_for(conn) if p.case_id in wanted]
        states = {c: await case_state(conn, case_id=c) for c in case_ids}
        in_use = sum(u.in_use for u in await quota_usage(conn))
        holding_anywhere = await conn.fetchval(
            "SELECT count(*) FROM cases WHERE region IS NOT NULL AND track = 'kandas'"
        )
    mismatched = sorted(s.case_id for s in statuses if s.events != recorded[s.case_id])
    events = {
        "workflows": sum(s.events for s in statuses),
        "record": sum(recorded.values()),
        "cases_differing": mismatched,
    }
    paid = {
        "adapter": sum(sim.total_paid(c) for c in case_ids),
        "ledger": sum(p.amount_tiyn for p in ledger if p.kind == "disbursement"),
        "workflows": sum(s.support_paid_tiyn for s in statuses),
    }
    adapter_keys = {k for k, (case, _, _) in sim.ledger.items() if case in wanted}
    ledger_keys = {p.idempotency_key for p in ledger if p.kind == "disbursement"}
    paid_keys_differing = sorted(adapter_keys ^ ledger_keys)
    places = {
        # every place reserved and not released, across the whole record...
        "ledger_in_use": in_use,
        "kandas_cases_holding_a_place": holding_anywhere,
        # ...and, for these cases, the workflows' own view against the record's
        "held_by_these_workflows": sum(1 for s in statuses if s.region is not None),
        "held_by_these_in_record": sum(1 for st in states.values() if st and st.region),
    }
    ok = (
        not mismatched
        and events["workflows"] == events["record"]
        and len(set(paid.values())) == 1
        and not paid_keys_differing
        and places["ledger_in_use"] == places["kandas_cases_holding_a_place"]
        and places["held_by_these_workflows"] == places["held_by_these_in_record"]
    )
    return {
        "ok": ok,
        "events": events,
        "support_paid_tiyn": paid,
        "payment_keys_differing": paid_keys_differing,
        "quota_places": places,
    }
