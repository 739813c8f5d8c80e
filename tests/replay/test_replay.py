"""Determinism: stored histories replay against today's workflow code, and the guard works.

Histories in tests/histories/<release>/ were recorded from released behaviour (one file per
run; a five-year case spans several runs because of continue-as-new). Every release's
histories must replay for as long as cases started under it may still run. kosh's first
release is `workflows.api.RELEASE`; record its histories again, while it is not yet
released, with: KOSH_RECORD_HISTORIES=1 pytest tests/replay
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.ports import StaffNotice
from adapters.simulator import with_check_digit
from domain.application import Application, Document, FamilyMember, Questionnaire
from domain.checks import AUTHORITIES
from tests.conftest import ModuleServer
from tests.policy_versions import on_the_test_clock
from tests.replay.nondeterministic import (
    EXAMPLE_CHANGE,
    ReorderedEmployerWorkflow,
    ReorderedWorkflow,
    RuleChangeWorkflow,
)
from tests.workflows.harness import (
    FEEDS,
    LOCAL_ACTIVITY_MARKER,
    VERIFIER,
    GatedSimulator,
    all_runs,
    replayer,
    signed,
)
from tests.workflows.test_employer import request as employer_request
from worker import activities_for, authority_reply_sink, build_worker, workflow_runner
from workflows import allocation_api as rapi
from workflows import api
from workflows import employer_api as eapi

HISTORIES = Path(__file__).parent.parent / "histories"
CURRENT = HISTORIES / api.RELEASE
RECORDING = os.environ.get("KOSH_RECORD_HISTORIES") == "1"
Staff = Callable[[StaffNotice], Awaitable[None]]


def applicant(track: str) -> Application:
    kandas = track == "kandas"
    return Application(
        full_name="Replay Family",
        born_on=date(1987, 3, 3),
        citizenship="MNG",
        ethnic_kazakh=kandas,
        track=track,  # type: ignore[arg-type]
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
            (FamilyMember(relation="spouse", full_name="Replay Spouse", born_on=date(1989, 4, 4)),)
            if kandas
            else ()
        ),
        preferred_regions=("Kostanay",) if kandas else (),
    )


def keep(runs: list[WorkflowHistory], name: str) -> list[WorkflowHistory]:
    if RECORDING:
        CURRENT.mkdir(parents=True, exist_ok=True)
        for i, history in enumerate(runs, start=1):
            (CURRENT / f"{name}-run{i}.json").write_text(history.to_json())
    return runs


async def run_case(
    env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    track: str,
    closes: str,
    *,
    departs_after: int | None = None,
) -> list[WorkflowHistory]:
    """A whole case to its close, answered by a minimal staff; every run's history. The
    general track's permanent residence closes only by an exit: border control reports a
    departure `departs_after` days after the permit."""
    sim = GatedSimulator()  # no latency; authorities answer before their request returns
    case_id = f"replay-{uuid.uuid4().hex[:8]}"
    if departs_after is not None:
        sim.world.plan_departure(case_id, after_days=departs_after)
    queue = f"tq-{case_id}"
    handle = env.client.get_workflow_handle(api.case_workflow_id(case_id))

    async def staff() -> None:
        while True:
            notice = await sim.notices.get()
            if notice.kind == "interview_due":
                outcome = {"passed": True, "points": 75}
                await handle.signal(api.SIGNAL_INTERVIEW, signed(handle.id, outcome, by="staff-1"))
            elif notice.kind == "arrival_due":
                arrival = {"kind": "arrival", "region": "Kostanay"}
                await handle.signal(api.SIGNAL_FACT, signed(handle.id, arrival, by="officer-3"))
            elif notice.kind == "candidacy_lodged":  # the family's own round: a place
                await env.client.start_workflow(
                    rapi.WORKFLOW_NAME,
                    rapi.RoundInput(region="Kostanay", scope=case_id),
                    id=f"allocation-{case_id}",
                    task_queue=queue,
                )

    worker = build_worker(
        env.client, pool=pool, sim=sim, task_queue=queue, verifier=VERIFIER, feeds=FEEDS
    )
    async with worker:
        task = asyncio.create_task(staff())
        started = await env.client.start_workflow(
            api.WORKFLOW_NAME,
            api.CaseInput(case_id=case_id, application=applicant(track)),
            id=api.case_workflow_id(case_id),
            task_queue=queue,
            result_type=api.CaseResult,
        )
        result = await started.result()
        task.cancel()
    assert result.closed_reason == closes
    return await all_runs(env.client, started.id)


async def run_request(
    env: WorkflowEnvironment, pool: asyncpg.Pool, *, underpaid: bool
) -> list[WorkflowHistory]:
    """A whole labour request: served to its term, or underpaid (a violation, the worker's
    exit checked at the border)."""
    sim = GatedSimulator()
    req = employer_request()
    sim.world.plan_vacancy(req.vacancy_reference, days_on_market=40)
    request_id = f"replay-lr-{uuid.uuid4().hex[:8]}"
    workflow_id = eapi.request_workflow_id(request_id)
    if underpaid:
        sim.world.plan_employment(workflow_id, event="underpaid", after_days=30)
        sim.world.plan_departure(workflow_id, after_days=0)
    queue = f"tq-{request_id}"
    worker = build_worker(
        env.client, pool=pool, sim=sim, task_queue=queue, verifier=VERIFIER, feeds=FEEDS
    )
    async with worker:
        handle = await env.client.start_workflow(
            eapi.WORKFLOW_NAME,
            eapi.LabourInput(request_id=request_id, request=req),
            id=workflow_id,
            task_queue=queue,
            result_type=eapi.LabourResult,
        )
        result = await handle.result()
    assert result.closed_reason == ("violation" if underpaid else "term_completed")
    return await all_runs(env.client, handle.id)


@pytest.fixture(scope="module")
async def fresh_runs(
    time_server: ModuleServer, embedded_pool: asyncpg.Pool
) -> list[WorkflowHistory]:
    """A five-year kandas case to `fulfilled`: the longest path, over several runs."""
    time_env = await time_server.current()
    runs = await run_case(time_env, embedded_pool, "kandas", "fulfilled")
    return keep(runs, "kandas-fulfilled")


@pytest.fixture(scope="module")
async def fresh_others(
    time_server: ModuleServer, embedded_pool: asyncpg.Pool
) -> dict[str, list[WorkflowHistory]]:
    """The other paths a release must keep replaying: the general track's permanent residence,
    its card renewed, to a departure, a labour request served to its term, and one ended by a
    violation."""
    time_env = await time_server.current()
    general = await run_case(time_env, embedded_pool, "general", "departed", departs_after=3800)
    term = await run_request(time_env, embedded_pool, underpaid=False)
    violation = await run_request(time_env, embedded_pool, underpaid=True)
    return {
        "general-permanent": keep(general, "general-permanent"),
        "labour-term-completed": keep(term, "labour-term-completed"),
        "labour-violation": keep(violation, "labour-violation"),
    }


def stored(prefix: str = "") -> list[WorkflowHistory]:
    return [
        WorkflowHistory.from_json(p.stem, p.read_text())
        for p in sorted(CURRENT.glob(f"{prefix}*.json"))
    ]


def stored_histories() -> list[Path]:
    return sorted(HISTORIES.glob("*/*.json"))


def test_the_first_release_keeps_a_history_of_every_path() -> None:
    """Only the first release's histories are kept: nothing ran on the code before it."""
    assert [p.name for p in HISTORIES.iterdir() if p.is_dir()] == [api.RELEASE]
    names = {p.stem.rsplit("-run", 1)[0] for p in CURRENT.glob("*.json")}
    assert names == {
        "kandas-fulfilled",
        "general-permanent",
        "labour-term-completed",
        "labour-violation",
    }
    assert len(list(CURRENT.glob("kandas-fulfilled-run*.json"))) >= 2  # continue-as-new


@pytest.mark.parametrize("path", stored_histories(), ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_stored_histories_replay(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    with on_the_test_clock():  # recorded on the test server's clock, which runs past 2031
        await replayer().replay_workflow(history)


async def test_fresh_histories_of_every_path_replay(
    fresh_runs: list[WorkflowHistory], fresh_others: dict[str, list[WorkflowHistory]]
) -> None:
    assert len(fresh_runs) >= 2, "the case should have continued as new"
    for history in [*fresh_runs, *(h for runs in fresh_others.values() for h in runs)]:
        await replayer().replay_workflow(history)


async def test_a_change_without_a_patch_is_caught_on_a_stored_history() -> None:
    """Changing a workflow's commands under running cases, without a rule change, breaks
    them: the Replayer says so on the stored histories before any worker runs the code."""
    [case] = stored("kandas-fulfilled-run1")
    with pytest.raises(workflow.NondeterminismError):
        await replayer(ReorderedWorkflow).replay_workflow(case)
    [request] = stored("labour-term-completed-run1")
    with pytest.raises(workflow.NondeterminismError):
        await replayer(ReorderedEmployerWorkflow).replay_workflow(request)


async def test_the_same_change_behind_a_rule_change_keeps_old_cases_running(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    """The mechanism for the first real change is ready: asked with `workflow.patched` when
    a case starts (workflows/runtime.py RuleChanges), a case started before it replays its
    old commands, and a case started after it records the marker and takes the new path."""
    for history in stored("kandas-fulfilled"):
        await replayer(RuleChangeWorkflow).replay_workflow(history)
        assert EXAMPLE_CHANGE not in patches(history)
    sim = GatedSimulator()
    queue = f"tq-rule-{uuid.uuid4().hex[:6]}"
    case_id = f"rule-{uuid.uuid4().hex[:8]}"
    sim.connect_replies(authority_reply_sink(time_env.client, feeds=FEEDS))
    worker = Worker(
        time_env.client,
        task_queue=queue,
        workflows=[RuleChangeWorkflow],
        workflow_runner=workflow_runner(),
        activities=activities_for(
            pool=embedded_pool, agencies=sim, notifier=sim, verifier=VERIFIER
        ),
    )
    async with worker:
        handle = await time_env.client.start_workflow(
            api.WORKFLOW_NAME,
            api.CaseInput(case_id=case_id, application=applicant("general")),
            id=api.case_workflow_id(case_id),
            task_queue=queue,
        )
        await sim.notices.get()  # interview due: the case has run its first steps
        await handle.terminate("enough for the test")
    [first, *_] = await all_runs(time_env.client, handle.id)
    assert patches(first) == {EXAMPLE_CHANGE}
    await replayer(RuleChangeWorkflow).replay_workflow(first)
    with pytest.raises(workflow.NondeterminismError):
        await replayer().replay_workflow(first)  # today's code lacks the new command


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


def calls(runs: list[WorkflowHistory]) -> tuple[Counter[str], Counter[str]]:
    """Activity types the runs called: (as ordinary activities, as local activities)."""
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


async def test_the_record_and_the_registry_are_asked_by_ordinary_activities(
    fresh_runs: list[WorkflowHistory], fresh_others: dict[str, list[WorkflowHistory]]
) -> None:
    """Every append and registry check is an ordinary activity (docs/decisions/022: a local
    activity's marker moves workflow time, and an uncached worker's next task could begin
    from it), as are the employer's keyed id and the round's word a kandas family reads from
    the record; no run records a local activity's marker. The authorities are asked
    asynchronously at scoring (their replies arrive as signals)."""
    for runs in (fresh_runs, *fresh_others.values()):
        ordinary, local = calls(runs)
        assert not local
        assert ordinary["append_events"] + ordinary["append_labour_events"] > 0
    ordinary, local = calls(fresh_runs)
    assert ordinary["request_authority_check"] == len(AUTHORITIES)
    # the security re-screening under contract asks at once, as the general track's does
    # (docs/decisions/013): each 365 days of the five years, the fifth only in a term that
    # holds a 29 February
    assert ordinary["check_authority"] in (4, 5)
    assert ordinary["verify_actor"] == 2  # the interviewer and the officer recording the arrival
    assert ordinary["round_word"] == 1  # its round's word: a place


async def test_no_upsert_repeats_a_value_the_run_holds(
    fresh_runs: list[WorkflowHistory], fresh_others: dict[str, list[WorkflowHistory]]
) -> None:
    for runs in (fresh_runs, *fresh_others.values()):
        for history in runs:
            held: dict[str, bytes] = {}
            started = history.events[0].workflow_execution_started_event_attributes
            for name, payload in started.search_attributes.indexed_fields.items():
                held[name] = payload.data
            for e in history.events:
                if e.HasField("upsert_workflow_search_attributes_event_attributes"):
                    attrs = e.upsert_workflow_search_attributes_event_attributes
                    for name, payload in attrs.search_attributes.indexed_fields.items():
                        assert held.get(name) != payload.data, name
                        held[name] = payload.data
