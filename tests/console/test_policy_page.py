"""The console's policy page: every figure of a version with its value and provenance, as
`kosh policy show` prints them."""

from __future__ import annotations

import httpx
import pytest
import pytest_asyncio
from markupsafe import escape

from domain.policy import POLICY_2026_1
from domain.provenance import describe
from tests.console.test_console import sign_in, token_for
from tests.policy_versions import with_second_phase
from tests.workflows.harness import Rig


@pytest_asyncio.fixture
async def token(case_rig: Rig) -> str:
    """staff-7's sign-in token: any member may read the rules."""
    return await token_for(case_rig, "staff-7")


async def test_the_policy_page_shows_each_figure_with_its_provenance(
    browser: httpx.AsyncClient, token: str
) -> None:
    assert (await browser.get("/policy")).status_code == 303  # signed out: to the login
    await sign_in(browser, token)
    page = await browser.get("/policy")
    assert page.status_code == 200
    text = page.text
    assert "Policy 2026.1" in text
    for f in POLICY_2026_1.figures():
        assert f.provenance is not None
        assert f"<td>{escape(f.path)}</td>" in text
        assert escape(describe(f.provenance)) in text
    assert escape("PROJECTION: 2026 carried forward, not published") in text
    assert escape("one-time 70 MRP per family member (302,750 KZT in 2026)") in text


async def test_the_policy_page_reads_a_version_and_names_an_unknown_one(
    browser: httpx.AsyncClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(browser, token)
    second = with_second_phase(monkeypatch)
    page = (await browser.get(f"/policy?version={second.id}")).text
    assert f"Policy {second.id}" in page and "test only: quarterly checks" in page
    missing = await browser.get("/policy?version=2026.2")
    assert missing.status_code == 404
    assert escape("unknown policy version '2026.2'") in missing.text
