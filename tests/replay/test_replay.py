"""Determinism: stored histories replay against today's workflow code, and the guard works.

Histories in tests/histories/<release>/ were recorded from released behaviour (one file per
run of a case; a five-year kandas case spans several runs because of continue-as-new). Every
release's histories must replay for as long as cases started under it may still run. Record
the current release's, after a deliberate and versioned change, with:
KOSH_RECORD_HISTORIES=1 pytest tests/replay
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from adapters.simulator import with_check_digit
from domain.application import Application, Document, FamilyMember, Questionnaire
from tests.replay.nondeterministic import (
    ReorderedWorkflow,
    UnguardedEmployerWorkflow,
    UnguardedRuleChangeWorkflow,
)
from tests.workflows.harness import LOCAL_ACTIVITY_MARKER, GatedSimulator, all_runs, replayer
from tests.workflows.test_employer import request as employer_request
from worker import build_worker
from workflows import api
from workflows import employer_api as eapi
from workflows.applicant import ACTORS, CHANGED_ATTRIBUTES, DEADLINES, LOCAL_RECORD
from workflows.employer import FEWER_EVENTS

HISTORIES = Path(__file__).parent.parent / "histories"
BEFORE_DEADLINES = HISTORIES / "2026-10-first-release"
BEFORE_ACTORS = HISTORIES / DEADLINES
BEFORE_CHANGED_ATTRIBUTES = HISTORIES / ACTORS
BEFORE_LOCAL_RECORD = HISTORIES / CHANGED_ATTRIBUTES
CURRENT = HISTORIES / LOCAL_RECORD
# Labour requests (EmployerPermitWorkflow), in their own releases.
EMPLOYER_BEFORE_FEWER_EVENTS = HISTORIES / "2026-11-employer-first-release"
EMPLOYER_CURRENT = HISTORIES / FEWER_EVENTS


def kandas_family() -> Application:
    return Application(
        full_name="Replay Family",
        born_on=date(1987, 3, 3),
        citizenship="MNG",
        ethnic_kazakh=True,
        track="kandas",
        document=Document(
            number=with_check_digit("RP100200"), country="MNG", expires_on=date(2040, 1, 1)
        ),
        questionnaire=Questionnaire(
            education="master",
            kazakh="fluent",
            russian="fluent",
            work_years=12,
            military_service=True,
        ),
        family=(
            FamilyMember(relation="spouse", full_name="Replay Spouse", born_on=date(1989, 4, 4)),
        ),
        preferred_regions=("Kostanay",),
    )


async def run_case(env: WorkflowEnvironment, pool: asyncpg.Pool) -> list[WorkflowHistory]:
    """A whole kandas case to `fulfilled`, answered by a minimal staff; every run's history."""
    sim = GatedSimulator()  # no latency; authorities answer before their request returns
    case_id = f"replay-{uuid.uuid4().hex[:8]}"
    queue = f"tq-{case_id}"

    async def staff() -> None:
        while True:
            notice = await sim.notices.get()
            handle = env.client.get_workflow_handle(api.case_workflow_id(case_id))
            if notice.kind == "interview_due":
                await handle.signal(
                    api.SIGNAL_INTERVIEW,
                    {"interviewer_id": "staff-1", "passed": True, "points": 75},
                )
            elif notice.kind == "arrival_due":
                await handle.signal(
                    api.SIGNAL_FACT,
                    {"actor_id": "officer-3", "kind": "arrival", "region": "Kostanay"},
                )

    async with build_worker(env.client, pool=pool, sim=sim, task_queue=queue):
        task = asyncio.create_task(staff())
        handle = await env.client.start_workflow(
            api.WORKFLOW_NAME,
            api.CaseInput(case_id=case_id, application=kandas_family()),
            id=api.case_workflow_id(case_id),
            task_queue=queue,
            result_type=api.CaseResult,
        )
        result = await handle.result()
        task.cancel()
    assert result.closed_reason == "fulfilled"
    return await all_runs(env.client, handle.id)


async def run_request(env: WorkflowEnvironment, pool: asyncpg.Pool) -> list[WorkflowHistory]:
    """A whole labour request to `term_completed` (six months, two reviews); its history."""
    sim = GatedSimulator()
    req = employer_request()
    sim.world.plan_vacancy(req.vacancy_reference, days_on_market=40)
    request_id = f"replay-lr-{uuid.uuid4().hex[:8]}"
    queue = f"tq-{request_id}"
    async with build_worker(env.client, pool=pool, sim=sim, task_queue=queue):
        handle = await env.client.start_workflow(
            eapi.WORKFLOW_NAME,
            eapi.LabourInput(request_id=request_id, request=req),
            id=eapi.request_workflow_id(request_id),
            task_queue=queue,
            result_type=eapi.LabourResult,
        )
        result = await handle.result()
    assert result.closed_reason == "term_completed"
    return await all_runs(env.client, handle.id)


def stored_histories() -> list[Path]:
    return sorted(HISTORIES.glob("*/*.json"))


def patches(history: WorkflowHistory) -> set[str]:
    """Patch ids the run recorded (`workflow.patched` markers)."""
    converter = pydantic_data_converter.payload_converter
    return {
        converter.from_payloads(list(marker.details["patch-data"].payloads))[0]["id"]
        for marker in (
            e.marker_recorded_event_attributes
            for e in history.events
            if e.HasField("marker_recorded_event_attributes")
        )
        if marker.marker_name == "core_patch"
    }


@pytest.fixture(scope="module")
async def fresh_runs(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> list[WorkflowHistory]:
    runs = await run_case(time_env, embedded_pool)
    if os.environ.get("KOSH_RECORD_HISTORIES") == "1":
        CURRENT.mkdir(parents=True, exist_ok=True)
        for i, history in enumerate(runs, start=1):
            (CURRENT / f"kandas-fulfilled-run{i}.json").write_text(history.to_json())
    return runs


@pytest.fixture(scope="module")
async def fresh_request(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> list[WorkflowHistory]:
    runs = await run_request(time_env, embedded_pool)
    if os.environ.get("KOSH_RECORD_HISTORIES") == "1":
        EMPLOYER_CURRENT.mkdir(parents=True, exist_ok=True)
        for i, history in enumerate(runs, start=1):
            (EMPLOYER_CURRENT / f"term-completed-run{i}.json").write_text(history.to_json())
    return runs


async def test_a_fresh_labour_request_replays(fresh_request: list[WorkflowHistory]) -> None:
    for history in fresh_request:
        await replayer().replay_workflow(history)


async def test_a_labour_request_started_before_fewer_events_keeps_its_rules() -> None:
    """It appended and upserted through ordinary activities and whole upserts; the change
    applied unconditionally would issue commands its history lacks."""
    [path] = sorted(EMPLOYER_BEFORE_FEWER_EVENTS.glob("*.json"))
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    assert patches(history) == set()
    await replayer().replay_workflow(history)
    with pytest.raises(workflow.NondeterminismError):
        await replayer(UnguardedEmployerWorkflow).replay_workflow(history)


async def test_a_new_labour_request_costs_fewer_events(
    fresh_request: list[WorkflowHistory],
) -> None:
    """Against the same request under the rules before: its appends are local activities, its
    upserts never repeat a held value, and it has fewer events and workflow tasks."""
    before = [
        WorkflowHistory.from_json(p.stem, p.read_text())
        for p in sorted(EMPLOYER_BEFORE_FEWER_EVENTS.glob("*.json"))
    ]
    assert patches(fresh_request[0]) == {FEWER_EVENTS}
    ordinary_now, local_now = calls(fresh_request)
    ordinary_before, local_before = calls(before)
    assert not local_before and ordinary_before["append_labour_events"] > 0
    assert ordinary_now["append_labour_events"] == 0
    assert local_now["append_labour_events"] == ordinary_before["append_labour_events"]
    assert sum(len(h.events) for h in fresh_request) < sum(len(h.events) for h in before)
    assert sum(map(workflow_tasks, fresh_request)) < sum(map(workflow_tasks, before))
    assert sum(map(upserts, fresh_request)) < sum(map(upserts, before))
    no_repeated_upserts(fresh_request)


async def test_a_fresh_five_year_case_replays(fresh_runs: list[WorkflowHistory]) -> None:
    assert len(fresh_runs) >= 2, "the case should have continued as new"
    for history in fresh_runs:
        await replayer().replay_workflow(history)


@pytest.mark.parametrize("path", stored_histories(), ids=lambda p: p.stem)
async def test_stored_histories_replay(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer().replay_workflow(history)


def test_histories_are_stored() -> None:
    for release in (
        BEFORE_DEADLINES,
        BEFORE_ACTORS,
        BEFORE_CHANGED_ATTRIBUTES,
        BEFORE_LOCAL_RECORD,
        CURRENT,
    ):
        assert len(list(release.glob("*.json"))) >= 2, release
    for release in (EMPLOYER_BEFORE_FEWER_EVENTS, EMPLOYER_CURRENT):
        assert list(release.glob("*.json")), release


async def test_a_case_started_before_the_deadlines_change_keeps_the_old_rules() -> None:
    """Its first run carries no patch marker, and replaying it with the change applied
    unconditionally fails: the `workflow.patched` guard is what keeps it running."""
    first = WorkflowHistory.from_json(
        "old", (BEFORE_DEADLINES / "kandas-fulfilled-run1.json").read_text()
    )
    assert patches(first) == set()
    await replayer().replay_workflow(first)
    with pytest.raises(workflow.NondeterminismError):
        await replayer(UnguardedRuleChangeWorkflow).replay_workflow(first)


async def test_a_case_started_before_the_actors_change_keeps_its_rules() -> None:
    """Its arrival was recorded with no actor named and no registry check; the actors
    change applied unconditionally would refuse it, and the replay would diverge."""
    first = WorkflowHistory.from_json(
        "deadlines", (BEFORE_ACTORS / "kandas-fulfilled-run1.json").read_text()
    )
    assert patches(first) == {DEADLINES}
    await replayer().replay_workflow(first)
    with pytest.raises(workflow.NondeterminismError):
        await replayer(UnguardedRuleChangeWorkflow).replay_workflow(first)


async def test_a_case_started_before_the_changed_attributes_change_keeps_its_upserts() -> None:
    """It upserted every search attribute at every decision; upserting only the changed ones,
    applied unconditionally, would leave out commands its history holds."""
    first = WorkflowHistory.from_json(
        "actors", (BEFORE_CHANGED_ATTRIBUTES / "kandas-fulfilled-run1.json").read_text()
    )
    assert patches(first) == {DEADLINES, ACTORS}
    await replayer().replay_workflow(first)
    with pytest.raises(workflow.NondeterminismError):
        await replayer(UnguardedRuleChangeWorkflow).replay_workflow(first)


async def test_a_case_started_before_the_local_record_change_keeps_its_activities() -> None:
    """It appended to the record and asked the registry through ordinary activities; asking
    them from the worker, applied unconditionally, would issue commands its history lacks."""
    first = WorkflowHistory.from_json(
        "changed-attributes", (BEFORE_LOCAL_RECORD / "kandas-fulfilled-run1.json").read_text()
    )
    assert patches(first) == {DEADLINES, ACTORS, CHANGED_ATTRIBUTES}
    await replayer().replay_workflow(first)
    with pytest.raises(workflow.NondeterminismError):
        await replayer(UnguardedRuleChangeWorkflow).replay_workflow(first)


def calls(runs: list[WorkflowHistory]) -> tuple[Counter[str], Counter[str]]:
    """Activity types a case's runs called: (as ordinary activities, as local activities)."""
    converter = pydantic_data_converter.payload_converter
    ordinary: Counter[str] = Counter()
    local: Counter[str] = Counter()
    for e in (e for history in runs for e in history.events):
        if e.HasField("activity_task_scheduled_event_attributes"):
            ordinary[e.activity_task_scheduled_event_attributes.activity_type.name] += 1
        elif e.HasField("marker_recorded_event_attributes"):
            marker = e.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY_MARKER:
                [data] = converter.from_payloads(list(marker.details["data"].payloads))
                local[data["activity_type"]] += 1
    return ordinary, local


def workflow_tasks(history: WorkflowHistory) -> int:
    return sum(e.HasField("workflow_task_completed_event_attributes") for e in history.events)


async def test_a_new_case_asks_the_record_from_the_worker(
    fresh_runs: list[WorkflowHistory],
) -> None:
    """Against the same case under the rules before: every append and registry check is a
    local activity (one marker, no activity task), and the case costs fewer history events and
    fewer workflow tasks."""
    before = [
        WorkflowHistory.from_json(p.stem, p.read_text())
        for p in sorted(BEFORE_LOCAL_RECORD.glob("*.json"))
    ]
    ordinary_now, local_now = calls(fresh_runs)
    ordinary_before, local_before = calls(before)
    assert not local_before and ordinary_before["append_events"] > 0
    assert ordinary_now["append_events"] == ordinary_now["check_actor"] == 0
    assert local_now["append_events"] == ordinary_before["append_events"]
    assert local_now["check_actor"] == ordinary_before["check_actor"]
    assert set(local_now) == {"append_events", "check_actor"}
    events_now = sum(len(h.events) for h in fresh_runs)
    events_before = sum(len(h.events) for h in before)
    assert events_now < events_before
    assert sum(map(workflow_tasks, fresh_runs)) < sum(map(workflow_tasks, before))


def upserts(history: WorkflowHistory) -> int:
    return sum(
        e.HasField("upsert_workflow_search_attributes_event_attributes") for e in history.events
    )


async def test_a_new_case_upserts_only_what_changed(fresh_runs: list[WorkflowHistory]) -> None:
    """Against the same case under the rules before: fewer upserts, and none of them repeats a
    value the run already holds."""
    before = [
        WorkflowHistory.from_json(p.stem, p.read_text())
        for p in sorted(BEFORE_CHANGED_ATTRIBUTES.glob("*.json"))
    ]
    assert sum(map(upserts, fresh_runs)) < sum(map(upserts, before))
    no_repeated_upserts(fresh_runs)


def no_repeated_upserts(runs: list[WorkflowHistory]) -> None:
    """No upsert sets a search attribute to the value the run already holds."""
    for history in runs:
        held: dict[str, bytes] = {}
        started = history.events[0].workflow_execution_started_event_attributes
        for name, payload in started.search_attributes.indexed_fields.items():
            held[name] = payload.data
        for e in history.events:
            if e.HasField("upsert_workflow_search_attributes_event_attributes"):
                fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes
                for name, payload in fields.indexed_fields.items():
                    assert held.get(name) != payload.data, name
                    held[name] = payload.data


async def test_a_new_case_follows_the_current_rules(fresh_runs: list[WorkflowHistory]) -> None:
    assert patches(fresh_runs[0]) == {DEADLINES, ACTORS, CHANGED_ATTRIBUTES, LOCAL_RECORD}
    types = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in fresh_runs[0].events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    assert "request_authority_check" in types and "check_authority" not in types


async def test_a_non_deterministic_change_is_caught(fresh_runs: list[WorkflowHistory]) -> None:
    with pytest.raises(workflow.NondeterminismError):
        await replayer(ReorderedWorkflow).replay_workflow(fresh_runs[0])
