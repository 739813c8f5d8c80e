"""Paths through a case's life on the time-skipping server: leaving early or late, a trip
that is not a move, a full region, a worker restart, and the case-year hand-over.

Where it applies each test checks the outcome three ways: the workflow's result, the
business record in PostgreSQL, and what the outside world saw (the simulator's payment
ledger and address registry, staff notices). Tests that move the clock by hand do it with
`env.sleep` while nothing awaits the result, so the case acts at a date the test chose.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.converter import decode_typed_search_attributes
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.agenda import next_wakeup
from domain.calendar import add_months
from domain.case import fold
from domain.events import ApplicationSubmitted, QuotaPlaceReserved
from domain.policy import policy_by_id, policy_in_force
from domain.regions import Region
from store.errors import QuotaExhaustedError
from store.events import NewEvent, append_events
from store.queries import QuotaUsage, quota_usage
from tests.workflows.harness import (
    GOOD_INTERVIEW,
    INTERVIEWER,
    OFFICER,
    Handle,
    Rig,
    application,
    arrive,
    interview,
    new_case_id,
    of_type,
    one,
    own_rig,
    serve,
    signed,
    types,
    update,
)
from workflows import api

# Labour-deficit regions no other workflow test settles in (domain/regions.py).
FULL_REGION: Region = "West Kazakhstan"
OPEN_REGION: Region = "North Kazakhstan"
TRIP_REGION: Region = "Almaty"


def paid_total(events: list[Any]) -> int:
    return sum(e.amount_tiyn for e in of_type(events, "SupportPaid"))


def midday(day: date) -> datetime:
    """Noon of `day`: far from the midnight timers the case wakes on."""
    return datetime.combine(day, time(12), tzinfo=UTC)


async def under_contract(rig: Rig) -> tuple[Handle, str, Any]:
    """A kandas case whose staff hold the interview and record the arrival: its handle, id
    and SocialContractSigned, once signed (the clock runs at wall speed until then)."""
    rig.staff.on("interview_due", interview)
    rig.staff.on("arrival_due", arrive)
    h = await rig.start(application())
    cid = h.id.removeprefix("case-")
    await rig.wait_status(h, lambda s: s.stage == "monitoring", timeout=15)
    return h, cid, one(await rig.events(cid), "SocialContractSigned")


async def skip_to(rig: Rig, h: Handle, day: date) -> api.CaseStatus:
    """Move the test server's clock to noon of case date `day` (timers on the way fire).

    Case time is workflow time (no `seconds_per_year`); the status query's `case_time` is the
    time of the case's last step, so the server's clock is read instead."""
    await rig.env.sleep(midday(day) - await rig.env.get_current_time())
    assert (await rig.env.get_current_time()).date() == day
    return await rig.status(h)


# ---- leaving --------------------------------------------------------------------------------
async def test_departure_in_contract_month_59_owes_all_support_paid(case_rig: Rig) -> None:
    h, cid, contract = await under_contract(case_rig)
    month_59 = add_months(contract.starts_on, 58)  # month n runs from start + (n - 1) months
    left_on = month_59 + timedelta(days=10)
    assert left_on < add_months(contract.starts_on, 59) < contract.ends_on

    before = await skip_to(case_rig, h, left_on)
    assert (before.stage, before.outstanding_tiyn) == ("monitoring", 0)
    fact = {"kind": "departure", "on": left_on.isoformat()}
    accepted = await update(case_rig.latest(h), api.UPDATE_FACT, signed(h.id, fact, by=OFFICER))
    result = await case_rig.finish(h)  # nobody repays: referred after the due date

    assert accepted == api.UpdateResult(accepted=True)
    assert result.closed_reason == "breach_referred"
    events = await case_rig.events(cid)
    departure = one(events, "DepartureRecorded")
    left = one(events, "RegionLeft")
    demanded = one(events, "RepaymentDemanded")
    assert (departure.departed_on, departure.source) == (left_on, "staff")
    assert (left.left_on, left.new_region, left.source) == (left_on, None, "staff")

    # every payment of the contract was made by month 59, and every tenge of it is owed
    paid = of_type(events, "SupportPaid")
    assert sorted(p.measure for p in paid) == ["relocation_subsidy"] + ["rent"] * 12
    assert before.support_paid_tiyn == paid_total(events) > 0
    assert (
        demanded.amount_tiyn
        == paid_total(events)
        == case_rig.sim.total_paid(cid)
        == result.support_paid_tiyn
    )
    assert demanded.rule == "full"
    assert set(case_rig.sim.ledger) == {p.idempotency_key for p in paid}
    order = types(events)
    assert "SupportPaid" not in order[order.index("RegionLeft") :]
    assert not of_type(events, "ContractFulfilled")

    referred = one(events, "RepaymentReferred")
    assert referred.outstanding_tiyn == demanded.amount_tiyn
    assert result.repaid_tiyn == 0
    assert (await case_rig.status(h)).outstanding_tiyn == demanded.amount_tiyn
    assert "repayment_due" in case_rig.staff.kinds(cid)


async def test_departure_after_month_60_owes_nothing(case_rig: Rig) -> None:
    h, cid, contract = await under_contract(case_rig)
    result = await case_rig.finish(h)

    assert (result.closed_reason, result.repaid_tiyn) == ("fulfilled", 0)
    events = await case_rig.events(cid)
    assert one(events, "ContractFulfilled").ended_on == contract.ends_on
    assert types(events)[-3:] == ["ContractFulfilled", "CaseClosed", "ExitChecked"]
    assert len(of_type(events, "SupportPaid")) == 13
    assert paid_total(events) == case_rig.sim.total_paid(cid) == result.support_paid_tiyn > 0

    # the family leaves after the contract's last day: the closed case takes nothing more
    today = (await case_rig.env.get_current_time()).date()
    assert today >= contract.ends_on
    with pytest.raises(RPCError):  # the workflow has completed: the server refuses it
        await update(
            case_rig.latest(h),
            api.UPDATE_FACT,
            signed(h.id, {"kind": "departure", "on": str(today)}, by=OFFICER),
        )
    assert await case_rig.events(cid) == events
    for never in ("DepartureRecorded", "RegionLeft", "RepaymentDemanded"):
        assert never not in types(events)
    status = await case_rig.status(h)
    assert (status.closed_reason, status.outstanding_tiyn, status.refused) == ("fulfilled", 0, ())
    assert "repayment_due" not in case_rig.staff.kinds(cid)


# ---- a trip that is not a move --------------------------------------------------------------
class Trip:
    """The address registry of a family that travels once: the first check of `case_id`
    `away_after_days` or more after settling finds them registered in `to`; every other check
    gets the simulator's answer (home)."""

    def __init__(self, registry: Any, *, case_id: str, away_after_days: int, to: Region) -> None:
        self.registry = registry
        self.case_id = case_id
        self.away_after = timedelta(days=away_after_days)
        self.to = to
        self.answers: list[tuple[date, Region | None]] = []

    async def __call__(
        self, *, case_id: str, settled_region: Region, settled_on: date, on: date
    ) -> Region | None:
        region = await self.registry(
            case_id=case_id, settled_region=settled_region, settled_on=settled_on, on=on
        )
        reported = [r for _, r in self.answers if r == self.to]
        if case_id == self.case_id and not reported and on >= settled_on + self.away_after:
            region = self.to
        if case_id == self.case_id:
            self.answers.append((on, region))
        return region


async def test_a_trip_cleared_by_the_confirmation_check_is_not_a_move(
    case_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", arrive)
    cid = new_case_id()
    trip = Trip(case_rig.sim.registered_region, case_id=cid, away_after_days=100, to=TRIP_REGION)
    monkeypatch.setattr(case_rig.sim, "registered_region", trip)
    h = await case_rig.start(application(), case_id=cid)
    result = await case_rig.finish(h)

    assert (result.closed_reason, result.repaid_tiyn) == ("fulfilled", 0)
    events = await case_rig.events(cid)
    contract = one(events, "SocialContractSigned")
    found = one(events, "ResidenceDiscrepancyFound")
    policy = policy_by_id(contract.policy_id)
    assert found.reported_region == TRIP_REGION
    assert found.confirm_on == found.checked_on + timedelta(
        days=policy.contract.confirmation_grace_days
    )
    # the registry was asked again when the grace window ended, and found the family home
    away = [(on, r) for on, r in trip.answers if r != contract.region]
    assert away == [(found.checked_on, TRIP_REGION)]
    assert (found.confirm_on, contract.region) in trip.answers
    cleared = [c for c in of_type(events, "ResidenceConfirmed") if c.checked_on == found.confirm_on]
    assert [c.region for c in cleared] == [contract.region]
    order = types(events)
    assert order.index("ResidenceDiscrepancyFound") < events.index(cleared[0])

    for never in ("RegionLeft", "RepaymentDemanded", "RepaymentReferred"):
        assert never not in order
    assert one(events, "ContractFulfilled").ended_on == contract.ends_on
    # support went on through the trip: all of it paid, once
    paid = of_type(events, "SupportPaid")
    assert len(paid) == 13
    assert paid_total(events) == case_rig.sim.total_paid(cid) == result.support_paid_tiyn
    kinds = case_rig.staff.kinds(cid)
    assert kinds.count("discrepancy_found") == 1 and "repayment_due" not in kinds
    assert (await case_rig.status(h)).outstanding_tiyn == 0


# ---- a full region ----------------------------------------------------------------------------
async def fill_region(pool: asyncpg.Pool, region: Region, year: int, *, on: datetime) -> int:
    """Reserve every place left in `region` for `year` for made-up cases, through the store's
    own reservation (the quota projection of QuotaPlaceReserved); the region's capacity."""
    policy = policy_in_force(on.date())
    capacity = policy.quota(region, year)
    assert capacity > 0
    for _ in range(capacity + 1):
        filler = f"filler-{uuid.uuid4().hex[:12]}"
        batch = [
            ApplicationSubmitted(
                policy_id=policy.id, at=on, case_id=filler, application=application()
            ),
            QuotaPlaceReserved(
                policy_id=policy.id, at=on, region=region, year=year, capacity=capacity
            ),
        ]
        try:
            async with pool.acquire() as conn:
                await append_events(
                    conn,
                    case_id=filler,
                    expected_seq=0,
                    events=[NewEvent(event_id=str(uuid.uuid4()), event=e) for e in batch],
                )
        except QuotaExhaustedError:
            return capacity
    raise AssertionError(f"{region} {year} took more than its {capacity} places")


async def usage(pool: asyncpg.Pool, region: Region, year: int) -> QuotaUsage:
    async with pool.acquire() as conn:
        [row] = [u for u in await quota_usage(conn, year=year) if u.region == region]
    return row


async def test_a_full_first_region_reserves_the_second(case_rig: Rig) -> None:
    now = await case_rig.env.get_current_time()
    years = (now.year, now.year + 1)  # the reservation may fall after New Year's Eve
    capacity = {y: await fill_region(case_rig.pool, FULL_REGION, y, on=now) for y in years}
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", arrive)

    h = await case_rig.start(application(regions=(FULL_REGION, OPEN_REGION)))
    cid = h.id.removeprefix("case-")
    result = await case_rig.finish(h)

    assert result.closed_reason == "fulfilled"
    events = await case_rig.events(cid)
    reserved = one(events, "QuotaPlaceReserved")
    assert reserved.region == OPEN_REGION and reserved.year in years
    assert one(events, "SocialContractSigned").region == OPEN_REGION
    assert not of_type(events, "KandasSupportUnavailable")
    assert paid_total(events) == case_rig.sim.total_paid(cid) == result.support_paid_tiyn > 0
    notices = [n for n in case_rig.sim.notice_log if n.case_id == cid]
    [arrival] = [n for n in notices if n.kind == "arrival_due"]
    assert OPEN_REGION in arrival.message and FULL_REGION not in arrival.message

    # the full region's round came first and reached nobody (no place left), never over-reserved
    [missed] = of_type(events, "AllocationNotReached")
    assert (missed.region, missed.cut_off) == (FULL_REGION, None)
    assert one(events, "AllocationGranted").region == OPEN_REGION
    full = await usage(case_rig.pool, FULL_REGION, reserved.year)
    assert (full.capacity, full.in_use, full.available) == (capacity[reserved.year],) * 2 + (0,)
    taken = await usage(case_rig.pool, OPEN_REGION, reserved.year)
    assert 1 <= taken.in_use <= taken.capacity


# ---- a worker restart ---------------------------------------------------------------------
async def until_idle(r: Rig, h: Handle) -> None:
    async with asyncio.timeout(10):
        while not await r.idle(h):
            await asyncio.sleep(0.05)


async def test_a_case_survives_a_worker_restart_without_paying_twice(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    async with own_rig(time_env, embedded_pool) as r:
        # The first worker keeps no workflow cache, so the server gives it no sticky queue:
        # the test server would hold the next task on a dead worker's sticky queue for good
        # (its sticky timeout runs on the clock that the pending task keeps from moving).
        async with serve(r, cache=0):
            h = await r.start(application())
            cid = h.id.removeprefix("case-")
            await r.notice("interview_due")
            await until_idle(r, h)
        # the worker has stopped: the interview waits, unprocessed, for the next one
        await h.signal(api.SIGNAL_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER))
        last_while_stopped = (await h.fetch_history()).events[-1].event_type
        recorded_while_stopped = types(await r.events(cid))

        r.staff.on("arrival_due", arrive)
        async with serve(r):  # a fresh worker: it replays the case from its history
            result = await r.finish(h)

    assert last_while_stopped == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
    assert "InterviewRecorded" not in recorded_while_stopped
    assert result.closed_reason == "fulfilled"
    events = await r.events(cid)
    assert len(of_type(events, "InterviewRecorded")) == 1
    keys = [p.idempotency_key for p in of_type(events, "SupportPaid")]
    assert len(keys) == len(set(keys)) == 13
    assert sorted(r.sim.ledger) == sorted(keys)
    assert r.sim.disbursement_calls == 13
    assert paid_total(events) == r.sim.total_paid(cid) == result.support_paid_tiyn
    assert r.staff.kinds(cid).count("interview_due") == 1


# ---- continue-as-new ------------------------------------------------------------------------
IDENTITY = ("case_id", "stage", "track", "region", "policy_id", "contract_ends_on")
PUBLISHED = (
    api.SA_STAGE,
    api.SA_TRACK,
    api.SA_REGION,
    api.SA_POLICY,
    api.SA_SCORE,
    api.SA_CONTRACT_END,
)


async def test_status_and_search_attributes_agree_across_continue_as_new(case_rig: Rig) -> None:
    h, cid, contract = await under_contract(case_rig)
    first = await case_rig.status(h)
    first_attrs = (await case_rig.latest(h).describe()).typed_search_attributes
    assert len(await case_rig.run_ids(h)) == 1

    # wake the case on each of its dates from the next New Year on, until it hands over; the
    # test then stands between two of its dates, so nothing changes while it looks
    day = date(first.case_time.year + 1, 1, 1)
    while len(runs := await case_rig.run_ids(h)) == 1:
        await skip_to(case_rig, h, day)
        wake = next_wakeup(fold(await case_rig.events(cid)))
        assert wake is not None
        day = max(wake, day + timedelta(days=1))
    old, new = (
        case_rig.env.client.get_workflow_handle(h.id, run_id=run, result_type=api.CaseResult)
        for run in runs
    )
    handed = await old.query(api.QUERY_STATUS, result_type=api.CaseStatus)
    taken = await new.query(api.QUERY_STATUS, result_type=api.CaseStatus)
    events = await case_rig.events(cid)

    assert (await old.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert first.case_time.year < handed.case_time.year
    for name in IDENTITY:
        assert getattr(first, name) == getattr(handed, name) == getattr(taken, name), name
    assert (taken.stage, taken.region) == ("monitoring", contract.region)
    # the counters go on from where the old run stopped, in step with the business record
    assert first.events <= handed.events <= taken.events == len(events)
    assert handed.support_paid_tiyn == paid_total(events[: handed.events]) > 0
    assert taken.support_paid_tiyn == paid_total(events) == case_rig.sim.total_paid(cid)

    # the new run starts with the old run's attributes (before it publishes any of its own)
    started = (await new.fetch_history()).events[0].workflow_execution_started_event_attributes
    at_start = decode_typed_search_attributes(started.search_attributes)
    old_attrs = (await old.describe()).typed_search_attributes
    new_attrs = (await new.describe()).typed_search_attributes
    for key in PUBLISHED:
        assert first_attrs.get(key) is not None, key.name
        values = (old_attrs.get(key), at_start.get(key), new_attrs.get(key))
        assert values == (first_attrs.get(key),) * 3, key.name
    assert new_attrs.get(api.SA_STAGE) == "monitoring"
    assert new_attrs.get(api.SA_REGION) == contract.region
    assert new_attrs.get(api.SA_POLICY) == contract.policy_id


# ---- history size -------------------------------------------------------------------------
async def test_every_run_of_a_five_year_case_has_under_1000_history_events(
    case_rig: Rig,
) -> None:
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", arrive)
    h = await case_rig.start(application())
    result = await case_rig.finish(h)
    assert result.closed_reason == "fulfilled"

    runs = await case_rig.run_ids(h)
    assert len(runs) >= 5
    sizes = []
    for run_id in runs:
        run = case_rig.env.client.get_workflow_handle(h.id, run_id=run_id)
        sizes.append(len((await run.fetch_history()).events))
    assert all(0 < n < 1000 for n in sizes), sizes
