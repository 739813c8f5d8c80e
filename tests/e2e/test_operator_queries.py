"""The operators' guide against a live `kosh dev`: every visibility query in docs/operators.md
(each of its fenced `sql` blocks) is accepted by the dev server, and the ones an operator leans
on find exactly the cases they promise.

One `kosh dev --demo 10` keeps running for the whole module (a compressed clock: the rejected
and withdrawn demo cases close within a minute); one more case, submitted here and answered by
nobody, waits for its interview. The guide's placeholders (`<today>`, `<10 days ago>`,
`<in 7 days>`, `<case id>`) are filled in here, so the guide holds no date that goes stale.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError

from cli import demo
from tests.e2e.devstack import running_dev
from workflows import api

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operators.md"
KOSH = Path(sys.executable).parent / "kosh"
N = 10
SECONDS_PER_YEAR = "120"  # a case day in a third of a second
ENV = {**os.environ, "KOSH_TEMPORAL_ADDRESS": "", "KOSH_DATABASE_URL": "", "COLUMNS": "200"}

FENCE = re.compile(r"^```sql\n(.*?)^```$", re.S | re.M)
PLACEHOLDER = re.compile(r"<(today|(\d+) days? ago|in (\d+) days?|case id)>")
LEFT_OVER = re.compile(r"<[a-z][a-z0-9 ]*>")
REASON = {s.name: s.expected for s in demo.SCENARIOS}


def guide_queries() -> list[str]:
    """The guide's queries, one per ```sql block (a query may wrap over lines)."""
    return [" ".join(block.split()) for block in FENCE.findall(GUIDE.read_text())]


def the_query(text: str) -> str:
    """A query the tests rely on: it must be in the guide word for word."""
    assert text in guide_queries(), f"docs/operators.md no longer has: {text}"
    return text


def fill(query: str, *, today: datetime, case_id: str = "none") -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1) == "case id":
            return case_id
        day = today
        if m.group(2):
            day = today - timedelta(days=int(m.group(2)))
        elif m.group(3):
            day = today + timedelta(days=int(m.group(3)))
        return day.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    filled = PLACEHOLDER.sub(one, query)
    assert not LEFT_OVER.search(filled), f"a placeholder the tests do not know: {filled}"
    return filled


def kosh(*args: str, state: Path) -> Any:
    done = subprocess.run(
        [str(KOSH), *args, "--state", str(state), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    state = tmp_path_factory.mktemp("kosh-operators")
    args = ("--demo", str(N), "--seconds-per-year", SECONDS_PER_YEAR)
    with running_dev(state, *args, ready=lambda st, _: (st / "demo.json").exists()) as info:
        yield state, info


async def connect(info: dict[str, Any]) -> Client:
    # Search attributes are never encrypted: a client without the payload keys lists cases.
    namespace = info.get("namespace") or "default"
    return await Client.connect(info["temporal_address"], namespace=namespace)


async def listed(client: Client, query: str) -> list[WorkflowExecution]:
    return [wf async for wf in client.list_workflows(query, limit=500)]


async def case_ids(client: Client, query: str) -> set[str]:
    return {wf.id.removeprefix("case-") for wf in await listed(client, query)}


async def until_found(client: Client, query: str, case_id: str, *, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        for wf in await listed(client, query):
            if wf.id == api.case_workflow_id(case_id):
                return wf
        assert time.monotonic() < deadline, f"{case_id} not found within {seconds} s by {query}"
        await asyncio.sleep(0.5)


def test_the_guide_has_its_queries() -> None:
    queries = guide_queries()
    assert len(queries) >= 20
    assert len(set(queries)) == len(queries), "a query appears twice in the guide"
    for query in queries:
        assert "ORDER BY" not in query and " LIKE " not in query  # refused by the dev server


@pytest.mark.parametrize("query", guide_queries(), ids=lambda q: q[:60])
async def test_the_dev_server_accepts_the_guides_query(
    stack: tuple[Path, dict[str, Any]], query: str
) -> None:
    state, info = stack
    some_case = next(iter(json.loads((state / "demo.json").read_text())))
    filled = fill(query, today=datetime.now(UTC), case_id=some_case)
    client = await connect(info)
    try:
        await listed(client, filled)
        await client.count_workflows(filled)
    except RPCError as exc:
        pytest.fail(f"the dev server refused the guide's query {filled!r}: {exc}")


async def test_the_limits_the_guide_names_are_real(stack: tuple[Path, dict[str, Any]]) -> None:
    _, info = stack
    client = await connect(info)
    guide = GUIDE.read_text()
    refused = {
        "KoshStage = 'closed' ORDER BY CloseTime DESC": "ORDER BY",
        "KoshStage LIKE 'clo%'": "LIKE",
        "KoshNextDeadline < '2027-01-01'": "unable to parse datetime",
    }
    for query, says in refused.items():
        assert says in guide
        with pytest.raises(RPCError, match=says):
            await listed(client, query)
    with pytest.raises(RPCError, match="GROUP BY"):
        await client.count_workflows("KoshTrack = 'kandas' GROUP BY KoshRegion")
    # what the guide offers instead works (once the demo's cases are visible)
    by_status = "WorkflowType = 'ApplicantWorkflow' GROUP BY ExecutionStatus"
    deadline = time.monotonic() + 60
    while (counted := await client.count_workflows(by_status)).count < N:
        assert time.monotonic() < deadline, counted
        await asyncio.sleep(0.5)
    assert sum(g.count for g in counted.groups) == counted.count
    await listed(client, "KoshStage STARTS_WITH 'clo' AND KoshScore BETWEEN 0 AND 2000")


async def test_closed_cases_are_found_with_why_they_closed(
    stack: tuple[Path, dict[str, Any]],
) -> None:
    state, info = stack
    book: dict[str, str] = json.loads((state / "demo.json").read_text())
    expected = {case_id: REASON[name] for case_id, name in book.items()}
    quick = {c for c, reason in expected.items() if reason in ("rejected", "withdrawn")}
    assert len(quick) == 5  # four rejections and one withdrawal in a cohort of ten
    client = await connect(info)

    closed = the_query("KoshStage = 'closed'")
    deadline = time.monotonic() + 240
    while not quick <= await case_ids(client, closed):
        assert time.monotonic() < deadline, "the demo's rejected cases did not close"
        await asyncio.sleep(1)
    policies: dict[str, str | None] = {}
    for wf in await listed(client, closed):
        case_id = wf.id.removeprefix("case-")
        if case_id in book:  # every demo case closed so far, closed for its scenario's reason
            attrs = wf.typed_search_attributes
            assert attrs.get(api.SA_CLOSE_REASON) == expected[case_id], case_id
            assert attrs.get(api.SA_STAGE) == "closed"
            policies[case_id] = attrs.get(api.SA_POLICY)

    rejected = {c for c in quick if expected[c] == "rejected"}
    of_policy = the_query("KoshCloseReason = 'rejected' AND KoshPolicyVersion = '2026.1'")
    found = await case_ids(client, of_policy) & set(book)
    assert found == {c for c in rejected if policies[c] == "2026.1"}
    assert found, "no demo case was decided under 2026.1: the guide's example finds nothing"

    breaches = the_query("KoshCloseReason IN ('breach_repaid', 'breach_referred')")
    referred = the_query("KoshStage = 'closed' AND KoshCloseReason = 'breach_referred'")
    assert await case_ids(client, referred) <= await case_ids(client, breaches)
    for case_id in await case_ids(client, breaches) & set(book):
        assert expected[case_id] in ("breach_repaid", "breach_referred")


async def test_a_case_waiting_for_its_interview_is_found_by_how_long_it_waited(
    stack: tuple[Path, dict[str, Any]],
) -> None:
    state, info = stack
    example = ROOT / "examples" / "kandas-family.json"
    # Nobody interviews it (not a demo case); a human's window never shrinks below a minute.
    submitted = kosh("submit", str(example), "--seconds-per-year", SECONDS_PER_YEAR, state=state)
    case_id = submitted["case_id"]
    client = await connect(info)

    worklist = the_query("ExecutionStatus = 'Running' AND KoshWaitingFor = 'interview'")
    wf = await until_found(client, worklist, case_id, seconds=120)
    since = wf.typed_search_attributes.get(api.SA_WAITING_SINCE)
    due = wf.typed_search_attributes.get(api.SA_NEXT_DEADLINE)
    assert since is not None and due is not None and due > since

    # "waiting for an interview for more than 10 days" means what it says, on case dates
    over_ten = the_query(
        "ExecutionStatus = 'Running' AND KoshWaitingFor = 'interview' "
        "AND KoshWaitingSince < '<10 days ago>'"
    )
    assert case_id not in await case_ids(client, fill(over_ten, today=since + timedelta(days=9)))
    assert case_id in await case_ids(client, fill(over_ten, today=since + timedelta(days=11)))
    # ... and on the case's own clock: once eleven case days have passed, its today finds it.
    # (Its today, not the `case_time` of its status, which is the time of its last step.) The
    # clock starts with the first workflow task, a moment after the run: a day's margin.
    speedup = 365 * 24 * 3600 / float(SECONDS_PER_YEAR)

    def case_today() -> datetime:
        return wf.start_time + (datetime.now(UTC) - wf.start_time) * speedup - timedelta(days=1)

    while case_today() < since + timedelta(days=11):
        await asyncio.sleep(0.2)
    today = case_today()
    assert case_id in await case_ids(client, fill(over_ten, today=today))

    # the interview's deadline, as published now (a supervisor's escalation moves it later)
    due = (await until_found(client, worklist, case_id, seconds=5)).typed_search_attributes.get(
        api.SA_NEXT_DEADLINE
    )
    assert due is not None
    passed = the_query("ExecutionStatus = 'Running' AND KoshNextDeadline < '<today>'")
    assert case_id not in await case_ids(client, fill(passed, today=since))
    assert case_id in await case_ids(client, fill(passed, today=due + timedelta(days=1)))
    soon = the_query(
        "ExecutionStatus = 'Running' AND KoshNextDeadline >= '<today>' "
        "AND KoshNextDeadline < '<in 7 days>'"
    )
    assert case_id in await case_ids(client, fill(soon, today=due - timedelta(days=3)))
    assert case_id not in await case_ids(client, fill(soon, today=due - timedelta(days=8)))

    one = the_query("WorkflowId = 'case-<case id>'")
    runs = await listed(client, fill(one, today=today, case_id=case_id))
    assert runs and {r.id for r in runs} == {api.case_workflow_id(case_id)}

    # the command line's worklist is the same
    live = kosh("cases", "--waiting-for", "interview", state=state)
    assert case_id in [c["case_id"] for c in live]


async def test_an_employers_request_from_the_command_line(
    stack: tuple[Path, dict[str, Any]],
) -> None:
    """`kosh employer request` on the live stack: an industry without quota is refused with
    the reason; the demo's employers' requests are found by the guide's labour queries; `kosh
    quotas` shows the labour lines beside the kandas places."""
    state, info = stack
    example = ROOT / "examples" / "employer-no-quota.json"
    rid = kosh(
        "employer", "request", str(example), "--seconds-per-year", SECONDS_PER_YEAR, state=state
    )["request_id"]
    deadline = time.monotonic() + 120
    while (status := kosh("employer", "status", rid, state=state))["stage"] != "closed":
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.5)
    assert status["closed_reason"] == "refused" and status["refused_rule"] == "no_quota"
    assert "quota for it in Almaty" in status["closed_detail"]
    listed_ids = {r["request_id"]: r for r in kosh("employer", "list", state=state)}
    assert listed_ids[rid]["closed_reason"] == "refused"

    client = await connect(info)
    refused = the_query("KoshTrack = 'labour' AND KoshCloseReason = 'refused'")
    deadline = time.monotonic() + 60
    while f"labour-{rid}" not in {wf.id for wf in await listed(client, refused)}:
        assert time.monotonic() < deadline, "the refused request is not found by the guide"
        await asyncio.sleep(0.5)
    project = the_query("KoshTrack = 'labour' AND KoshProject = 'tengiz-fgp'")
    deadline = time.monotonic() + 120
    while not await listed(client, project):  # the demo's labour_term request
        assert time.monotonic() < deadline, "the demo's project request is not found"
        await asyncio.sleep(0.5)
    deadline = time.monotonic() + 120
    while not (quotas := kosh("quotas", state=state))["labour"]:
        assert time.monotonic() < deadline, quotas
        await asyncio.sleep(0.5)
    lines = {(q["industry"], q["region"], q["project"]) for q in quotas["labour"]}
    assert ("oil_and_gas", "Atyrau", "tengiz-fgp") in lines
    assert ("it", "Almaty", "") not in lines  # refused before any place was asked for
