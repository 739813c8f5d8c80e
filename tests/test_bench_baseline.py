"""bench/baseline.py: the script a kosh case's histories become, the bare workflow playing
one (signals, updates, timers, continue-as-new) on the time-skipping server, the profile's
summaries, the report, and that docs/performance.md carries measured sections with their
command. Nothing here is timed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.baseline_profile import PROFILE_BEGIN, PROFILE_END, areas, top_costs
from bench.baseline_report import MARK_BEGIN, MARK_END, Result, Workload, report, table
from bench.baseline_scripts import (
    BASELINE_CLIENT,
    LOCAL_ACTIVITY_MARKER,
    BareCase,
    Script,
    Shape,
    _name,
    as_ordinary,
    empty,
    script_of,
)

ROOT = Path(__file__).resolve().parent.parent


def event(event_id: int, kind: str, **attrs: object) -> HistoryEvent:
    e = HistoryEvent(event_id=event_id, event_type=EventType.Value(f"EVENT_TYPE_{kind}"))
    if kind == "TIMER_STARTED":
        e.timer_started_event_attributes.start_to_fire_timeout.FromTimedelta(
            timedelta(seconds=float(str(attrs["seconds"])))
        )
    if kind == "TIMER_FIRED":
        e.timer_fired_event_attributes.started_event_id = int(str(attrs["started"]))
    if kind == "TIMER_CANCELED":
        e.timer_canceled_event_attributes.started_event_id = int(str(attrs["started"]))
    if kind == "MARKER_RECORDED":
        e.marker_recorded_event_attributes.marker_name = str(attrs["name"])
    return e


def run(*kinds: str | tuple[str, dict[str, object]]) -> list[HistoryEvent]:
    events = []
    for i, k in enumerate(kinds, start=1):
        kind, attrs = (k, {}) if isinstance(k, str) else k
        events.append(event(i, kind, **attrs))
    return events


WFT = ("WORKFLOW_TASK_SCHEDULED", "WORKFLOW_TASK_STARTED", "WORKFLOW_TASK_COMPLETED")


def test_a_cases_histories_become_its_script_in_order() -> None:
    first = run(
        "WORKFLOW_EXECUTION_STARTED",
        *WFT,
        ("MARKER_RECORDED", {"name": "core_patch"}),  # a rule change: not a call
        "ACTIVITY_TASK_SCHEDULED",  # 6: alone
        "ACTIVITY_TASK_STARTED",
        "ACTIVITY_TASK_COMPLETED",
        *WFT,
        ("MARKER_RECORDED", {"name": LOCAL_ACTIVITY_MARKER}),  # two appends, one by one
        ("MARKER_RECORDED", {"name": LOCAL_ACTIVITY_MARKER}),
        "ACTIVITY_TASK_SCHEDULED",  # 14, 15: two at once
        "ACTIVITY_TASK_SCHEDULED",
        "WORKFLOW_EXECUTION_SIGNALED",  # the agencies' callbacks
        "WORKFLOW_EXECUTION_SIGNALED",
        *WFT,
        ("TIMER_STARTED", {"seconds": 5}),  # 21: cancelled by the update
        "WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
        ("MARKER_RECORDED", {"name": LOCAL_ACTIVITY_MARKER}),  # the update's append
        ("TIMER_CANCELED", {"started": 21}),
        ("TIMER_STARTED", {"seconds": 0.5}),  # 25: fired
        ("TIMER_FIRED", {"started": 25}),
        "WORKFLOW_EXECUTION_CONTINUED_AS_NEW",
    )
    second = run("WORKFLOW_EXECUTION_STARTED", "WORKFLOW_EXECUTION_SIGNALED", *WFT)
    shape = Shape()
    script = script_of([first, second], 1.5, shape)
    assert script.offset == 1.5
    assert script.steps == [
        ("activities", 1),
        ("local", 1),
        ("local", 1),
        ("activities", 2),
        ("input", 0),
        ("input", 0),
        ("wait", 5.0),
        ("input", 0),
        ("local", 1),
        ("sleep", 0.5),
        ("continue", 0),
    ]
    # Each input is sent by the ordinary activity step before it: the pair's, then (no
    # ordinary activity since; a local one never sends) the same one for the update.
    assert script.sends == {3: ["signal", "signal", "update"]}
    assert (shape.cases, shape.runs, shape.activities, shape.timers) == (1, 2, 3, 2)
    assert shape.local_activities == 3
    assert (shape.signals, shape.updates) == (3, 1)
    # The second run's signal has no activity before it in its run: counted, not played.
    assert shape.unplayable_inputs == 1


async def test_the_bare_workflow_plays_a_script_with_inputs_timers_and_continue_as_new(
    time_env: WorkflowEnvironment,
) -> None:
    queue = f"bench-baseline-{uuid.uuid4()}"
    BASELINE_CLIENT[:] = [time_env.client]
    script = {
        "steps": [
            ("activities", 1),
            ("activities", 3),
            ("local", 1),
            ("input", 0),
            ("wait", 3600.0),
            ("input", 0),
            ("sleep", 60.0),
            ("continue", 0),
            ("activities", 1),
            ("input", 0),
            ("wait", 30.0),  # nothing comes: the timer fires
        ],
        "sends": {"1": ["signal", "update"], "8": ["signal"]},
    }
    async with Worker(time_env.client, task_queue=queue, workflows=[BareCase], activities=[empty]):
        handle = await time_env.client.start_workflow(
            BareCase.run, script, id=f"bare-{uuid.uuid4()}", task_queue=queue
        )
        assert await handle.result() == len(script["steps"])
    first_run = handle.first_execution_run_id
    first = await time_env.client.get_workflow_handle(handle.id, run_id=first_run).fetch_history()
    last = await time_env.client.get_workflow_handle(handle.id).fetch_history()
    kinds = [_name(e) for e in [*first.events, *last.events]]
    assert kinds.count("WORKFLOW_EXECUTION_CONTINUED_AS_NEW") == 1
    assert kinds.count("ACTIVITY_TASK_SCHEDULED") == 5
    assert kinds.count("MARKER_RECORDED") == 1  # the local activity
    assert kinds.count("WORKFLOW_EXECUTION_SIGNALED") == 2
    assert kinds.count("WORKFLOW_EXECUTION_UPDATE_COMPLETED") == 1
    assert kinds.count("TIMER_FIRED") == 2  # the sleep and the last, unanswered wait


PROFILE = "\n".join(
    [
        "run (kosh:5);select (/usr/lib/python3.11/selectors.py:469) 50",
        "run (kosh:5);encode (/work/main/adapters/codec.py:40);encrypt (/v/site-packages/"
        "cryptography/aead.py:9) 20",
        "run (kosh:5);validate (/v/site-packages/pydantic/main.py:600);dumps "
        "(/usr/lib/python3.11/json/__init__.py:231) 20",
        "run (kosh:5);decide (/work/main/domain/decider.py:10) 10",
    ]
)


def test_the_profile_is_summed_by_area_and_by_function() -> None:
    assert areas(PROFILE) == [
        ("asyncio event loop and threads", 0.5),
        ("payload codec (AES-GCM)", 0.2),
        ("pydantic (validation, serialisation)", 0.2),  # json under pydantic counts for it
        ("kosh domain and workflow code", 0.1),
    ]
    samples, costs = top_costs(PROFILE)
    assert samples == 100
    assert costs[0] == ("select (python3.11/selectors.py)", 0.5, 0.5)
    assert ("encrypt (cryptography/aead.py)", 0.2, 0.2) in costs
    assert ("run (kosh)", 0.0, 1.0) not in costs  # only functions with time of their own


def result(kosh_worker: float, kosh_server: float) -> Result:
    return Result(
        cases=10,
        closed=10,
        books_agree=True,
        kosh=Workload(20.0, {"worker": kosh_worker, "temporal server": kosh_server}),
        bare=Workload(40.0, {"worker": 10.0, "temporal server": 40.0}),
        shape=Shape(cases=10, runs=20, activities=300, timers=10, signals=30, updates=10),
    )


def test_the_ratio_is_cpu_per_case_and_the_verdict_follows_the_goal() -> None:
    good, poor = result(20.0, 40.0), result(50.0, 50.0)
    assert good.ratio == 50 / 60 and good.ratio_wall == 0.5
    assert poor.ratio == 0.5
    lines = table(good).splitlines()
    assert lines[2] == "| kosh (ApplicantWorkflow) | 10 | 2.00 | 4.00 | 0.00 | 6.00 | 0.83 | 20.0 |"
    assert (
        lines[3] == "| bare Temporal, same scripts | 10 | 1.00 | 4.00 | 0.00 | 5.00 | 1.00 | 40.0 |"
    )
    text = report(good, ["--cases", "10"])
    assert text.startswith(MARK_BEGIN) and text.endswith(MARK_END)
    assert "`python -m bench.baseline --cases 10`" in text
    assert "**0.83** of bare Temporal" in text and "which meets the goal" in text
    assert "which is below the goal" in report(poor, [])
    assert "temporal server 67%, worker 33%" in text  # kosh's CPU shares


def test_the_performance_doc_carries_the_baseline_and_profile_with_their_command() -> None:
    doc = (ROOT / "docs" / "performance.md").read_text()
    for begin, end, mark in (
        (MARK_BEGIN, MARK_END, "| kosh (ApplicantWorkflow) |"),
        (PROFILE_BEGIN, PROFILE_END, "| where the time goes |"),
    ):
        section = doc[doc.index(begin) : doc.index(end)]
        assert "python -m bench.baseline" in section and mark in section


def test_local_calls_are_played_again_as_ordinary_activities_and_compared() -> None:
    script = Script(
        offset=0.0,
        steps=[("activities", 2), ("local", 1), ("input", 0), ("local", 1)],
        sends={0: ["signal"]},
    )
    [ordinary] = as_ordinary([script])
    assert ordinary.steps == [("activities", 2), ("activities", 1), ("input", 0), ("activities", 1)]
    assert ordinary.sends == {0: ["signal"]}  # the steps keep their places
    r = result(20.0, 40.0)
    assert r.ordinary is None and r.ratio_ordinary == 0.0
    assert "every call an ordinary activity" not in report(r, [])
    r.ordinary = Workload(30.0, {"worker": 20.0, "temporal server": 70.0})
    assert r.ratio_ordinary == 90 / 60
    lines = table(r).splitlines()
    assert lines[4] == (
        "| bare, same scripts, every call an ordinary activity | 10 | 2.00 | 7.00 | 0.00 | "
        "9.00 | 0.56 | 30.0 |"
    )
    text = report(r, [])
    assert "cost bare Temporal 9.00 CPU s per case, 1.8 times" in text
    assert "kosh runs at 1.50." in text
