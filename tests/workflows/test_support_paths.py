"""The employer's subsidy and the housing certificate on the time-skipping server (docs/
decisions/018): recorded by an officer, paid through the payment adapter once (a lost answer
retried pays nothing more), to the right party, in the three books alike, and not owed back
when the family leaves early."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from adapters.ports import TransientAdapterError
from adapters.simulator import Simulator
from domain.agenda import employer_subsidy_key
from domain.calendar import add_years
from store.queries import payments_for
from tests.workflows.harness import OFFICER, Rig, of_type, one, signed, update
from tests.workflows.test_life_paths import paid_total, skip_to, under_contract
from workflows import api

EMPLOYER = "BIN-990140000123"
PRICE_TIYN = 10_000_000 * 100  # a 10 million tenge home: the certificate pays half


def lose_first_answer(sim: Simulator, key: str) -> list[Any]:
    """The treasury pays the payment with `key`, but its first answer is lost on the way
    back (the activity is retried with the same key): the receipts lost are listed."""
    original, lost = sim.disburse, list[Any]()

    async def disburse(**kw: Any) -> Any:
        receipt = await original(**kw)
        if kw["idempotency_key"] == key and not lost:
            lost.append(receipt)
            raise TransientAdapterError("paid, but the answer was lost")
        return receipt

    sim.disburse = disburse  # type: ignore[method-assign]
    return lost


async def as_officer(rig: Rig, h: Any, fact: dict[str, Any]) -> api.UpdateResult:
    return await update(rig.latest(h), api.UPDATE_FACT, signed(h.id, fact, by=OFFICER))


async def test_the_employer_is_paid_once_after_two_years_and_the_family_owes_it_not(
    case_rig: Rig,
) -> None:
    h, cid, contract = await under_contract(case_rig)
    hired = contract.starts_on + timedelta(days=20)
    await skip_to(case_rig, h, hired)
    employment = {
        "kind": "employment",
        "member": 1,
        "employer_id": EMPLOYER,
        "on": hired.isoformat(),
        "housing_provided": True,
    }
    certificate = {
        "kind": "housing_certificate",
        "region": contract.region,
        "amount_tiyn": PRICE_TIYN,
        "reference": "HC-7",
    }
    assert await as_officer(case_rig, h, employment) == api.UpdateResult(accepted=True)
    assert await as_officer(case_rig, h, certificate) == api.UpdateResult(accepted=True)
    # the same application again is accepted and records nothing more; a second one is refused
    assert (await as_officer(case_rig, h, certificate)).accepted
    with pytest.raises(WorkflowUpdateFailedError) as second:  # refused by the validator
        await as_officer(case_rig, h, {**certificate, "reference": "HC-8"})
    assert isinstance(second.value.cause, ApplicationError)
    assert second.value.cause.type == "housing_certificate_issued"
    await case_rig.wait_status(
        h, lambda s: any(p.measure == "housing_certificate" for p in s.payments), timeout=10
    )

    key = employer_subsidy_key(cid, 1)
    lost = lose_first_answer(case_rig.sim, key)
    due = add_years(hired, 2)
    before = await skip_to(case_rig, h, due - timedelta(days=1))
    assert "employer_subsidy" not in {p.measure for p in before.payments}
    await skip_to(case_rig, h, due + timedelta(days=1))
    status = await case_rig.wait_status(
        h, lambda s: any(p.measure == "employer_subsidy" for p in s.payments), timeout=10
    )
    assert len(lost) == 1  # paid the first time; the retry was told so, and paid nothing more

    left_on = due + timedelta(days=30)
    await skip_to(case_rig, h, left_on)
    departure = {"kind": "departure", "on": left_on.isoformat()}
    assert (await as_officer(case_rig, h, departure)).accepted
    result = await case_rig.finish(h)  # nobody repays: referred after the due date
    assert result.closed_reason == "breach_referred"

    events = await case_rig.events(cid)
    paid = of_type(events, "SupportPaid")
    subsidy = [p for p in paid if p.measure == "employer_subsidy"]
    cert = [p for p in paid if p.measure == "housing_certificate"]
    assert [(p.idempotency_key, p.period) for p in subsidy] == [(key, "member-1")]
    assert subsidy[0].at.date() == due
    assert subsidy[0].amount_tiyn == 400 * 4325 * 100  # 400 MRP (the 2026 MRP, until 2028's)
    assert [p.amount_tiyn for p in cert] == [PRICE_TIYN // 2]
    issued = one(events, "HousingCertificateIssued")
    assert (issued.reference, issued.amount_tiyn) == ("HC-7", PRICE_TIYN // 2)
    # the family owes back its own support only: not the employer's, not the certificate
    demanded = one(events, "RepaymentDemanded")
    family = paid_total(events) - subsidy[0].amount_tiyn - cert[0].amount_tiyn
    assert demanded.amount_tiyn == family > 0
    assert {p.measure for p in status.payments} == {
        "relocation_subsidy",
        "rent",
        "housing_certificate",
        "employer_subsidy",
    }

    # the three books agree: the record, the payments ledger and the treasury's own
    async with case_rig.pool.acquire() as conn:
        ledger = [p for p in await payments_for(conn, case_id=cid) if p.kind == "disbursement"]
    assert {p.idempotency_key: p.amount_tiyn for p in ledger} == {
        p.idempotency_key: p.amount_tiyn for p in paid
    }
    assert {k: a for k, (c, a, _) in case_rig.sim.ledger.items() if c == cid} == {
        p.idempotency_key: p.amount_tiyn for p in paid
    }
    assert case_rig.sim.total_paid(cid) == paid_total(events) == result.support_paid_tiyn
    # ...and the treasury paid each to its party
    assert case_rig.sim.orders[key] == ("employer_subsidy", EMPLOYER)
    assert case_rig.sim.orders[cert[0].idempotency_key] == ("housing_certificate", "family")
    assert {case_rig.sim.orders[p.idempotency_key][1] for p in paid if p not in subsidy} == {
        "family"
    }
