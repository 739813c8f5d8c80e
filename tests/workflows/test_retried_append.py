"""A worker killed after an append and before the workflow task that took its answer completed
(issue #25): Temporal hands the task out again later, with a later clock. The append is an
ordinary activity (docs/decisions/022): its command and its answer are in the history, so the
retried task takes the recorded answer and decides nothing again; nothing is adopted, nothing
is appended twice, and the case or request closes as it would have undisturbed. (Under local
appends the retried task decided again, later, and adopted the record's version: decision 010.)

On the real dev server (its clock is the wall's; the cases run on a compressed one, as the
soak's do), for every kind of append the workflows make: a decision, a quota place, a payment,
the closing, a labour place and a labour request's closing. Each test runs the killed cases
beside an undisturbed one and compares them; then compares each stream in the record with the
workflow's own account of it, event by event (the content fingerprints of what it folded)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain import labour as lab
from domain.record import fingerprints
from store.events import read_events
from store.labour import read_labour_events
from tests.workflows.dying import DyingApplicantWorkflow, DyingEmployerWorkflow
from tests.workflows.fault_switch import FAULTS, Fault
from tests.workflows.harness import Rig, application, arrive, interview, new_case_id, rig
from tests.workflows.test_employer import request
from workflows import api
from workflows import employer_api as eapi
from workflows.allocation.round import AllocationRoundWorkflow

SECONDS_PER_YEAR = 6.0  # the soak's clock: a second is two case months
CASE_APPENDS = (
    "QuestionnaireScored",  # the parallel checks: the others still in flight when it adopts
    "LanguageTestScored",
    "AuthorityCheckRequested",
    "PermitIssued",
    "QuotaPlaceReserved",
    "SupportPaid",
    "CaseClosed",
)
LABOUR_APPENDS = ("LabourPlaceReserved", "LabourRequestClosed")
LAST_APPENDS = {"LabourRequestClosed"}  # a labour request appends nothing after its closing


@pytest_asyncio.fixture
async def dying_rig(
    live_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> AsyncIterator[Rig]:
    """A worker whose workflows die after an append when a test arms them (FAULTS)."""
    dying = (DyingApplicantWorkflow, DyingEmployerWorkflow, AllocationRoundWorkflow)
    async with rig(live_env, embedded_pool, quarantined=True, workflows=dying) as r:
        r.staff.on("interview_due", interview)
        r.staff.on("arrival_due", arrive)
        yield r


def recovered_later(fault: Fault) -> None:
    """The worker died after the append; the task, handed out again later, took its recorded
    answer: it had nothing to adopt. (After a workflow's last append, the closing, the retried
    task appends nothing more: the workflow's result shows it ran.)"""
    assert fault.died_at is not None and fault.adopted == (), fault
    if fault.target in LAST_APPENDS:
        assert fault.state == "down" and fault.retried_at is None, fault
        return
    assert fault.state == "recovered" and fault.retried_at is not None, fault
    assert fault.retried_at >= fault.died_at + fault.down_for


async def test_a_case_takes_up_what_its_killed_task_recorded(dying_rig: Rig) -> None:
    r = dying_rig
    ids = {target: new_case_id() for target in CASE_APPENDS}
    faults = {t: FAULTS.setdefault(api.case_workflow_id(c), Fault(t)) for t, c in ids.items()}
    calm_id = new_case_id()
    # Staff get 5 wall seconds at least: their answer is checked by an activity (decision 022),
    # which a loaded machine (CI's, the whole suite beside it) can keep longer than 1 s, and
    # an interview deadline lapsed then rejects the case (a floor is a minimum, not a delay)
    clock: dict[str, Any] = {"seconds_per_year": SECONDS_PER_YEAR, "human_floor_seconds": 5.0}
    handles = [await r.start(application(), case_id=c, **clock) for c in [*ids.values(), calm_id]]

    results = await asyncio.gather(*(r.finish(h, timeout=180) for h in handles))

    async with r.pool.acquire() as conn:
        calm = [s.event for s in await read_events(conn, case_id=calm_id)]
        for (target, case_id), handle, result in zip(ids.items(), handles, results, strict=False):
            recovered_later(faults[target])
            stored = [s.event for s in await read_events(conn, case_id=case_id)]
            # the same life as the undisturbed case, event for event, tenge for tenge
            assert result.closed_reason == results[-1].closed_reason == "fulfilled", target
            # (the kill costs a task timeout, 10 s, weeks on this clock: a case killed while
            # scoring may cross the pilot's 29-day limit, flagged, that the calm one did not)
            flagged = "ProcedureLimitFlagged"
            assert Counter(e.type for e in stored if e.type != flagged) == Counter(
                e.type for e in calm if e.type != flagged
            ), target
            assert result.support_paid_tiyn == results[-1].support_paid_tiyn, target
            # and the record holds exactly what the workflow folded
            status = await r.status(handle)
            assert status.fingerprints == fingerprints(stored), target
            assert status.events == len(stored), target


async def test_a_labour_request_takes_up_what_its_killed_task_recorded(dying_rig: Rig) -> None:
    r = dying_rig
    requests = {target: f"lr-{uuid.uuid4().hex[:10]}" for target in LABOUR_APPENDS}
    faults = {
        t: FAULTS.setdefault(eapi.request_workflow_id(rid), Fault(t)) for t, rid in requests.items()
    }
    calm_id = f"lr-{uuid.uuid4().hex[:10]}"
    handles = [await start(r, rid) for rid in [*requests.values(), calm_id]]

    results = await asyncio.gather(*(asyncio.wait_for(h.result(), 180) for h in handles))

    async with r.pool.acquire() as conn:
        calm = {s.event.type for s in await read_labour_events(conn, request_id=calm_id)}
        for (target, rid), handle, result in zip(requests.items(), handles, results, strict=False):
            recovered_later(faults[target])
            stored = [s.event for s in await read_labour_events(conn, request_id=rid)]
            assert result.closed_reason == results[-1].closed_reason == "term_completed", target
            # the same kinds of event (a request killed before its permit got it a task
            # timeout later, 10 s: a case year and a half on this clock, so its quarterly
            # reviews may fall on one more quarter's end than the undisturbed one's)
            assert {e.type for e in stored} == calm, target
            status = await handle.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)
            assert status.fingerprints == fingerprints(stored), target


async def start(r: Rig, request_id: str) -> WorkflowHandle[Any, eapi.LabourResult]:
    req: lab.EmployerRequest = request()
    r.sim.world.plan_vacancy(req.vacancy_reference, days_on_market=40)
    return await r.env.client.start_workflow(
        eapi.WORKFLOW_NAME,
        eapi.LabourInput(request_id=request_id, request=req, seconds_per_year=SECONDS_PER_YEAR),
        id=eapi.request_workflow_id(request_id),
        task_queue=r.task_queue,
        result_type=eapi.LabourResult,
    )
