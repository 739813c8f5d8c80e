"""The console's labour pages against requests on the time-skipping server: the list from
visibility, a request's picture, and an inspection's violation recorded by the signed-in case
officer (refusals named, a double submit applied once)."""

from __future__ import annotations

import asyncio

import httpx
import pytest_asyncio

from store.labour import read_labour_events
from tests.console.test_console import hidden, sign_in, token_for
from tests.workflows.harness import Rig, types
from tests.workflows.test_employer import request, start
from workflows import employer_api as eapi


@pytest_asyncio.fixture
async def officer(case_rig: Rig) -> str:
    """officer-3's sign-in token (a case officer in the test registry)."""
    return await token_for(case_rig, "officer-3")


async def test_an_inspectors_violation_recorded_in_the_console(
    case_rig: Rig, browser: httpx.AsyncClient, officer: str
) -> None:
    r = case_rig
    handle = await start(r, request(months=12))
    rid = handle.id.removeprefix("labour-")
    while (await handle.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)).stage != "permit":
        await asyncio.sleep(0.05)
    assert (await browser.get("/labour")).status_code == 303  # signed out: to the login
    assert (await sign_in(browser, officer, staff_id="officer-3")).status_code == 303

    listing = await browser.get("/labour")
    assert listing.status_code == 200 and f'href="/labour/{rid}"' in listing.text
    assert "oil_and_gas" in listing.text
    page = (await browser.get(f"/labour/{rid}")).text
    assert "Record an inspection's violation" in page and "Recorded by officer-3" in page
    assert "(hashed)" in page and "BIN-" not in page  # the employer's BIN is not shown

    form = {"csrf": hidden(page, "csrf"), "form_id": hidden(page, "form_id")}
    nothing = await browser.post(f"/labour/{rid}/violation", data={**form, "reason": "x"})
    assert nothing.status_code == 422 and "violations: tick at least one" in nothing.text
    odd = await browser.post(f"/labour/{rid}/violation", data={**form, "violations": "late_lunch"})
    assert odd.status_code == 422 and "violations.0: Input should be" in odd.text
    expired = await browser.post(
        f"/labour/{rid}/violation", data={**form, "csrf": "old", "violations": "end_not_notified"}
    )
    assert expired.status_code == 403

    found = {**form, "violations": "wage_below_floor", "reason": "payslips show half the wage"}
    sent = await browser.post(f"/labour/{rid}/violation", data=found)
    assert sent.status_code == 303
    assert "Violation recorded." in (await browser.get(f"/labour/{rid}")).text
    again = await browser.post(f"/labour/{rid}/violation", data=found)  # a double submit
    assert again.status_code == 303

    result = await asyncio.wait_for(handle.result(), 30)
    assert result.closed_reason == "violation"
    async with r.pool.acquire() as conn:
        recorded = types([e.event for e in await read_labour_events(conn, request_id=rid)])
    assert recorded.count("ViolationFound") == 1
    assert "EmployerLiabilityImposed" in recorded and "WorkerLiabilityImposed" in recorded
    closed = (await browser.get(f"/labour/{rid}")).text
    assert 'id="closed">violation' in closed and "Record an inspection" not in closed
