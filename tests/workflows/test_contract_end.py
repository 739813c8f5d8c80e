"""The contract's end, the ends that do not close it, and the exit check, on the
time-skipping server (docs/decisions/011-013).

Each test checks the workflow's result, the business record in PostgreSQL and what the
outside world saw (the simulator's payment ledger, staff notices).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.calendar import add_months
from domain.policy import policy_by_id
from tests.workflows.harness import (
    OFFICER,
    Rig,
    application,
    as_staff,
    interview,
    of_type,
    one,
    signed,
    types,
    update,
)
from tests.workflows.test_life_paths import paid_total, skip_to, under_contract
from workflows import api


# ---- 1. residence confirmed to the last day ----------------------------------------------------
@pytest.mark.parametrize("month", [58, 59, 60])
async def test_a_late_move_only_the_registry_reports_owes_all_support(
    case_rig: Rig, month: int
) -> None:
    h, cid, contract = await under_contract(case_rig)
    moved_on = add_months(contract.starts_on, month - 1) + timedelta(days=14)
    assert contract.starts_on < moved_on < contract.ends_on
    after_days = (moved_on - contract.starts_on).days
    case_rig.sim.world.plan_move(cid, after_days=after_days, to_region="Almaty")
    result = await case_rig.finish(h)  # nobody repays: referred after the due date

    assert result.closed_reason == "breach_referred"
    events = await case_rig.events(cid)
    assert not of_type(events, "ContractFulfilled")
    found = one(events, "ResidenceDiscrepancyFound")
    left = one(events, "RegionLeft")
    demanded = one(events, "RepaymentDemanded")
    # found at the first check after the move; re-checked after the contract's end, not dropped
    assert moved_on <= found.checked_on < contract.ends_on < found.confirm_on
    assert (left.new_region, left.left_on, left.source) == ("Almaty", found.checked_on, "registry")
    assert left.at.date() == found.confirm_on
    # all the support the contract paid is owed back
    assert len(of_type(events, "SupportPaid")) == 13
    assert (
        demanded.amount_tiyn
        == paid_total(events)
        == case_rig.sim.total_paid(cid)
        == result.support_paid_tiyn
        > 0
    )
    assert one(events, "RepaymentReferred").outstanding_tiyn == demanded.amount_tiyn
    assert {"discrepancy_found", "repayment_due"} <= set(case_rig.staff.kinds(cid))
    exit_check = one(events, "ExitChecked")
    assert types(events)[-1] == "ExitChecked"
    assert (exit_check.departed_on, exit_check.flagged) == (None, False)


# ---- 2. citizenship keeps the contract running -----------------------------------------------
async def test_citizenship_during_the_contract_keeps_it_running_to_its_end(case_rig: Rig) -> None:
    h, cid, contract = await under_contract(case_rig)
    granted_on = add_months(contract.starts_on, 24) + timedelta(days=3)  # month 25
    await skip_to(case_rig, h, granted_on)
    fact = {"kind": "citizenship", "on": granted_on.isoformat()}
    accepted = await update(case_rig.latest(h), api.UPDATE_FACT, signed(h.id, fact, by=OFFICER))
    still = await case_rig.status(h)
    result = await case_rig.finish(h)

    assert accepted == api.UpdateResult(accepted=True)
    assert still.stage == "monitoring"
    assert (result.closed_reason, result.repaid_tiyn) == ("fulfilled", 0)
    events = await case_rig.events(cid)
    assert one(events, "CitizenshipGranted").granted_on == granted_on
    assert one(events, "ContractFulfilled").ended_on == contract.ends_on
    # residence went on being checked after the grant, to the contract's last day
    checks = [c.checked_on for c in of_type(events, "ResidenceConfirmed")]
    assert max(checks) == contract.ends_on - timedelta(days=1)
    assert any(day > granted_on for day in checks)
    # re-screened while a permit holder only
    screened = [r.at.date() for r in of_type(events, "RescreeningCompleted")]
    assert screened and all(day < granted_on for day in screened)
    assert len(of_type(events, "SupportPaid")) == 13
    assert paid_total(events) == case_rig.sim.total_paid(cid) == result.support_paid_tiyn
    assert not of_type(events, "RepaymentDemanded")
    assert one(events, "ExitChecked").flagged is False


# ---- 3. security from entry to exit ------------------------------------------------------------
async def test_a_rescreening_denial_under_contract_revokes_for_cause_and_claws_back(
    case_rig: Rig,
) -> None:
    h, cid, contract = await under_contract(case_rig)
    # what the security service finds at the re-screening (scoring cleared the applicant)
    case_rig.sim.world.plan_verdict(cid, "security", "deny", "listed by the security service")
    result = await case_rig.finish(h)

    assert result.closed_reason == "breach_referred"
    events = await case_rig.events(cid)
    policy = policy_by_id(contract.policy_id)
    [screened] = of_type(events, "RescreeningCompleted")
    assert (screened.outcome, screened.reason) == ("deny", "listed by the security service")
    every = timedelta(days=policy.contract.rescreening_interval_days)
    assert screened.at.date() == contract.starts_on + every
    revoked = one(events, "PermitRevoked")
    assert revoked.fault is True
    demanded = one(events, "RepaymentDemanded")
    assert demanded.amount_tiyn == paid_total(events) == case_rig.sim.total_paid(cid) > 0
    assert not of_type(events, "RegionLeft") and not of_type(events, "ContractFulfilled")
    # the permit is gone and no exit is on record: flagged for staff
    exit_check = one(events, "ExitChecked")
    assert (exit_check.departed_on, exit_check.flagged) == (None, True)
    assert "exit_flagged" in case_rig.staff.kinds(cid)


async def test_a_departure_is_confirmed_by_the_exit_check(case_rig: Rig) -> None:
    case_rig.staff.on("interview_due", interview)
    h = await case_rig.start(application(track="general"))
    cid = h.id.removeprefix("case-")
    case_rig.sim.world.plan_departure(cid, after_days=500)
    result = await case_rig.finish(h)

    assert result.closed_reason == "departed"
    events = await case_rig.events(cid)
    permit, closed = one(events, "PermitIssued"), one(events, "CaseClosed")
    exit_check = one(events, "ExitChecked")
    assert (exit_check.since, exit_check.until) == (permit.at.date(), closed.at.date())
    assert exit_check.departed_on == one(events, "DepartureRecorded").departed_on
    assert exit_check.flagged is False
    assert "exit_flagged" not in case_rig.staff.kinds(cid)
    assert result.events == len(events)


@pytest.mark.parametrize(
    ("fact", "rule", "names"),
    [
        ({"kind": "revocation", "reason": "false statements"}, "missing_field", "fault"),
        (
            {"kind": "revocation", "reason": "false statements", "fault": "maybe"},
            "invalid_input",
            "fault",
        ),
    ],
    ids=["fault-missing", "fault-not-a-boolean"],
)
async def test_a_revocation_must_say_whether_it_is_the_holders_fault(
    case_rig: Rig, fact: dict[str, object], rule: str, names: str
) -> None:
    case_rig.staff.on("interview_due", interview)
    h = await case_rig.start(application(track="general"))
    await case_rig.wait_status(h, lambda s: s.stage == "residence", timeout=15)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await as_staff(h, api.UPDATE_FACT, fact, by=OFFICER)

    cause = refused.value.cause
    assert getattr(cause, "type", None) == rule
    assert names in str(cause)
    status = await case_rig.status(h)
    assert (status.stage, status.closed_reason) == ("residence", None)  # the case is not broken
