"""A kosh case's histories as a script, and the bare workflow that plays it: empty
activities, empty handlers, the same timers, inputs and continue-as-new (bench/baseline.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psutil
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.worker import Worker

from bench.common import per_second

BASELINE_QUEUE = "kosh-bench-baseline"
LOCAL_ACTIVITY_MARKER = "core_local_activity"  # the marker a local activity's result is kept in

# A script step: ("activities", n) run n empty activities at once; ("local", 1) one empty
# local activity (kosh asks its record and staff registry from the worker); ("sleep", s) a
# timer that fired; ("wait", s) a timer cancelled because an input came first (a wait with a
# timeout); ("input", 0) wait for the next signal or update; ("continue", 0) continue as new.
Step = tuple[str, float]


@dataclass
class Script:
    """One kosh case's shape, as the baseline plays it."""

    offset: float  # seconds after the cohort's first start
    steps: list[Step] = field(default_factory=list)
    # Per activity step index: the inputs ("signal" / "update") its activity sends afterwards.
    sends: dict[int, list[str]] = field(default_factory=dict)


@dataclass
class Shape:
    cases: int = 0
    runs: int = 0
    activities: int = 0
    local_activities: int = 0
    timers: int = 0
    signals: int = 0
    updates: int = 0
    unplayable_inputs: int = 0  # inputs with no activity before them in their run


def _name(event: HistoryEvent) -> str:
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


def script_of(runs: list[list[HistoryEvent]], offset: float, shape: Shape) -> Script:
    """The baseline script of one case from its runs' histories, oldest run first."""
    script = Script(offset=offset)
    shape.cases += 1
    for number, events in enumerate(runs):
        shape.runs += 1
        fate = {}
        for e in events:
            if _name(e) in ("TIMER_FIRED", "TIMER_CANCELED"):
                attrs = e.timer_fired_event_attributes
                if _name(e) == "TIMER_CANCELED":
                    attrs = e.timer_canceled_event_attributes  # type: ignore[assignment]
                fate[attrs.started_event_id] = _name(e)
        last_activity: int | None = None
        previous = ""
        for e in events:
            kind = _name(e)
            if kind == "ACTIVITY_TASK_SCHEDULED":
                shape.activities += 1
                if script.steps and script.steps[-1][0] == "activities" and previous == kind:
                    script.steps[-1] = ("activities", script.steps[-1][1] + 1)
                else:
                    script.steps.append(("activities", 1))
                last_activity = len(script.steps) - 1
            elif kind == "MARKER_RECORDED" and (
                e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            ):
                # Not an input's sender: an update sent from inside the workflow task that runs
                # the local activity would wait for that task to end.
                shape.local_activities += 1
                script.steps.append(("local", 1))
            elif kind == "TIMER_STARTED":
                shape.timers += 1
                seconds = e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
                fired = fate.get(e.event_id) == "TIMER_FIRED"
                script.steps.append(("sleep" if fired else "wait", seconds.total_seconds()))
            elif kind in ("WORKFLOW_EXECUTION_SIGNALED", "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"):
                which = "signal" if kind == "WORKFLOW_EXECUTION_SIGNALED" else "update"
                shape.signals += which == "signal"
                shape.updates += which == "update"
                if last_activity is None:
                    shape.unplayable_inputs += 1
                else:
                    script.sends.setdefault(last_activity, []).append(which)
                    script.steps.append(("input", 0))
            if not kind.startswith("WORKFLOW_TASK"):
                previous = kind
        if number < len(runs) - 1:
            script.steps.append(("continue", 0))
    return script


# ---- the baseline: a bare workflow, empty activities, empty handlers -----------------------
@activity.defn(name="bench_empty")
async def empty(workflow_id: str, sends: list[str]) -> None:
    """Nothing, then the inputs the kosh case received after this activity (a callback)."""
    if sends:
        client: Client = BASELINE_CLIENT[0]
        handle = client.get_workflow_handle(workflow_id)
        for which in sends:
            if which == "signal":
                await handle.signal("input")
            else:
                await handle.execute_update("input_update")


BASELINE_CLIENT: list[Client] = []


@workflow.defn(name="BareCase", sandboxed=False)
class BareCase:
    def __init__(self) -> None:
        self.received = 0

    @workflow.signal(name="input")
    def input(self) -> None:
        self.received += 1

    @workflow.update(name="input_update")
    def input_update(self) -> None:
        self.received += 1

    @input_update.validator
    def validate(self) -> None:
        pass

    def _got(self, count: int) -> Callable[[], bool]:
        return lambda: self.received >= count

    @workflow.run
    async def run(self, script: dict[str, Any]) -> int:
        steps: list[list[Any]] = script["steps"]
        sends: dict[str, list[str]] = script["sends"]
        at: int = script.get("at", 0)
        waited: int = script.get("waited", 0)
        self.received += script.get("received", 0)
        wid = workflow.info().workflow_id
        while at < len(steps):
            kind, value = steps[at]
            if kind == "activities":
                mine = sends.get(str(at), [])
                await asyncio.gather(
                    *(
                        workflow.execute_activity(
                            empty,
                            args=[wid, mine if i == 0 else []],
                            start_to_close_timeout=timedelta(seconds=30),
                        )
                        for i in range(int(value))
                    )
                )
            elif kind == "local":
                await workflow.execute_local_activity(
                    empty, args=[wid, []], start_to_close_timeout=timedelta(seconds=30)
                )
            elif kind == "sleep":
                await workflow.sleep(value)
            elif kind == "wait":
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(self._got(waited + 1), timeout=value)
            elif kind == "input":
                waited += 1
                await workflow.wait_condition(self._got(waited))
            elif kind == "continue":
                await workflow.wait_condition(workflow.all_handlers_finished)
                carried = self.received - waited
                workflow.continue_as_new({**script, "at": at + 1, "waited": 0, "received": carried})
            at += 1
        return at


def as_ordinary(scripts: list[Script]) -> list[Script]:
    """The same scripts with every local activity an ordinary one: what the cases' calls cost
    Temporal before kosh asked its record and registry from the worker."""
    return [
        Script(
            offset=s.offset,
            steps=[("activities", 1) if kind == "local" else (kind, v) for kind, v in s.steps],
            sends=s.sends,
        )
        for s in scripts
    ]


async def play(client: Client, scripts: list[Script], *, prefix: str) -> tuple[float, float]:
    """Run every script on the baseline; (cases per minute, CPU seconds of this process)."""
    BASELINE_CLIENT[:] = [client]
    me = psutil.Process()
    cpu_before = sum(me.cpu_times()[:2])
    async with Worker(
        client,
        task_queue=BASELINE_QUEUE,
        workflows=[BareCase],
        activities=[empty],
        max_concurrent_activities=200,
    ):
        began = time.monotonic()
        run_id = f"bare-{prefix}-{int(time.time())}"

        async def one(i: int, s: Script) -> None:
            await asyncio.sleep(max(0.0, s.offset - (time.monotonic() - began)))
            body = {"steps": s.steps, "sends": {str(k): v for k, v in s.sends.items()}}
            handle = await client.start_workflow(
                BareCase.run, body, id=f"{run_id}-{i}", task_queue=BASELINE_QUEUE
            )
            await handle.result(follow_runs=True)

        await asyncio.gather(*(one(i, s) for i, s in enumerate(scripts)))
    cpu = sum(me.cpu_times()[:2]) - cpu_before
    spans = [w async for w in client.list_workflows(f"WorkflowId STARTS_WITH '{run_id}-'")]
    return per_minute(spans, len(scripts)), cpu


def per_minute(executions: list[Any], cases: int) -> float:
    first = min(e.start_time for e in executions)
    last = max(e.close_time for e in executions if e.close_time)
    seconds = (last - first).total_seconds()
    return 60 * per_second(cases, seconds)
