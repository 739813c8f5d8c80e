"""Start and update rates, kosh against bare Temporal, on one dev server (`make bench`).

One `kosh dev --no-worker` on free ports (the dev server, PostgreSQL, the simulated agencies
over HTTP, the demo staff registry). With no worker polling yet, N kosh cases are started as
the demo submits them (kosh's client: pydantic, the payload codec, the input size limit) and
N bare workflows with a plain client, at the same concurrency. Then a `kosh worker` and a bare
worker (each its own process) join; once every case waits for its interview, each gets
`submit_interview` from the signed-in staff member (`kosh whoami`), and each bare workflow
an update whose validator and handler do nothing. Every start and update must succeed.

    python -m bench.rates --cases 60 --write docs/performance.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from temporalio.api.enums.v1 import EventType
    from temporalio.api.history.v1 import HistoryEvent
    from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
    from temporalio.worker import Worker

    from adapters.assertions import Issuer, SigningKeys
    from adapters.codec import CodecKeys
    from bench.common import as_rerun, publish
    from bench.rates_report import MARK_BEGIN, MARK_END, Measured, Rate, Row, UpdateCost, report
    from cli import demo
    from cli.devstack import KOSH, DevStack, isolated_env
    from cli.stack import StackInfo
    from worker import connect
    from workflows import api

BARE_QUEUE = "bench-bare"
BARE_UPDATE = "bare_update"
# Demo applicants that pass every check before the interview (the others are rejected early).
REJECTED_EARLY = frozenset({"forged_documents", "language_fail", "low_score"})


@workflow.defn(name="BenchBareWorkflow")
class BareWorkflow:
    """The baseline: waits for one update, whose validator and handler do nothing."""

    def __init__(self) -> None:
        self.updated = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.updated)

    @workflow.update(name=BARE_UPDATE)
    async def bare_update(self, raw: Any) -> None:
        self.updated = True

    @bare_update.validator
    def _validate(self, raw: Any) -> None:
        pass

    @workflow.query(name="ready")
    def ready(self) -> bool:
        return True


# ---- measuring ----------------------------------------------------------------------------
async def timed(
    what: str, indices: range, concurrency: int, one: Callable[[int], Awaitable[bool]]
) -> Rate:
    """Run `one(i)` for every index, at most `concurrency` at once, and time it all."""
    gate = asyncio.Semaphore(concurrency)

    async def bounded(i: int) -> bool:
        async with gate:
            return await one(i)

    started = time.perf_counter()
    results = await asyncio.gather(*(bounded(i) for i in indices), return_exceptions=True)
    rate = Rate(len(indices), sum(r is True for r in results), time.perf_counter() - started)
    print(f"{what}: {rate.done}/{rate.count} in {rate.seconds:.2f} s", flush=True)
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"  {len(errors)} failed, the first: {errors[0]}", flush=True)
    return rate


def applicants(count: int, seed: int) -> list[demo.DemoCase]:
    """`count` demo applicants whose cases all reach the interview."""
    cohort = demo.cohort(count * 2, seed=seed, prefix=f"rates{int(time.time())}")
    return [c for c in cohort if c.scenario.name not in REJECTED_EARLY][:count]


def signed_in_member(state: Path) -> str:
    """The member this folder's CLI is signed in as, checked against the registry
    (`kosh whoami`, as `kosh interview` does); they must be an interviewer."""
    caller = ("KOSH_STAFF_ID", "KOSH_STAFF_TOKEN")  # the folder's session, not this shell's
    env = {k: v for k, v in isolated_env().items() if k not in caller}
    found = subprocess.run(
        [str(KOSH), "whoami", "--json", "--state", str(state)],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    member = json.loads(found.stdout)
    if "interviewer" not in member["roles"]:
        raise SystemExit(f"{member['staff_id']} is not an interviewer: {member['roles']}")
    return str(member["staff_id"])


async def wait_for_interview(client: Client, case_ids: list[str], timeout: float) -> None:
    """Until every case waits for its interview (the search attribute, then the status query)."""
    query = f"{api.SA_WAITING_FOR.name} = 'interview' AND ExecutionStatus = 'Running'"
    deadline = time.monotonic() + timeout
    while (await client.count_workflows(query)).count < len(case_ids):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    waiting: Counter[str] = Counter()
    for cid in case_ids:
        handle = client.get_workflow_handle(api.case_workflow_id(cid))
        status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
        waiting[f"{status.stage}: {status.waiting_for}"] += 1
    if waiting != Counter({"scoring: interview": len(case_ids)}):
        raise SystemExit(f"not every case waits for its interview: {dict(waiting)}")


async def update_cost(handle: WorkflowHandle[Any, Any]) -> UpdateCost:
    """From the workflow task that accepted the update to the one that answered it."""
    events = (await handle.fetch_history()).events
    kinds = [e.event_type for e in events]
    accepted = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    completed = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    span = events[accepted - 1 : completed + 1]  # the accepting task's completion first
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    return UpdateCost(
        events=completed - accepted + 1,
        workflow_tasks=sum(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in span
        ),
        # the activities it waited for (one the next step schedules as it answers is not)
        activities=tuple(
            scheduled[e.activity_task_completed_event_attributes.scheduled_event_id]
            for e in span
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        )
        + tuple(f"{name} (local)" for name in map(local_activity, span) if name),
        upserts=sum(
            e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES for e in span
        ),
    )


def local_activity(e: HistoryEvent) -> str | None:
    """The activity type of a local activity's marker (the SDK's own JSON), else None."""
    if e.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
        return None
    marker = e.marker_recorded_event_attributes
    if marker.marker_name != "core_local_activity":
        return None
    [payload] = marker.details["data"].payloads
    return str(json.loads(payload.data)["activity_type"])


async def started_bytes(handle: WorkflowHandle[Any, Any]) -> int:
    return int((await handle.fetch_history()).events[0].ByteSize())


async def measure(args: argparse.Namespace, dev: DevStack, stack: StackInfo) -> Measured:
    """Starts, then updates, on the stack `dev` runs (up, no worker yet)."""
    n, concurrency = args.cases, args.concurrency
    actor = signed_in_member(dev.state)
    assert stack.codec_keys_file is not None
    keys_file = Path(stack.codec_keys_file)
    keys = CodecKeys.from_json(keys_file.read_text(), source=str(keys_file))
    kosh = await connect(stack.temporal_address, stack.namespace, keys=keys)
    bare = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    cases = applicants(n, args.seed)

    async def start_bare(i: int) -> bool:
        await bare.start_workflow(BareWorkflow.run, id=f"bare-{i}", task_queue=BARE_QUEUE)
        return True

    async def start_kosh(i: int) -> bool:
        await demo.submit(
            kosh,
            cases[i],
            seconds_per_year=args.seconds_per_year,
            human_floor_seconds=args.human_floor_seconds,
        )
        return True

    # In the order bare, kosh, kosh, bare: a steady drift in the server's pace (its
    # database growing, a neighbour's load) falls on both alike.
    first, second = range(n // 2), range(n // 2, n)
    bare_starts = await timed("bare starts", first, concurrency, start_bare)
    kosh_starts = await timed("kosh starts", first, concurrency, start_kosh)
    kosh_starts += await timed("kosh starts", second, concurrency, start_kosh)
    bare_starts += await timed("bare starts", second, concurrency, start_bare)

    dev.add_worker({"KOSH_LOG_LEVEL": "warning"}, log=dev.log)
    bare_worker = [sys.executable, "-m", "bench.rates", "--bare-worker", stack.temporal_address]
    dev.spawn(bare_worker, log=dev.log)
    waited = time.perf_counter()
    ids = [c.case_id for c in cases]
    await wait_for_interview(kosh, ids, timeout=args.wait_seconds)
    for i in range(n):  # the bare workflows too have run their first task
        await bare.get_workflow_handle(f"bare-{i}").query("ready")
    print(f"every case waits for its interview ({time.perf_counter() - waited:.0f} s)")

    async def update_bare(i: int) -> bool:
        payload = {"passed": True, "points": 80, "notes": "", "request_id": f"rates-{i}"}
        await bare.get_workflow_handle(f"bare-{i}").execute_update(BARE_UPDATE, payload)
        return True

    # As `kosh interview` sends it: the console's assertion that the signed-in member is the
    # interviewer, issued before the clock starts (the case's cost is what is timed).
    issuer = Issuer(SigningKeys.load(dev.state / "assertion-keys.json"))
    signed = [
        {"passed": True, "points": 80, "notes": "", "request_id": f"rates-{i}"}
        | {
            "assertion": issuer.issue(
                staff_id=actor, workflow_id=api.case_workflow_id(ids[i]), request_id=f"rates-{i}"
            )
        }
        for i in range(n)
    ]

    async def update_kosh(i: int) -> bool:
        handle = kosh.get_workflow_handle(api.case_workflow_id(ids[i]))
        try:
            result = await handle.execute_update(
                api.UPDATE_INTERVIEW, signed[i], result_type=api.UpdateResult
            )
        except WorkflowUpdateFailedError:  # refused by the validator
            return False
        return bool(result.accepted)

    # Bare first: a case that has answered carries on (decision, permit, relocation),
    # and that work would fall on whatever is timed after it.
    bare_updates = await timed("bare updates", range(n), concurrency, update_bare)
    kosh_updates = await timed("kosh updates", range(n), concurrency, update_kosh)

    first_case = kosh.get_workflow_handle(api.case_workflow_id(ids[0]))
    first_bare = bare.get_workflow_handle("bare-0")
    return Measured(
        starts=Row("cases submitted (workflow starts)", kosh_starts, bare_starts),
        updates=Row("interview updates (accepted)", kosh_updates, bare_updates),
        actor=actor,
        start_bytes=(await started_bytes(first_case), await started_bytes(first_bare)),
        costs=(await update_cost(first_case), await update_cost(first_bare)),
    )


async def run_bare_worker(address: str) -> None:
    """The baseline's worker, in its own process as kosh's is, until SIGINT or SIGTERM."""
    client = await Client.connect(address)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    async with Worker(client, task_queue=BARE_QUEUE, workflows=[BareWorkflow]):
        await done.wait()


def main(argv: list[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=50, help="Starts/updates in flight.")
    parser.add_argument(
        "--seconds-per-year",
        type=float,
        default=3600.0,
        help="Demo clock of the cases (slow enough that no case year ends during the run).",
    )
    parser.add_argument(
        "--human-floor-seconds",
        type=float,
        default=1800.0,
        help="Wall seconds staff get for the interview (it never lapses during the run).",
    )
    parser.add_argument("--wait-seconds", type=float, default=600.0, help="For the interviews.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", type=Path, help="Replace the measured section of this file.")
    parser.add_argument("--bare-worker", metavar="ADDRESS", help=argparse.SUPPRESS)
    args = parser.parse_args(args_list)
    if args.bare_worker:
        asyncio.run(run_bare_worker(args.bare_worker))
        return
    with tempfile.TemporaryDirectory(prefix="kosh-rates-") as tmp:
        logs = Path(tmp) / "processes.log"  # every process's output, kosh dev's too
        try:
            with DevStack(
                Path(tmp) / "state", options=["--no-worker"], log=logs, errors=logs
            ) as dev:
                measured = asyncio.run(measure(args, dev, dev.start(timeout=180)))
        except BaseException:
            log = logs.read_text(errors="replace") if logs.exists() else ""
            sys.stderr.write(f"the processes' log, its end:\n{log[-4000:]}\n")
            raise
    publish(report(measured, as_rerun(args_list, args.write)), args.write, (MARK_BEGIN, MARK_END))


if __name__ == "__main__":
    main()
