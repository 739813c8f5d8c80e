"""Facts of a demo family's life that no notice asks staff for: the office learns them from
another register, and the simulated staff record them when the case reaches that point."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from temporalio.service import RPCError

from domain.calendar import add_months, add_years
from domain.policy import policy_by_id
from workflows import api

log = structlog.get_logger("kosh.demo")
CITIZENSHIP_MONTH = 25  # of the contract: the family become citizens half-way through it
# A staff member's update to a case: (handle, update name, payload), signed by the caller.
Send = Callable[[Any, str, dict[str, Any]], Awaitable[None]]


async def citizenship_in_contract(handle: Any, send: Send, *, every: float = 1.0) -> None:
    """Record the family's citizenship once the case's contract reaches its month 25, dated
    the case's day (the contract runs on to its end: docs/decisions/012)."""
    case_id = handle.id
    try:
        while True:
            await asyncio.sleep(every)
            try:
                status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
            except RPCError:
                continue  # Temporal away a moment: ask again
            if status.closed_reason:
                return
            ends = status.contract_ends_on
            if status.stage != "monitoring" or ends is None:
                continue
            term = policy_by_id(status.policy_id).contract.term_years
            granted_from = add_months(add_years(ends, -term), CITIZENSHIP_MONTH - 1)
            today = status.case_time.date()
            if today >= granted_from:
                fact = {
                    "kind": "citizenship",
                    "on": today.isoformat(),
                    "request_id": f"{case_id}:citizenship",
                }
                await send(handle, api.UPDATE_FACT, fact)
                return
    except Exception as exc:  # one case's trouble never stops the staff
        log.warning("staff_action_failed", workflow_id=case_id, error=str(exc))
