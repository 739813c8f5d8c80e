"""Three books that must agree: each workflow's own state, the business record in PostgreSQL,
and what the outside world saw (the payment adapter's ledger). And the record's content
against each workflow's own account, event by event.

Run by `kosh dev --exit-when-done` over the cases it submitted: a disagreement is a lost or
doubled event, a place counted twice, a tenge paid twice, paid under another measure, or
paid to the wrong party (an employer's subsidy to the family).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, TypeVar

import asyncpg
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.ports import FAMILY
from adapters.simulator import Simulator
from domain.record import fingerprints
from store.events import count_events, read_events
from store.labour import read_labour_events
from store.queries import case_state, payments_for, quota_usage
from store.records import labour_stream
from workflows import api
from workflows import employer_api as eapi

Status = TypeVar("Status", api.CaseStatus, eapi.LabourStatus)


async def _asked(
    client: Client, workflow_id: str, result_type: type[Status], *, patience: float = 120.0
) -> Status:
    """A case's or a request's own account (a query: a worker replays the closed workflow to
    answer it). A query that times out because no worker is polling right now (one is
    restarting) is asked again until `patience` runs out."""
    handle = client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            status: Status = await handle.query(api.QUERY_STATUS, result_type=result_type)
            return status
        except RPCError as exc:
            no_worker = exc.status == RPCStatusCode.DEADLINE_EXCEEDED or "Timeout" in exc.message
            if not no_worker or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1.0)


async def _status(client: Client, case_id: str) -> api.CaseStatus:
    return await _asked(client, api.case_workflow_id(case_id), api.CaseStatus)


async def _labour_status(client: Client, request_id: str) -> eapi.LabourStatus:
    return await _asked(client, eapi.request_workflow_id(request_id), eapi.LabourStatus)


def by_measure(payments: Iterable[tuple[str | None, int]]) -> dict[str, int]:
    """Tiyn paid per support measure (the family's, the employer's subsidy, the housing
    certificate), for each book to show the same split and not only the same total."""
    out: dict[str, int] = {}
    for measure, amount in payments:
        out[measure or "?"] = out.get(measure or "?", 0) + amount
    return dict(sorted(out.items()))


def wrong_payees(orders: dict[str, tuple[str, str]]) -> list[str]:
    """Payment keys the treasury paid to the wrong party: an employer's subsidy to the family,
    or the family's support to anyone else (orders: key -> (purpose, payee))."""
    return sorted(
        key
        for key, (purpose, payee) in orders.items()
        if (purpose == "employer_subsidy") == (payee == FAMILY)
    )


def differing_events(folded: str, stored: str) -> int:
    """Events whose stored content differs from what the workflow folded (both as content
    fingerprints, 8 hex characters an event, in seq order); an event one side lacks counts."""
    own = [folded[i : i + 8] for i in range(0, len(folded), 8)]
    held = [stored[i : i + 8] for i in range(0, len(stored), 8)]
    pairs = zip(own, held, strict=False)
    return sum(a != b for a, b in pairs) + abs(len(own) - len(held))


async def content(
    client: Client, conn: asyncpg.Connection, statuses: list[api.CaseStatus], labour: list[str]
) -> dict[str, Any]:
    """Each stream in the record against the workflow's own account of it, event by event."""
    streams: dict[str, tuple[str, str]] = {}
    for s in statuses:
        stored = await read_events(conn, case_id=s.case_id)
        streams[s.case_id] = (s.fingerprints, fingerprints([e.event for e in stored]))
    for request_id in labour:
        own = (await _labour_status(client, request_id)).fingerprints
        held = await read_labour_events(conn, request_id=request_id)
        streams[labour_stream(request_id)] = (own, fingerprints([e.event for e in held]))
    differing = {k: differing_events(*pair) for k, pair in streams.items()}
    return {
        "streams": len(streams),
        "events_compared": sum(len(stored) // 8 for _, stored in streams.values()),
        "events_differing": sum(differing.values()),
        "streams_differing": sorted(k for k, n in differing.items() if n),
        # where each differing stream parts: the first seq that differs, and each side's count
        "first_differences": {
            k: first_difference(*streams[k]) for k, n in sorted(differing.items()) if n
        },
    }


def first_difference(folded: str, stored: str) -> dict[str, int]:
    own = [folded[i : i + 8] for i in range(0, len(folded), 8)]
    held = [stored[i : i + 8] for i in range(0, len(stored), 8)]
    seq = next(
        (i for i, (a, b) in enumerate(zip(own, held, strict=False)) if a != b),
        min(len(own), len(held)),
    )
    return {"seq": seq + 1, "workflow_events": len(own), "record_events": len(held)}


async def reconcile(
    client: Client,
    pool: asyncpg.Pool,
    sim: Simulator,
    case_ids: list[str],
    labour_ids: list[str] = [],  # noqa: B006 (never changed)
) -> dict[str, Any]:
    """Figures from each book for `case_ids` (and the labour requests `labour_ids`), and
    whether they agree (`ok`)."""
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
        stored_content = await content(client, conn, statuses, labour_ids)
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
    measures = {
        "adapter": by_measure((sim.orders[k][0], sim.ledger[k][1]) for k in adapter_keys),
        "ledger": by_measure(
            (p.measure, p.amount_tiyn) for p in ledger if p.kind == "disbursement"
        ),
        "workflows": by_measure(
            (p.measure, p.amount_tiyn) for s in statuses for p in s.payments if p.kind == "support"
        ),
    }
    misdirected = wrong_payees({k: sim.orders[k] for k in adapter_keys})
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
        and measures["adapter"] == measures["ledger"] == measures["workflows"]
        and not misdirected
        and places["ledger_in_use"] == places["kandas_cases_holding_a_place"]
        and places["held_by_these_workflows"] == places["held_by_these_in_record"]
        and stored_content["events_differing"] == 0
    )
    return {
        "ok": ok,
        "events": events,
        "support_paid_tiyn": paid,
        "payment_keys_differing": paid_keys_differing,
        "support_paid_by_measure": measures,
        "payments_to_wrong_payee": misdirected,
        "quota_places": places,
        "content": stored_content,
    }
