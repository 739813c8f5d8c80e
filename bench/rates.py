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
import contextlib
import json
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import psutil
    from temporalio.api.enums.v1 import EventType
    from temporalio.api.history.v1 import HistoryEvent
    from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
    from temporalio.worker import Worker

    from adapters.codec import CodecKeys
    from bench.common import ENV, KOSH, free_port, write_section
    from cli import demo
    from cli.dev import reap_leftovers
    from cli.stack import STATE_FILE, StackInfo
    from worker import connect
    from workflows import api

MARK_BEGIN, MARK_END = "<!-- bench:rates:begin -->", "<!-- bench:rates:end -->"
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


@dataclass(frozen=True)
class Rate:
    """`done` of `count` operations succeeded in `seconds` (wall, all in flight together)."""

    count: int
    done: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def __add__(self, other: Rate) -> Rate:
        """Two timed batches as one."""
        return Rate(self.count + other.count, self.done + other.done, self.seconds + other.seconds)


@dataclass(frozen=True)
class Row:
    what: str
    kosh: Rate
    bare: Rate

    @property
    def ratio(self) -> float:
        return self.kosh.per_second / self.bare.per_second if self.bare.per_second else 0.0


@dataclass(frozen=True)
class UpdateCost:
    """What one update added to a history, from its acceptance to its completion."""

    events: int
    workflow_tasks: int
    activities: tuple[str, ...]
    upserts: int


@dataclass(frozen=True)
class Measured:
    starts: Row
    updates: Row
    actor: str
    start_bytes: tuple[int, int]  # the started event as stored: (kosh, bare)
    costs: tuple[UpdateCost, UpdateCost]  # (kosh, bare)


def table(rows: list[Row]) -> str:
    lines = [
        "| what | kosh per second | bare per second | ratio (kosh/bare) | kosh done | bare done |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.what} | {r.kosh.per_second:.1f} | {r.bare.per_second:.1f} | {r.ratio:.2f} | "
            f"{r.kosh.done}/{r.kosh.count} | {r.bare.done}/{r.bare.count} |"
        )
    return "\n".join(lines)


def _many(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _activities(names: tuple[str, ...]) -> str:
    if not names:
        return "no activity"
    counts = Counter(names)
    listed = ", ".join(f"{n} x{c}" if c > 1 else n for n, c in sorted(counts.items()))
    return f"{_many(len(names), 'activity', 'activities')} ({listed})"


def where_it_goes(m: Measured) -> str:
    kosh_bytes, bare_bytes = m.start_bytes
    kosh, bare = m.costs
    return (
        f"Where the difference goes: a kosh start carries {kosh_bytes / 1024:.1f} KiB (the "
        "application as pydantic JSON sealed by the payload codec, with the case's summary "
        f"and details) where the bare start carries {bare_bytes} bytes; kosh sets its search "
        "attributes from the workflow's first task, not at the start. From the workflow task "
        "that accepted it to the one that answered, an interview update took "
        f"{_many(kosh.workflow_tasks, 'workflow task', 'workflow tasks')}, "
        f"{_activities(kosh.activities)} one after the other, "
        f"{_many(kosh.upserts, 'search-attribute upsert', 'search-attribute upserts')} and "
        f"{kosh.events} history events, against "
        f"{_many(bare.workflow_tasks, 'workflow task', 'workflow tasks')}, "
        f"{_activities(bare.activities)} and {bare.events} events for the bare update: "
        "the validator runs the decider on the "
        "case dry, then the case asks the staff registry in PostgreSQL whether the actor is "
        "an interviewer (check_actor), decides, appends the events to the record "
        "(append_events) and publishes its stage before it answers; a case under the "
        "2026-11-local-record rules asks both from the worker running its workflow task "
        "(local activities: a marker each, no activity task); every payload, both ways, "
        "goes through the codec's AES-256-GCM."
    )


def report(m: Measured, argv: list[str]) -> str:
    cpu = psutil.cpu_count()
    memory = psutil.virtual_memory().total / 2**30
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["python -m bench.rates", *argv])
    return "\n".join(
        [
            MARK_BEGIN,
            f"Measured {when} on {platform.platform()}, {cpu} CPUs, {memory:.0f} GiB, with",
            f"`{command}`:",
            "",
            table([m.starts, m.updates]),
            "",
            f"Every interview update was sent as the signed-in staff member `{m.actor}` "
            f"(an interviewer) and answered accepted: {m.updates.kosh.done} of "
            f"{m.updates.kosh.count}; bare updates completed: {m.updates.bare.done} of "
            f"{m.updates.bare.count}. Starts were timed with no worker polling either queue, "
            "half the cases at a time in the order bare, kosh, kosh, bare; updates bare first "
            "(a case that has answered carries on with its decision and permit on the same "
            "worker while the others' updates are timed).",
            "",
            where_it_goes(m),
            MARK_END,
        ]
    )


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


def stop(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Stop a child we started, by its pid: SIGINT, then SIGKILL if it will not go."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


async def stack_of(dev: subprocess.Popen[bytes], state: Path, timeout: float = 180) -> StackInfo:
    """The stack `kosh dev` wrote once it serves the agencies (its last step before cases)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dev.poll() is not None:
            raise SystemExit(f"kosh dev exited early ({dev.returncode}); see its log in {state}")
        with contextlib.suppress(OSError, ValueError):
            info = StackInfo.model_validate_json((state / STATE_FILE).read_text())
            if info.agencies_url:
                return info
        await asyncio.sleep(0.2)
    raise SystemExit(f"kosh dev was not ready after {timeout:.0f} s")


def signed_in_member(state: Path) -> str:
    """The member this folder's CLI is signed in as, checked against the registry
    (`kosh whoami`, as `kosh interview` does); they must be an interviewer."""
    env = {k: v for k, v in ENV.items() if k not in ("KOSH_STAFF_ID", "KOSH_STAFF_TOKEN")}
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


async def measure(args: argparse.Namespace, state: Path, logs: IO[bytes]) -> Measured:
    n, concurrency = args.cases, args.concurrency
    ports = ("--port", "--ui-port", "--console-port", "--codec-port")
    command = [str(KOSH), "dev", "--no-worker", "--state", str(state)]
    command += [arg for option in ports for arg in (option, str(free_port()))]
    children: list[subprocess.Popen[bytes]] = []
    dev = subprocess.Popen(command, env=ENV, stdout=logs, stderr=logs)
    try:
        stack = await stack_of(dev, state)
        actor = signed_in_member(state)
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

        joined = {**ENV, "KOSH_STATE_DIR": str(state), "KOSH_LOG_LEVEL": "warning"}
        children.append(
            subprocess.Popen([str(KOSH), "worker"], env=joined, stdout=logs, stderr=logs)
        )
        bare_worker = [sys.executable, "-m", "bench.rates", "--bare-worker", stack.temporal_address]
        children.append(subprocess.Popen(bare_worker, env=ENV, stdout=logs, stderr=logs))
        waited = time.perf_counter()
        ids = [c.case_id for c in cases]
        await wait_for_interview(kosh, ids, timeout=args.wait_seconds)
        for i in range(n):  # the bare workflows too have run their first task
            await bare.get_workflow_handle(f"bare-{i}").query("ready")
        print(f"every case waits for its interview ({time.perf_counter() - waited:.0f} s)")

        async def update_bare(i: int) -> bool:
            payload = {"interviewer_id": actor, "passed": True, "points": 80, "notes": ""}
            await bare.get_workflow_handle(f"bare-{i}").execute_update(BARE_UPDATE, payload)
            return True

        async def update_kosh(i: int) -> bool:
            # As `kosh interview` sends it: the signed-in member is the interviewer.
            payload = {"interviewer_id": actor, "passed": True, "points": 80, "notes": ""}
            handle = kosh.get_workflow_handle(api.case_workflow_id(ids[i]))
            try:
                result = await handle.execute_update(
                    api.UPDATE_INTERVIEW, payload, result_type=api.UpdateResult
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
    finally:
        for child in children:
            stop(child)
        stop(dev)
        with contextlib.suppress(Exception):  # only if kosh dev died without stopping them
            reap_leftovers(state)


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
        state = Path(tmp) / "state"
        with (Path(tmp) / "processes.log").open("wb") as logs:
            try:
                measured = asyncio.run(measure(args, state, logs))
            except BaseException:
                log = (Path(tmp) / "processes.log").read_text(errors="replace")
                sys.stderr.write(f"the processes' log, its end:\n{log[-4000:]}\n")
                raise
    shown = args_list[:]
    if "--write" in shown:  # the command as a reader would rerun it
        at = shown.index("--write")
        shown[at : at + 2] = ["--write", str(args.write)]
    text = report(measured, shown)
    print(text)
    if args.write:
        write_section(args.write, MARK_BEGIN, MARK_END, text)


if __name__ == "__main__":
    main()
