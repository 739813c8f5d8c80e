"""Issue #20 in a real browser and a real Temporal CLI, against `kosh dev`: the Temporal UI's
public settings hand out no way to decrypt; an operator signs in at the codec server and the
UI (its codec settings with cross-origin credentials) shows the applicant's name; the
Temporal CLI decrypts with the operator's own credentials as a bearer; `kosh audit access`
names the operator, how they signed in, and the case's workflow for each.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.devstack import running_dev

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EXAMPLE = ROOT / "examples" / "kandas-family.json"
NAME = json.loads(EXAMPLE.read_text())["full_name"]


def kosh(*args: str, state: Path) -> Any:
    done = subprocess.run(
        [str(BIN / "kosh"), *args, "--state", str(state), "--json"],
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
    state = tmp_path_factory.mktemp("kosh-codec")
    with running_dev(state, "--seconds-per-year", "600") as info:
        yield state, info


@pytest.fixture(scope="module")
def case(stack: tuple[Path, dict[str, Any]]) -> str:
    state, _ = stack
    case_id = kosh("submit", str(EXAMPLE), "--seconds-per-year", "600", state=state)["case_id"]
    return f"case-{case_id}"


def test_nothing_reachable_without_signing_in_decrypts(
    stack: tuple[Path, dict[str, Any]], case: str
) -> None:
    """The attack: the UI's unauthenticated settings held the codec endpoint with the token."""
    _, info = stack
    settings = httpx.get(f"{info['ui_url']}/api/v1/settings", timeout=10).json()
    endpoint = settings["Codec"]["Endpoint"]
    assert endpoint == info["codec_url"]  # where the codec server is; nothing more
    assert info["codec_token"] not in json.dumps(settings) and "/t/" not in endpoint
    body = {"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="}, "data": ""}]}
    for headers in ({}, {"Authorization": f"Bearer {info['codec_token']}"}):
        answer = httpx.post(f"{endpoint}/decode", json=body, headers=headers, timeout=10)
        assert answer.status_code == 401, answer.text
    old_route = httpx.post(f"{endpoint}/t/{info['codec_token']}/decode", json=body, timeout=10)
    assert old_route.status_code == 404


def shown(page: Page, text: str, *, seconds: float) -> bool:
    """Whether `text` is on the page within `seconds` (the UI decodes after it loads)."""
    try:
        page.get_by_text(text).first.wait_for(state="attached", timeout=seconds * 1000)
    except PlaywrightTimeout:
        return False
    return True


def test_an_operator_reads_the_case_in_the_ui_and_the_reading_is_logged(
    stack: tuple[Path, dict[str, Any]], case: str
) -> None:
    state, info = stack
    ui, codec = info["ui_url"], info["codec_url"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context().new_page()
        # the UI's codec settings, as an operator sets them once (Codec Server: use my browser
        # setting, this endpoint, include cross-origin credentials): kept in localStorage
        page.goto(f"{ui}/namespaces/default/workflows")
        page.evaluate(
            """endpoint => {
                localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
                localStorage.setItem('endpoint', JSON.stringify(endpoint));
                localStorage.setItem('includeCredentials', 'true');
                localStorage.setItem('passAccessToken', 'false');
            }""",
            codec,
        )
        workflow_page = f"{ui}/namespaces/default/workflows/{case}"
        # not signed in at the codec server: the payloads stay sealed
        page.goto(workflow_page)
        assert shown(page, case, seconds=30)  # the workflow's page, loaded
        assert not shown(page, NAME, seconds=8)

        page.goto(f"{codec}/sign-in")
        page.fill("input[name=staff_id]", info["codec_staff"])
        page.fill("input[name=token]", info["codec_token"])
        page.click("button[type=submit]")
        assert "Signed in as" in page.inner_text("#signed-in")

        page.goto(workflow_page)
        assert shown(page, NAME, seconds=45)
        browser.close()

    rows = kosh("audit", "access", "--workflow", case, state=state)
    assert rows and {(r["member"], r["via"]) for r in rows} == {
        (info["codec_staff"], "staff_session")
    }


def payload_text(shown: str) -> str:
    """What the payloads in `temporal workflow show -o json` hold (their data is base64)."""
    found = re.findall(r'"data":\s*"([A-Za-z0-9+/=]*)"', shown)
    return " ".join(base64.b64decode(d).decode(errors="replace") for d in found)


def test_the_temporal_cli_decrypts_with_an_operators_own_credentials(
    stack: tuple[Path, dict[str, Any]], case: str
) -> None:
    state, info = stack
    show = [
        str(BIN / "temporal"),
        "workflow",
        "show",
        "--workflow-id",
        case,
        "--address",
        info["temporal_address"],
        "--codec-endpoint",
        info["codec_url"],
        "--output",
        "json",
    ]
    sealed = subprocess.run(show, capture_output=True, text=True, timeout=60)
    assert NAME not in payload_text(sealed.stdout)  # refused: nothing opened
    credentials = f"Bearer {info['codec_staff']}:{info['codec_token']}"
    opened = subprocess.run(
        [*show, "--codec-auth", credentials], capture_output=True, text=True, timeout=60
    )
    assert opened.returncode == 0, opened.stderr
    assert NAME in payload_text(opened.stdout)
    rows = kosh("audit", "access", "--workflow", case, "--member", info["codec_staff"], state=state)
    assert "staff_token" in {r["via"] for r in rows}
