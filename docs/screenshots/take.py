"""Screenshots of the Temporal UI for docs/operators.md.

Usage: .venv/bin/python docs/screenshots/take.py

Starts its own `kosh dev --demo 6` on free ports with a temporary state folder, waits until
the cases have moved on (one closed, a kandas family in its contract), opens the Temporal UI in
headless Debian Chromium (driven by Playwright) and saves, next to this script:

  workflow-list.png   the open cases, found by a query of the guide, kosh's attributes as columns
  case-details.png    one case's User Metadata: its summary, details and current details
  case-history.png    its event history, compact, newest first: each activity and timer labelled

then stops `kosh dev` (SIGINT, and waits for it) and removes the state folder. Nothing is
downloaded: Chromium is Debian's (`make browser` installs it).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright
from temporalio.client import Client

from cli.devstack import DevStack

HERE = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DEMO = 6
SECONDS_PER_YEAR = 240  # a case month in 20 s: the first cases reach their contract in ~30 s
LIST_QUERY = "WorkflowType = 'ApplicantWorkflow' AND ExecutionStatus = 'Running'"
COLUMNS = (
    "Status",
    "Workflow ID",
    "KoshStage",
    "KoshTrack",
    "KoshRegion",
    "KoshWaitingFor",
    "KoshWaitingSince",
    "KoshNextDeadline",
    "KoshScore",
)


def log(message: str) -> None:
    print(f"take.py: {message}", flush=True)


@dataclass(frozen=True)
class Case:
    workflow_id: str
    run_id: str

    @property
    def case_id(self) -> str:
        return self.workflow_id.removeprefix("case-")


async def pick_case(address: str, *, seconds: float = 240) -> Case:
    """A kandas family in its contract, still in its first run (which carries the summary),
    once some other case has closed."""
    client = await Client.connect(address)
    contract = "ExecutionStatus = 'Running' AND KoshTrack = 'kandas' AND KoshStage = 'monitoring'"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        closed = [wf async for wf in client.list_workflows("KoshStage = 'closed'")]
        if closed:
            async for wf in client.list_workflows(contract):
                runs = [r async for r in client.list_workflows(f"WorkflowId = '{wf.id}'")]
                if len(runs) == 1:
                    return Case(wf.id, wf.run_id)
        await asyncio.sleep(1)
    raise SystemExit(f"no kandas case reached its contract within {seconds} s")


def wait_for_text(page: Page, text: str, *, seconds: float = 30) -> None:
    """Wait until `text` is drawn, in the page or in a frame of it (the UI renders a
    workflow's summary and details as Markdown in sandboxed frames)."""
    deadline = time.monotonic() + seconds
    while True:
        for frame in page.frames:
            try:
                if text in frame.inner_text("body", timeout=1000):
                    return
            except PlaywrightError:
                pass  # a frame that is gone or not drawn yet
        if time.monotonic() > deadline:
            raise SystemExit(f"{text!r} not seen within {seconds} s on {page.url}")
        page.wait_for_timeout(300)


def settle(page: Page) -> None:
    # The content is there; let the single-page app finish drawing around it (it polls a
    # running workflow, so the network never goes quiet).
    page.wait_for_timeout(1500)


def shoot_list(page: Page, ui: str, case: Case) -> None:
    page.goto(f"{ui}/namespaces/default/workflows?query={quote(LIST_QUERY)}")
    page.get_by_text(case.workflow_id, exact=True).first.wait_for()
    if not page.get_by_text("KoshWaitingFor", exact=True).count():
        log("the UI did not take the kosh columns (its settings key may have changed)")
    settle(page)
    page.screenshot(path=HERE / "workflow-list.png")


def shoot_details(page: Page, ui: str, case: Case) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{ui}/namespaces/default/workflows/{case.workflow_id}/{case.run_id}/user-metadata")
    wait_for_text(page, f"kandas case {case.case_id}")
    wait_for_text(page, "Waiting for:")
    settle(page)
    page.screenshot(path=HERE / "case-details.png")


def shoot_history(page: Page, ui: str, case: Case) -> None:
    url = f"{ui}/namespaces/default/workflows/{case.workflow_id}/{case.run_id}/history"
    # newest first: the case's latest steps, its timers among them
    page.goto(f"{url}?sort=descending")
    page.get_by_role("button", name="Compact").click()
    page.get_by_text("append KandasStatusGranted").first.wait_for()
    settle(page)
    if not page.get_by_text("Timer", exact=True).count():
        log("no timer among the steps shown in case-history.png")
    page.mouse.move(1000, 20)  # no tooltip where the pointer was left
    page.wait_for_timeout(300)
    page.screenshot(path=HERE / "case-history.png")


def shoot(ui: str, case: Case) -> None:
    columns = {"default": [{"label": c, "pinned": i < 2} for i, c in enumerate(COLUMNS)]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            # wide enough for every kosh column of the list
            context = browser.new_context(viewport={"width": 1960, "height": 900})
            # the UI keeps its column choice in localStorage: set it as an operator would
            context.add_init_script(
                "window.localStorage.setItem('namespace-workflow-table-columns', "
                f"{json.dumps(json.dumps(columns))});"
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            try:
                shoot_list(page, ui, case)
                shoot_details(page, ui, case)
                # tall: the case's header, its input, and some thirty steps of its history
                page.set_viewport_size({"width": 1760, "height": 1700})
                shoot_history(page, ui, case)
            except Exception:
                failed = Path(tempfile.gettempdir()) / "kosh-screenshot-failed.png"
                page.screenshot(path=failed)
                log(f"failed on {page.url}; the page as it was: {failed}")
                raise
        finally:
            browser.close()


def main() -> None:
    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian's chromium is missing: `make browser` installs it")
    state = Path(tempfile.mkdtemp(prefix="kosh-screenshots-"))
    dev = DevStack(
        state,
        options=["--demo", str(DEMO), "--seconds-per-year", str(SECONDS_PER_YEAR)],
        env={"COLUMNS": "200"},
        errors=state / "take-dev.log",
        stop_timeout=90,
    )
    try:
        info = dev.start(timeout=120)
        ui = info.ui_url
        assert ui is not None
        log(f"kosh dev is up (Temporal UI at {ui}); waiting for the cases to move")
        case = asyncio.run(pick_case(info.temporal_address))
        log(f"photographing {case.workflow_id} (run {case.run_id})")
        shoot(ui, case)
    finally:
        dev.stop()
        shutil.rmtree(state, ignore_errors=True)
    for name in ("workflow-list.png", "case-details.png", "case-history.png"):
        log(f"saved {HERE / name}")


if __name__ == "__main__":
    main()
