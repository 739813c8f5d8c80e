"""Whole cases, entry to exit, on the time-skipping server: five years in seconds.

Each test checks the outcome three ways: the workflow's result, the business record in
PostgreSQL, and what the outside world saw (the simulator's payment ledger, staff notices).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus

from domain.calendar import add_years
from domain.policy import policy_by_id
from store.queries import payments_for, quota_usage
from tests.workflows.harness import (
    FULL_NAME,
    OFFICER,
    Rig,
    application,
    arrive,
    interview,
    of_type,
    one,
    repay_in,
    signed,
    types,
    withdraw,
)
from workflows import api


def paid_total(events: list) -> int:
    return sum(e.amount_tiyn for e in of_type(events, "SupportPaid"))


async def test_kandas_case_is_fulfilled_after_five_years(case_rig: Rig) -> None:
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", arrive)
    started = time.monotonic()

    h = await case_rig.start(application())
    result = await case_rig.finish(h)

    assert time.monotonic() - started < 20  # five case-years, skipped
    assert (result.closed_reason, result.detail) == (
        "fulfilled",
        "five-year social contract fulfilled",
    )
    events = await case_rig.events(result.case_id)
    assert [s for s, _ in enumerate(events, 1)] == list(range(1, result.events + 1))
    assert types(events)[-3:] == ["ContractFulfilled", "CaseClosed", "ExitChecked"]
    contract = one(events, "SocialContractSigned")
    assert one(events, "ContractFulfilled").ended_on == contract.ends_on

    # support: one relocation subsidy and twelve months of rent, each paid exactly once
    paid = of_type(events, "SupportPaid")
    assert sorted(p.measure for p in paid) == ["relocation_subsidy"] + ["rent"] * 12
    assert len({p.period for p in paid if p.measure == "rent"}) == 12
    policy = policy_by_id(contract.policy_id)
    subsidy = next(p for p in paid if p.period == "once")
    mrp = policy.mrp(contract.starts_on.year)
    assert subsidy.amount_tiyn == 70 * 3 * mrp * 100  # 70 MRP per member, a family of three
    assert case_rig.sim.disbursement_calls == 13
    assert set(case_rig.sim.ledger) == {p.idempotency_key for p in paid}

    # the same money in the ledger, the business record, the projection and the result
    async with case_rig.pool.acquire() as conn:
        projected = await payments_for(conn, case_id=result.case_id)
    assert (
        case_rig.sim.total_paid(result.case_id)
        == paid_total(events)
        == sum(p.amount_tiyn for p in projected)
        == result.support_paid_tiyn
        > 0
    )

    # one run per case-year of the contract: continue-as-new handed the state over
    runs = await case_rig.run_ids(h)
    assert len(runs) >= 5
    first = await case_rig.env.client.get_workflow_handle(h.id, run_id=runs[0]).describe()
    assert runs[0] == h.first_execution_run_id
    assert first.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    last = await case_rig.latest(h).describe()
    assert (last.run_id, last.status) == (runs[-1], WorkflowExecutionStatus.COMPLETED)

    status = await case_rig.status(h)
    assert (status.stage, status.closed_reason) == ("closed", "fulfilled")
    assert (status.support_paid_tiyn, status.events) == (result.support_paid_tiyn, result.events)
    # the payments survive every continue-as-new: the last run lists all of them
    assert [(p.kind, p.reference, p.amount_tiyn) for p in status.payments] == [
        ("support", p.payment_reference, p.amount_tiyn) for p in paid
    ]


async def test_general_track_is_permanent_residence_renewed_until_an_exit(case_rig: Rig) -> None:
    """No term ends it (docs/decisions/019): its card is renewed after ten years, re-screening
    and border checks go on, and the case closes when border control reports a departure."""
    case_rig.staff.on("interview_due", interview)
    h = await case_rig.start(application(track="general"))
    case_rig.sim.world.plan_departure(h.id.removeprefix("case-"), after_days=3800)
    result = await case_rig.finish(h, timeout=60)

    assert result.closed_reason == "departed"
    assert (result.support_paid_tiyn, case_rig.sim.total_paid(result.case_id)) == (0, 0)
    events = await case_rig.events(result.case_id)
    permit = one(events, "PermitIssued")
    assert permit.valid_until == add_years(permit.at.date(), 10)
    renewed = one(events, "PermitRenewed")
    assert (renewed.at.date(), renewed.permit_number) == (permit.valid_until, permit.permit_number)
    assert renewed.valid_until == add_years(permit.valid_until, 10)
    assert not of_type(events, "PermitRevoked")
    # re-screened once a year before the renewal, and on after it: the departure on day 3,800
    # is found by the first check after the renewal (day 4,015), so ten checks were clear
    rescreened = of_type(events, "RescreeningCompleted")
    assert len(rescreened) == 10
    departure = one(events, "DepartureRecorded")
    assert (departure.departed_on, departure.source) == (
        permit.at.date() + timedelta(days=3800),
        "border",
    )
    assert one(events, "CaseClosed").at.date() == permit.at.date() + timedelta(days=4015)
    assert not of_type(events, "SupportPaid") and not of_type(events, "QuotaPlaceReserved")
    assert len(await case_rig.run_ids(h)) >= 10


async def test_general_track_departure_found_at_the_border_ends_the_case(case_rig: Rig) -> None:
    case_rig.staff.on("interview_due", interview)
    h = await case_rig.start(application(track="general"))
    case_rig.sim.world.plan_departure(h.id.removeprefix("case-"), after_days=500)
    result = await case_rig.finish(h)

    assert result.closed_reason == "departed"
    events = await case_rig.events(result.case_id)
    permit = one(events, "PermitIssued")
    departure = one(events, "DepartureRecorded")
    assert departure.source == "border"
    assert departure.departed_on == permit.at.date() + timedelta(days=500)
    # found at the first re-screening after the departure, the one before it was clear
    assert len(of_type(events, "RescreeningCompleted")) == 1
    assert types(events)[-3:] == ["DepartureRecorded", "CaseClosed", "ExitChecked"]


@pytest.mark.parametrize(
    ("instalments", "closed_reason"), [(2, "breach_repaid"), (0, "breach_referred")]
)
async def test_move_found_by_the_address_registry_demands_back_the_support_paid(
    case_rig: Rig, instalments: int, closed_reason: str
) -> None:
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", arrive)
    if instalments:
        case_rig.staff.on("repayment_due", repay_in(instalments))
    h = await case_rig.start(application())
    cid = h.id.removeprefix("case-")
    # a move before the first check (every 182 days under 2026.1), found while rent still runs
    case_rig.sim.world.plan_move(cid, after_days=100, to_region="Almaty")
    result = await case_rig.finish(h)

    assert result.closed_reason == closed_reason
    events = await case_rig.events(cid)
    contract = one(events, "SocialContractSigned")
    found = one(events, "ResidenceDiscrepancyFound")
    left = one(events, "RegionLeft")
    demanded = one(events, "RepaymentDemanded")
    policy = policy_by_id(contract.policy_id)

    # found at the first check after the move, confirmed after the grace period
    assert found.reported_region == "Almaty"
    assert found.checked_on >= contract.starts_on + timedelta(days=100)
    assert found.confirm_on == found.checked_on + timedelta(
        days=policy.contract.confirmation_grace_days
    )
    assert (left.new_region, left.left_on, left.source) == ("Almaty", found.checked_on, "registry")
    assert left.at.date() == found.confirm_on

    # exactly what was paid so far is demanded; nothing is paid after the breach
    order = types(events)
    assert "SupportPaid" not in order[order.index("RegionLeft") :]
    assert 1 < len(of_type(events, "SupportPaid")) < 13
    assert demanded.amount_tiyn == paid_total(events) == case_rig.sim.total_paid(cid)
    assert demanded.amount_tiyn == result.support_paid_tiyn
    assert {"discrepancy_found", "repayment_due"} <= set(case_rig.staff.kinds(cid))

    received = of_type(events, "RepaymentReceived")
    if instalments:
        assert len(received) == instalments
        assert sum(r.amount_tiyn for r in received) == demanded.amount_tiyn
        assert result.repaid_tiyn == demanded.amount_tiyn
        assert order[-3:] == ["RepaymentReceived", "CaseClosed", "ExitChecked"]
    else:
        assert received == [] and result.repaid_tiyn == 0
        referred = one(events, "RepaymentReferred")
        assert referred.outstanding_tiyn == demanded.amount_tiyn
        assert referred.at.date() > demanded.due_on
    status = await case_rig.status(h)
    assert status.outstanding_tiyn == demanded.amount_tiyn - result.repaid_tiyn
    assert [p.reference for p in status.payments if p.kind == "repayment"] == [
        r.reference for r in received
    ]


async def test_no_arrival_by_the_deadline_lapses_and_releases_the_quota_place(
    case_rig: Rig,
) -> None:
    case_rig.staff.on("interview_due", interview)
    async with case_rig.pool.acquire() as conn:
        before = {(u.region, u.year): u for u in await quota_usage(conn)}

    h = await case_rig.start(application(regions=("Atyrau",)))
    result = await case_rig.finish(h)

    assert result.closed_reason == "relocation_lapsed"
    events = await case_rig.events(result.case_id)
    reserved = one(events, "QuotaPlaceReserved")
    released = one(events, "QuotaPlaceReleased")
    assert (
        (released.region, released.year)
        == (reserved.region, reserved.year)
        == (
            "Atyrau",
            reserved.year,
        )
    )
    policy = policy_by_id(reserved.policy_id)
    assert (released.at.date() - reserved.at.date()).days == policy.deadlines.arrival_days
    assert types(events)[-3:] == ["QuotaPlaceReleased", "CaseClosed", "ExitChecked"]
    assert "arrival_due" in case_rig.staff.kinds(result.case_id)

    async with case_rig.pool.acquire() as conn:
        [after] = [u for u in await quota_usage(conn, year=reserved.year) if u.region == "Atyrau"]
    previous = before.get(("Atyrau", reserved.year))
    assert after.reserved - (previous.reserved if previous else 0) == 1
    assert after.released - (previous.released if previous else 0) == 1


async def test_withdrawal_during_scoring_closes_the_case(case_rig: Rig) -> None:
    h = await case_rig.start(application())
    await case_rig.notice("interview_due")
    fact = {"kind": "withdrawal", "reason": "the family decided to stay"}
    accepted = await h.execute_update(
        api.UPDATE_FACT, signed(h.id, fact, by=OFFICER), result_type=api.UpdateResult
    )
    result = await case_rig.finish(h)

    assert accepted == api.UpdateResult(accepted=True)
    assert (result.closed_reason, result.detail) == ("withdrawn", "the family decided to stay")
    events = await case_rig.events(result.case_id)
    assert types(events)[-2:] == ["CaseClosed", "ExitChecked"]
    for never in ("InterviewRecorded", "ScoreComputed", "PermitIssued", "QuotaPlaceReleased"):
        assert never not in types(events)


async def test_search_attributes_and_details_carry_no_personal_data(case_rig: Rig) -> None:
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", withdraw)
    app = application()
    h = await case_rig.start(app)
    result = await case_rig.finish(h)
    assert result.closed_reason == "withdrawn"

    desc = await case_rig.latest(h).describe()
    attrs = desc.typed_search_attributes
    assert attrs.get(api.SA_STAGE) == "closed"
    assert attrs.get(api.SA_CLOSE_REASON) == "withdrawn"
    assert attrs.get(api.SA_TRACK) == "kandas"
    assert attrs.get(api.SA_REGION) in app.preferred_regions
    score = one(await case_rig.events(result.case_id), "ScoreComputed").breakdown.total
    assert attrs.get(api.SA_SCORE) == score

    metadata = await h.query("__temporal_workflow_metadata")
    published = [str(p.value) for p in attrs] + [metadata.current_details]
    published += [await desc.static_summary() or "", await desc.static_details() or ""]
    personal = [FULL_NAME, *FULL_NAME.split(), app.document.number, app.born_on.isoformat()]
    personal += [m.full_name for m in app.family]
    assert not [(p, v) for p in personal for v in published if p in v]


async def test_free_text_reasons_are_not_published_in_the_workflow_details(
    case_rig: Rig,
) -> None:
    h = await case_rig.start(application())
    await case_rig.notice("interview_due")
    fact = signed(
        h.id, {"kind": "withdrawal", "reason": f"{FULL_NAME} found work abroad"}, by=OFFICER
    )
    await h.execute_update(api.UPDATE_FACT, fact, result_type=api.UpdateResult)
    await case_rig.finish(h)

    metadata = await h.query("__temporal_workflow_metadata")
    assert FULL_NAME not in metadata.current_details


async def test_operators_see_what_a_case_waits_for_and_until_when(case_rig: Rig) -> None:
    h = await case_rig.start(application())
    await case_rig.notice("interview_due")  # the clock now runs at wall speed
    status = await case_rig.wait_status(h, lambda s: "interview" in s.deadlines)
    assert status.waiting_for == "interview"

    desc = await h.describe()
    assert await desc.static_summary() == f"kandas case {status.case_id}"
    deadline = desc.typed_search_attributes.get(api.SA_NEXT_DEADLINE)
    assert deadline is not None and deadline.date() == status.deadlines["interview"]
    attrs = desc.typed_search_attributes
    assert attrs.get(api.SA_WAITING_FOR) == "interview"
    since = attrs.get(api.SA_WAITING_SINCE)
    events = await case_rig.events(status.case_id)
    checks_done = max(e.at for e in events if e.type != "ApplicationSubmitted")
    assert since is not None and since >= checks_done and since <= status.case_time
    metadata = await h.query("__temporal_workflow_metadata")
    assert "**Waiting for:** interview" in metadata.current_details

    # every timer and activity in the history says what it is for
    history = await h.fetch_history()
    timers = [e for e in history.events if e.HasField("timer_started_event_attributes")]
    activities = [
        e for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert timers and activities
    converter = case_rig.env.client.data_converter.payload_converter
    summaries = [
        converter.from_payloads([e.user_metadata.summary])[0] for e in [*timers, *activities]
    ]
    assert all(isinstance(x, str) and x for x in summaries)
    assert "interview deadline" in summaries[: len(timers)]
    assert {"ask security for a check", "verify documents"} <= set(summaries)


async def test_the_address_registry_reports_the_arrival(case_rig: Rig) -> None:
    case_rig.staff.on("interview_due", interview)
    h = await case_rig.start(application())
    cid = h.id.removeprefix("case-")
    case_rig.sim.world.plan_registration(cid)
    assert await case_rig.recorded(cid, "SocialContractSigned", timeout=10)

    events = await case_rig.events(cid)
    reserved = one(events, "QuotaPlaceReserved")
    arrived = one(events, "RelocationArrived")
    assert arrived.region == reserved.region
    assert arrived.arrived_on == reserved.at.date()  # registered as soon as the place was held
    sent = [n.kind for n in case_rig.sim.notice_log if n.case_id == cid]
    assert "arrival_due" in sent  # told, but nothing left to do
    status = await case_rig.status(h)
    assert status.refused == ()


async def test_the_treasury_invoices_the_debt_and_reports_each_transfer(case_rig: Rig) -> None:
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", arrive)
    h = await case_rig.start(application())
    cid = h.id.removeprefix("case-")
    # a move before the first check (every 182 days under 2026.1), found while rent still runs
    case_rig.sim.world.plan_move(cid, after_days=100, to_region="Almaty")
    case_rig.sim.world.plan_repayment(cid, parts=3)
    result = await case_rig.finish(h)

    assert result.closed_reason == "breach_repaid"
    events = await case_rig.events(cid)
    demanded = one(events, "RepaymentDemanded")
    invoiced = one(events, "RepaymentInvoiced")
    assert (invoiced.amount_tiyn, invoiced.due_on) == (demanded.amount_tiyn, demanded.due_on)
    assert case_rig.sim.invoices == {
        f"{cid}:repayment:invoice": (invoiced.invoice, demanded.amount_tiyn)
    }
    received = of_type(events, "RepaymentReceived")
    assert [r.reference for r in received] == [f"{invoiced.invoice}-{i}" for i in (1, 2, 3)]
    assert sum(r.amount_tiyn for r in received) == demanded.amount_tiyn == result.repaid_tiyn
