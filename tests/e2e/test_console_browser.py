"""A staff member in a real browser: headless Debian Chromium, driven by Playwright, against
`kosh dev` (real Temporal dev server, PostgreSQL, agencies over HTTP).

The README's walk-through, by machine: submit the example kandas application, sign in to the
console, find the case among the interviews waiting, get a bad form refused, record the
interview, and see the case move on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.e2e.devstack import running_dev

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
KOSH = Path(sys.executable).parent / "kosh"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def kosh(*args: str, state: Path) -> Any:
    done = subprocess.run(
        [str(KOSH), *args, "--state", str(state), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KOSH_TEMPORAL_ADDRESS": "", "KOSH_DATABASE_URL": ""},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make browser` installs it")
    state = tmp_path_factory.mktemp("kosh-console")
    with running_dev(state, "--seconds-per-year", "120") as info:
        yield state, info


def until(page: Page, check: Any, *, seconds: float, reload: bool = True) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not seen within {seconds} s on {page.url}"
        page.wait_for_timeout(500)
        if reload:
            page.reload()


def test_a_staff_member_records_an_interview_in_the_browser(
    stack: tuple[Path, dict[str, Any]],
) -> None:
    state, info = stack
    example = ROOT / "examples" / "kandas-family.json"
    case_id = kosh("submit", str(example), "--seconds-per-year", "120", state=state)["case_id"]
    console = info["console_url"]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{console}/cases/{case_id}")
        assert "/login" in page.url  # signed out: sent to sign in first
        page.fill("input[name=staff_id]", info["console_staff"])
        page.fill("input[name=token]", "wrong-token")
        page.click("button[type=submit]")
        assert "wrong token" in page.content()
        page.fill("input[name=staff_id]", info["console_staff"])
        page.fill("input[name=token]", info["console_token"])
        page.click("button[type=submit]")

        # the case appears among the interviews waiting once its checks are done
        page.goto(console + "/")
        until(page, lambda: page.locator(f"a[href='/cases/{case_id}']").count() > 0, seconds=90)
        # the operator's view of the same worklist, from the command line
        waiting = kosh("cases", "--waiting-for", "interview", state=state)
        assert case_id in [c["case_id"] for c in waiting]
        page.click(f"a[href='/cases/{case_id}']")
        assert page.locator("#waiting").inner_text() == "interview"

        # a bad form is named and nothing is sent
        page.check("input[value=pass]")
        page.fill("input[name=points]", "lots")
        page.click("text=Record interview")
        assert "Nothing was sent" in page.content() and "points:" in page.content()

        page.fill("input[name=points]", "84")
        page.fill("textarea[name=notes]", "answered in Kazakh throughout")
        page.click("text=Record interview")
        assert "Interview recorded." in page.content()
        until(page, lambda: page.locator("#stage").inner_text() != "scoring", seconds=60)
        browser.close()

    status = kosh("status", case_id, state=state)
    assert status["decision"] == "approve"
    events = kosh("events", case_id, state=state)
    recorded = [e for e in events if e["event"]["type"] == "InterviewRecorded"]
    assert len(recorded) == 1
    assert recorded[0]["event"]["interviewer_id"] == info["console_staff"]
    assert recorded[0]["event"]["points"] == 84
