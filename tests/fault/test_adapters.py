"""Agencies that misbehave, over HTTP on the time-skipping server: a minute of 5xx on every
call, then recovery. The case waits (Temporal retries with backoff), then goes on; nothing is
paid or recorded twice. Timeouts, stalls after the work was done, duplicate and late replies
are covered beside the whole-case tests (docs/reliability.md names them)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.ports import TransientAdapterError
from adapters.simulator import SimConfig
from tests.workflows.harness import application, arrive, interview, new_case_id, of_type
from tests.workflows.test_over_http import InlineSimulator, http_rig

CALM = SimConfig(seed=7, latency_ms=(0, 1))

pytestmark = pytest.mark.fault


class DownForAWhile(InlineSimulator):
    """Every agency answers 503 while `down` is set (the test lifts it after a minute)."""

    def __init__(self) -> None:
        super().__init__(CALM)
        self.down = True
        self.refused = 0

    async def _network(self, operation: str) -> None:
        await super()._network(operation)
        if self.down:
            self.refused += 1
            raise TransientAdapterError(f"simulated outage in {operation}")


async def test_a_minute_of_5xx_delays_the_case_and_changes_nothing_else(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    sim = DownForAWhile()
    async with http_rig(time_env, embedded_pool, CALM, sim=sim) as rig:
        rig.staff.on("interview_due", interview)
        rig.staff.on("arrival_due", arrive)
        cid = new_case_id()
        h = await rig.start(application(), case_id=cid)
        await time_env.sleep(timedelta(minutes=1))  # every call meanwhile: 503
        refused, sim.down = sim.refused, False
        result = await rig.finish(h)
        attempts = await rig.attempts(h)

    assert refused >= 5, refused  # retried with backoff through the minute, not given up
    assert max(attempts["verify_documents"]) >= 5
    assert result.closed_reason == "fulfilled"
    stored = await rig.stored(cid)
    assert [s.seq for s in stored] == list(range(1, result.events + 1))
    paid = of_type([s.event for s in stored], "SupportPaid")
    assert set(sim.ledger) == {p.idempotency_key for p in paid}
    assert sim.total_paid(cid) == result.support_paid_tiyn
