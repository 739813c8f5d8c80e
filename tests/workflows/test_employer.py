"""EmployerPermitWorkflow on the time-skipping server, one test per path: the term completed,
no shortage, no quota, the worker failing the checks, employment ended early (the place
returned), a violation found on review (liability for employer and worker; the employer's
next request refused), an inspection's violation by staff, and bad staff input refused; and
the employer shown everywhere by the keyed id its worker made (issue #20)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.labour import EmployerKeyInput, LabourActivities
from cli import demo
from domain import labour as lab
from domain.calendar import add_months
from store.labour import (
    append_labour_events,
    labour_quota_usage,
    labour_requests,
    read_labour_events,
)
from store.records import NewLabourEvent
from tests.workflows.harness import OFFICER, GatedSimulator, Rig, replayer, signed, types
from worker import build_worker
from workflows import employer_api as eapi

Handle = WorkflowHandle[Any, eapi.LabourResult]
KEY = bytes(range(32))  # the deployment's employer key (KOSH_EMPLOYER_HMAC_KEY_FILE)


def unkeyed(employer_id: str) -> str:
    """What KoshEmployer held before the key: a SHA-256 prefix anyone can recompute."""
    return hashlib.sha256(f"kosh-employer:{employer_id}".encode()).hexdigest()[:16]


def request(**changes: Any) -> lab.EmployerRequest:
    base: dict[str, Any] = {
        "employer_id": f"BIN-{uuid.uuid4().hex[:8]}",
        "employer_name": "Atyrau Drilling LLP",
        "industry": "oil_and_gas",
        "region": "Atyrau",
        "occupation": "drilling engineer",
        "vacancy_reference": f"ENB-{uuid.uuid4().hex[:8]}",
        "monthly_wage_tiyn": 900_000_00,
        "months": 6,
        "worker": {
            "full_name": "Ali Veli",
            "born_on": "1990-04-02",
            "citizenship": "TUR",
            "passport": "U12345678",
        },
    }
    return lab.EmployerRequest.model_validate({**base, **changes})


async def start(r: Rig, req: lab.EmployerRequest, *, shortage_days: int = 40) -> Handle:
    r.sim.world.plan_vacancy(req.vacancy_reference, days_on_market=shortage_days)
    request_id = f"lr-{uuid.uuid4().hex[:10]}"
    return await r.env.client.start_workflow(
        eapi.WORKFLOW_NAME,
        eapi.LabourInput(request_id=request_id, request=req),
        id=eapi.request_workflow_id(request_id),
        task_queue=r.task_queue,
        result_type=eapi.LabourResult,
    )


async def finish(r: Rig, handle: Handle) -> tuple[eapi.LabourResult, list[str]]:
    result = await asyncio.wait_for(handle.result(), 30)
    async with r.pool.acquire() as conn:
        stored = await read_labour_events(conn, request_id=result.request_id)
    await replayer().replay_workflow(await handle.fetch_history())
    return result, types([s.event for s in stored])


async def in_use(r: Rig, req: lab.EmployerRequest) -> int:
    async with r.pool.acquire() as conn:
        lines = await labour_quota_usage(conn)
    return sum(
        line.in_use
        for line in lines
        if (line.industry, line.region, line.project) == (req.industry, req.region, "")
    )


async def test_a_permit_served_to_the_end_of_its_term(case_rig: Rig) -> None:
    r = case_rig
    req = request()
    before = await in_use(r, req)
    handle = await start(r, req)
    result, recorded = await finish(r, handle)
    assert result.closed_reason == "term_completed"
    assert recorded[:4] == [
        "LabourRequestSubmitted",
        "ShortageConfirmed",
        "LabourPlaceReserved",
        "WorkerCheckCompleted",
    ]
    assert recorded.count("WorkerCheckCompleted") == 3
    assert "WorkPermitIssued" in recorded
    assert recorded.count("ObligationsReviewed") == 2  # two quarters in six months
    assert recorded[-1] == "LabourRequestClosed"
    assert await in_use(r, req) == before + 1  # the year's place was used, not returned
    status = await handle.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)
    assert status.stage == "closed" and status.reviews == 2
    async with r.pool.acquire() as conn:
        [first, *_] = await read_labour_events(conn, request_id=result.request_id)
    assert isinstance(first.event, lab.LabourRequestSubmitted)
    assert status.employer_key == first.event.employer_key != ""  # the recorded keyed id


async def test_no_shortage_is_refused_with_the_reason_and_takes_no_place(case_rig: Rig) -> None:
    r = case_rig
    req = request()
    before = await in_use(r, req)
    result, recorded = await finish(r, await start(r, req, shortage_days=5))
    assert result.closed_reason == "refused"
    assert result.detail.startswith("shortage_not_proven: the vacancy stood 5 days")
    assert recorded == ["LabourRequestSubmitted", "LabourRequestRefused", "LabourRequestClosed"]
    assert await in_use(r, req) == before


async def test_an_industry_without_quota_is_refused_with_the_reason(case_rig: Rig) -> None:
    r = case_rig
    req = request(industry="it", region="Almaty")
    result, recorded = await finish(r, await start(r, req))
    assert result.closed_reason == "refused"
    assert result.detail.startswith("no_quota: policy ")
    assert "sets no" in result.detail and "quota for it in Almaty" in result.detail
    assert "LabourPlaceReserved" not in recorded


async def test_a_worker_who_fails_the_checks_returns_the_place(case_rig: Rig) -> None:
    r = case_rig
    req = request()
    before = await in_use(r, req)
    handle = await start(r, req)
    stream = handle.id  # labour-<request id>: the simulator knows the worker by it
    r.sim.world.plan_verdict(stream, "security", "deny", "on a watch list")
    result, recorded = await finish(r, handle)
    assert result.closed_reason == "worker_failed_checks"
    assert "security: deny (on a watch list)" in result.detail
    assert "LabourPlaceReleased" in recorded and "WorkPermitIssued" not in recorded
    assert await in_use(r, req) == before


async def test_employment_ended_early_returns_the_place(case_rig: Rig) -> None:
    r = case_rig
    req = request()
    before = await in_use(r, req)
    handle = await start(r, req)
    r.sim.world.plan_employment(handle.id, event="ended", after_days=40)
    result, recorded = await finish(r, handle)
    assert result.closed_reason == "ended_early"
    assert "the place returned to the quota" in result.detail
    assert recorded[-3:] == ["EmploymentEnded", "LabourPlaceReleased", "LabourRequestClosed"]
    assert await in_use(r, req) == before


async def test_a_violation_makes_employer_and_worker_liable(case_rig: Rig) -> None:
    r = case_rig
    req = request()
    handle = await start(r, req)
    r.sim.world.plan_employment(handle.id, event="underpaid", after_days=30)
    r.sim.world.plan_departure(handle.id, after_days=0)
    result, recorded = await finish(r, handle)
    assert result.closed_reason == "violation"
    for liable in ("ViolationFound", "EmployerLiabilityImposed", "WorkerLiabilityImposed"):
        assert liable in recorded
    assert "wage_below_floor: employer fined" in result.detail
    assert "permit revoked" in result.detail
    async with r.pool.acquire() as conn:
        stored = await read_labour_events(conn, request_id=result.request_id)
    employer = next(s.event for s in stored if isinstance(s.event, lab.EmployerLiabilityImposed))
    assert employer.fine_tiyn == 200 * 4325 * 100  # policy: 200 MRP for underpaying
    worker = next(s.event for s in stored if isinstance(s.event, lab.WorkerLiabilityImposed))
    assert worker.permit_revoked
    # The employer loses its quota rights for the policy's twelve months.
    async with r.pool.acquire() as conn:
        until = await conn.fetchval(
            "SELECT suspended_until FROM employer_sanctions WHERE employer_id = $1",
            req.employer_id,
        )
    assert until == employer.quota_rights_suspended_until
    assert until == add_months(employer.at.date(), 12)


async def test_a_suspended_employers_request_is_refused(case_rig: Rig) -> None:
    r = case_rig
    req = request()
    earlier = f"lr-{uuid.uuid4().hex[:10]}"  # an earlier violation, as the record holds it
    at = datetime.now(UTC)
    async with r.pool.acquire() as conn:
        await append_labour_events(
            conn,
            request_id=earlier,
            expected_seq=0,
            events=[
                NewLabourEvent(event_id=str(uuid.uuid4()), event=e)
                for e in (
                    lab.LabourRequestSubmitted(
                        policy_id="2026.1", at=at, request_id=earlier, request=req
                    ),
                    lab.EmployerLiabilityImposed(
                        policy_id="2026.1",
                        at=at,
                        employer_id=req.employer_id,
                        fine_tiyn=1,
                        quota_rights_suspended_until=date(2999, 1, 1),
                        violations=("wage_below_floor",),
                    ),
                )
            ],
        )
    result, recorded = await finish(r, await start(r, req))
    assert result.closed_reason == "refused"
    assert result.detail.startswith(f"employer_suspended: employer {req.employer_id} has no")
    assert "LabourPlaceReserved" not in recorded


async def test_an_inspectors_violation_and_bad_staff_input(case_rig: Rig) -> None:
    r = case_rig
    req = request(months=12)
    handle = await start(r, req)
    while (await handle.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)).stage != "permit":
        await asyncio.sleep(0.05)
    # Malformed: refused by the validator, naming the field and the rule; nothing recorded.
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            eapi.UPDATE_FACT, signed(handle.id, {"kind": "violation"}, by=OFFICER)
        )
    assert "missing_field: violations" in str(err.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            eapi.UPDATE_FACT, signed(handle.id, {"kind": "fire"}, by=OFFICER)
        )
    assert "invalid_input: kind" in str(err.value.cause)
    # Someone the registry does not know, and an interviewer: refused, kept in the status.
    fact = {
        "kind": "violation",
        "violations": ["address_not_registered"],
        "reason": "inspection found no registration",
    }
    for who, rule in (("nobody", "unauthenticated"), ("staff-7", "actor_not_authorised")):
        refused = await handle.execute_update(
            eapi.UPDATE_FACT, signed(handle.id, fact, by=who), result_type=eapi.LabourUpdateResult
        )
        assert not refused.accepted and refused.reason.startswith(rule)
    accepted = await handle.execute_update(
        eapi.UPDATE_FACT, signed(handle.id, fact, by=OFFICER), result_type=eapi.LabourUpdateResult
    )
    assert accepted.accepted
    result, _ = await finish(r, handle)
    assert result.closed_reason == "violation"
    assert "no departure recorded by the exit date" in result.detail
    status = await handle.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)
    assert status.violations == ("address_not_registered",)
    assert [x.rule for x in status.refused] == ["unauthenticated", "actor_not_authorised"]
    assert status.quota_rights_suspended_until is not None
    assert status.quota_rights_suspended_until > date(2026, 1, 1)


async def test_the_employer_is_shown_by_the_keyed_id_its_worker_made(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    """The worker keys the BIN (an activity at the start); the request records the
    value and shows it in KoshEmployer, the status query and the record's projection."""
    req = request()
    sim = GatedSimulator()
    sim.world.plan_vacancy(req.vacancy_reference, days_on_market=5)  # refused: a short run
    queue, request_id = f"emp-{uuid.uuid4()}", f"lr-{uuid.uuid4().hex[:10]}"
    async with build_worker(
        time_env.client, pool=embedded_pool, sim=sim, task_queue=queue, employer_secret=KEY
    ):
        handle = await time_env.client.start_workflow(
            eapi.WORKFLOW_NAME,
            eapi.LabourInput(request_id=request_id, request=req),
            id=eapi.request_workflow_id(request_id),
            task_queue=queue,
            result_type=eapi.LabourResult,
        )
        result = await asyncio.wait_for(handle.result(), 30)
        status = await handle.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)
    keyed = lab.employer_key(req.employer_id, KEY)
    assert result.closed_reason == "refused" and keyed != unkeyed(req.employer_id)
    assert status.employer_key == keyed
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(eapi.SA_EMPLOYER) == keyed
    async with embedded_pool.acquire() as conn:
        [submitted, *_] = await read_labour_events(conn, request_id=request_id)
        rows = {r.request_id: r for r in await labour_requests(conn, limit=1000)}
    assert isinstance(submitted.event, lab.LabourRequestSubmitted)
    assert submitted.event.employer_key == keyed
    assert rows[request_id].employer_key == keyed
    await replayer().replay_workflow(await handle.fetch_history())


async def test_the_demos_employers_get_keyed_ids_no_list_of_bins_recovers() -> None:
    """The attack (issue #20): the demo's request ids name its BINs' prefix, so 1,000
    candidates covered every employer; against the keyed ids none matches without the key."""
    requests = demo.labour_cohort(15, seed=7, prefix="demo1767225600")
    labour = LabourActivities(agencies=GatedSimulator(), pool=None, employer_secret=KEY)  # type: ignore[arg-type]
    env = ActivityEnvironment()
    shown = {}
    for d in requests:
        made = await env.run(
            labour.pseudonymise_employer,
            EmployerKeyInput(request_id=d.request_id, employer_id=d.request.employer_id),
        )
        shown[d.request.employer_id] = made.employer_key
    assert len(set(shown.values())) == 15
    candidates = [f"BIN-225600{n:03d}" for n in range(1000)]
    assert set(shown) <= set(candidates)  # the list the tester tried holds them all
    assert not {unkeyed(c) for c in candidates} & set(shown.values())
    assert not {lab.employer_key(c, bytes(32)) for c in candidates} & set(shown.values())
    assert {c for c in candidates if lab.employer_key(c, KEY) in shown.values()} == set(shown)
