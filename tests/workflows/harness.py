"""What the workflow tests share: applicants, a simulated staff member, and a rig that runs
cases on the time-skipping server with a fresh worker and task queue per test.

Time only skips while a test awaits a case's result. A staff member answering a notice holds
the clock still (the test server's time-skipping lock) until the answer is in, so an answer
never loses a race against the deadline it answers. Tests that answer by hand do so before
they await the result, while the clock runs at wall speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Literal

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.api.testservice.v1 import LockTimeSkippingRequest, UnlockTimeSkippingRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from adapters.assertions import Issuer, SigningKeys, Verifier
from adapters.ports import AgencyMessage, StaffNotice
from adapters.simulator import SimConfig, Simulator, with_check_digit
from domain.application import Application
from domain.clock import CaseClock
from store.events import read_events
from tests import servers
from tests.policy_versions import on_the_test_clock
from worker import build_worker, workflow_runner
from workflows import allocation_api, api
from workflows.allocation.round import AllocationRoundWorkflow
from workflows.case.state import RunState
from workflows.case.workflow import ApplicantWorkflow
from workflows.labour.workflow import EmployerPermitWorkflow

Handle = WorkflowHandle[Any, api.CaseResult]
Answer = Callable[[Handle, StaffNotice], Awaitable[None]]

FULL_NAME = "Aigerim Testova"
GOOD_INTERVIEW: dict[str, Any] = {"passed": True, "points": 80}
INTERVIEWER, OFFICER = "staff-7", "officer-3"  # in the tests' staff registry (tests/conftest.py)
# Who sends staff input: assertions kosh's issuer signs (adapters/assertions.py), verified by
# the tests' workers with the public keys; the feeds' key signs the agencies' own facts.
STAFF_KEYS = SigningKeys.generate("staff", "test-staff")
FEED_KEYS = SigningKeys.generate("feed", "test-feed")
ISSUER, FEEDS = Issuer(STAFF_KEYS), Issuer(FEED_KEYS)
VERIFIER = Verifier(STAFF_KEYS.public().merged(FEED_KEYS.public()))
RPC_TIMEOUT = 10.0
QUERY_PATIENCE = 3.0  # a status query unanswered this long is asked again (Rig.status)
# A round's steps may wait out a workflow task timeout (10 s: a task in flight on a worker
# killed or without a cache is handed out again only then), so rounds get three times that.
ROUND_PATIENCE = 3 * RPC_TIMEOUT
# Last history events after which a workflow task or an activity is bound to follow.
BUSY = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    EventType.EVENT_TYPE_TIMER_FIRED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
}


# ---- applicants ---------------------------------------------------------------------------
def passport_number(*, forged: bool = False) -> str:
    """A fresh passport number; a forged one has a wrong check digit."""
    body = uuid.uuid4().hex[:8].upper()
    number = with_check_digit(body)
    return body + str((int(number[-1]) + 1) % 10) if forged else number


def application(
    *,
    track: str = "kandas",
    kazakh: str = "fluent",
    weak: bool = False,
    forged: bool = False,
    regions: tuple[str, ...] = ("Pavlodar", "Kostanay"),
) -> Application:
    """A family of three (kandas) or a single applicant (general) scoring far above the
    questionnaire minimum at any age the session's clock reaches, or far below it if `weak`."""
    kandas = track == "kandas"
    questionnaire: dict[str, Any] = {
        "education": "doctorate",
        "kazakh": kazakh,
        "russian": "fluent",
        "english": "ielts_7",
        "work_years": 10,
    }
    if weak:
        questionnaire = {
            "education": "none",
            "kazakh": "basic",
            "russian": "none",
            "work_years": 0,
            "health_fit": False,
        }
    family = [
        {"relation": "spouse", "full_name": "Yerlan Testov", "born_on": "1988-01-02"},
        {"relation": "child", "full_name": "Dana Testova", "born_on": "2020-07-07"},
    ]
    return Application.model_validate(
        {
            "full_name": FULL_NAME,
            "born_on": "1990-05-17",
            "citizenship": "MNG",
            "track": track,
            "ethnic_kazakh": kandas,
            "document": {
                "number": passport_number(forged=forged),
                "country": "MNG",
                "expires_on": "2045-01-01",
            },
            "questionnaire": questionnaire,
            "family": family if kandas else [],
            "preferred_regions": regions if kandas else [],
        }
    )


def new_case_id() -> str:
    return f"wf-{uuid.uuid4().hex[:12]}"


# ---- the outside world --------------------------------------------------------------------
class GatedSimulator(Simulator):
    """The simulator without latency, with authorities that answer at once, and with gates
    that hold a call until the test opens them (to put staff input in flight while an
    activity runs)."""

    def __init__(self) -> None:
        super().__init__(SimConfig(latency_ms=(0, 1)))
        self.entered: dict[str, asyncio.Event] = {}
        self.gates: dict[str, asyncio.Event] = {}

    def gate(self, operation: str) -> tuple[asyncio.Event, asyncio.Event]:
        """(entered, release) for calls of `operation`: "verify", "disburse", "request" (an
        authority check) or "language" (a KAZTEST sitting)."""
        self.entered[operation] = asyncio.Event()
        self.gates[operation] = asyncio.Event()
        return self.entered[operation], self.gates[operation]

    async def _hold(self, operation: str) -> None:
        if operation in self.gates:
            self.entered[operation].set()
            await self.gates[operation].wait()

    async def verify(self, **kw: Any) -> Any:
        await self._hold("verify")
        return await super().verify(**kw)

    async def disburse(self, **kw: Any) -> Any:
        await self._hold("disburse")
        return await super().disburse(**kw)

    async def request(self, **kw: Any) -> Any:
        await self._hold("request")
        return await super().request(**kw)

    async def sit_test(self, **kw: Any) -> Any:
        await self._hold("language")
        return await super().sit_test(**kw)

    async def _dispatch(self, answer: AgencyMessage) -> None:
        # Authorities answer before the request activity returns: the time-skipping clock
        # is held while an activity runs, so the reply never races the reply deadline.
        await self._deliver(answer)


# ---- staff --------------------------------------------------------------------------------
def signed(
    workflow_id: str, payload: dict[str, Any], *, by: str, request_id: str | None = None
) -> dict[str, Any]:
    """`payload` as member `by` sends it through kosh: a request id and the issuer's assertion
    that `by` sent that request to that workflow."""
    rid = request_id or payload.get("request_id") or f"req-{uuid.uuid4().hex[:12]}"
    token = ISSUER.issue(staff_id=by, workflow_id=workflow_id, request_id=rid)
    return {**payload, "request_id": rid, "assertion": token}


async def as_staff(handle: Handle, name: str, payload: dict[str, Any], *, by: str) -> Any:
    """Send `payload` as member `by`: an update's answer, or None for a signal."""
    sent = signed(handle.id, payload, by=by)
    if name in (api.UPDATE_INTERVIEW, api.UPDATE_FACT):
        return await update(handle, name, sent)
    await handle.signal(name, sent)
    return None


class Staff:
    """Answers the notices cases send, one answer per notice kind; keeps the rest for the
    test to answer by hand (`Rig.notice`)."""

    def __init__(self, env: WorkflowEnvironment, sim: Simulator) -> None:
        self.env = env
        self.sim = sim
        self.answers: dict[str, Answer] = {}
        self.seen: list[StaffNotice] = []
        self.unanswered: asyncio.Queue[StaffNotice] = asyncio.Queue()
        self.error: BaseException | None = None

    def on(self, kind: str, answer: Answer) -> None:
        self.answers[kind] = answer

    def kinds(self, case_id: str) -> list[str]:
        return [n.kind for n in self.seen if n.case_id == case_id]

    async def run(self) -> None:
        """Each notice answered with the clock held; the notices that came in meanwhile (a
        case answering back while staff acted: an allocation round's place, then the arrival
        it awaits) are answered before the clock is let go, so none loses its deadline."""
        while True:
            notice = await self.sim.notices.get()
            try:
                async with self.clock_held():
                    while True:
                        await self.take(notice)
                        try:
                            notice = self.sim.notices.get_nowait()
                        except asyncio.QueueEmpty:
                            break
            except Exception as exc:  # raised again by the rig when the test ends
                self.error = self.error or exc

    async def take(self, notice: StaffNotice) -> None:
        self.seen.append(notice)
        answer = self.answers.get(notice.kind)
        if answer is None:
            self.unanswered.put_nowait(notice)
            return
        handle = self.env.client.get_workflow_handle(api.case_workflow_id(notice.case_id))
        await asyncio.wait_for(answer(handle, notice), RPC_TIMEOUT)

    @asynccontextmanager
    async def clock_held(self) -> AsyncIterator[None]:
        """The time-skipping clock held still while staff answer (the dev server's is the
        wall's: nothing to hold)."""
        if not self.env.supports_time_skipping:
            yield
            return
        service = self.env.client.test_service
        await service.lock_time_skipping(LockTimeSkippingRequest())
        try:
            yield
        finally:
            await service.unlock_time_skipping(UnlockTimeSkippingRequest())


async def update(handle: Handle, name: str, payload: Any) -> api.UpdateResult:
    """Execute an update, never waiting forever."""
    return await asyncio.wait_for(
        handle.execute_update(name, payload, result_type=api.UpdateResult), RPC_TIMEOUT
    )


async def interview(handle: Handle, notice: StaffNotice) -> None:
    result = await as_staff(handle, api.UPDATE_INTERVIEW, GOOD_INTERVIEW, by=INTERVIEWER)
    assert result.accepted, result.reason


async def arrive(handle: Handle, notice: StaffNotice) -> None:
    status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
    fact = {"kind": "arrival", "region": status.region}
    result = await as_staff(handle, api.UPDATE_FACT, fact, by=OFFICER)
    assert result.accepted, result.reason


async def withdraw(handle: Handle, notice: StaffNotice) -> None:
    fact = {"kind": "withdrawal", "reason": "the family decided to stay"}
    result = await as_staff(handle, api.UPDATE_FACT, fact, by=OFFICER)
    assert result.accepted, result.reason


async def approve_referral(handle: Handle, notice: StaffNotice) -> None:
    """A case officer in the test staff registry approves a referred case."""
    fact = {"kind": "referral", "approve": True, "reason": "no reply, but the file is clean"}
    result = await as_staff(handle, api.UPDATE_FACT, fact, by=OFFICER)
    assert result.accepted, result.reason


def repay_in(parts: int) -> Answer:
    """Staff record the repayment in `parts` instalments, each by update."""

    async def repay(handle: Handle, notice: StaffNotice) -> None:
        status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
        owed = status.outstanding_tiyn
        amounts = [owed // parts] * (parts - 1)
        amounts.append(owed - sum(amounts))
        for i, amount in enumerate(amounts, 1):
            fact = {"kind": "repayment", "amount_tiyn": amount, "reference": f"TRN-{i}"}
            result = await as_staff(handle, api.UPDATE_FACT, fact, by=OFFICER)
            assert result.accepted, result.reason

    return repay


class Rounds:
    """Allocation rounds in the workflow tests (the time-skipping server runs no schedules):
    by default a kandas candidate gets its own rounds at once, one region after another until
    one grants (answering "candidacy_lodged"); tests that rank candidates against each other
    hold rounds themselves (`hold`) and take that notice off the staff's answers."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        pool: asyncpg.Pool,
        sim: Simulator,
        staff: Staff,
        task_queue: str,
    ) -> None:
        self.env, self.pool, self.sim, self.staff = env, pool, sim, staff
        self.task_queue = task_queue
        self.background: set[asyncio.Task[None]] = set()
        self.held: list[str] = []  # the rounds' workflow ids
        staff.on("candidacy_lodged", self.of_one)

    async def record(self, case_id: str) -> list[Any]:
        async with self.pool.acquire() as conn:
            return [s.event for s in await read_events(conn, case_id=case_id)]

    async def hold(
        self,
        region: str,
        *,
        scope: str,
        size: int | None = None,
        round_id: str | None = None,
        patience: float = RPC_TIMEOUT,
    ) -> str:
        """Run an allocation round of `region` over the candidates whose ids start with
        `scope`, on this rig's task queue, until it completes; its workflow id. Never through
        `result()`: the time-skipping client lets the clock skip while it waits for one."""
        inp = allocation_api.RoundInput(
            region=region,  # type: ignore[arg-type]
            scope=scope,
            size=size,
            round_id=round_id,
        )
        wid = f"allocation-{scope}-{region}-{uuid.uuid4().hex[:6]}".replace(" ", "-")
        self.held.append(wid)  # before it starts: a start cut short may still have landed
        handle = await self.env.client.start_workflow(
            allocation_api.WORKFLOW_NAME, inp, id=wid, task_queue=self.task_queue
        )
        async with asyncio.timeout(patience):
            while (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await asyncio.sleep(0.02)
        return wid

    async def of_one(self, handle: Handle, notice: StaffNotice) -> None:
        """The case's own rounds, region by region in its order of preference, until one
        grants (a candidate alone in its round is offered a place while the year has one).
        On a wall clock (a dev server: no clock to hold) they run beside the staff's other
        answers, with the patience of a worker that may die and come back."""
        if self.env.supports_time_skipping:
            await self.own_rounds(handle, notice, patience=ROUND_PATIENCE)
            return
        task = asyncio.create_task(self.own_rounds(handle, notice, patience=180.0))
        self.background.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.staff.error = self.staff.error or task.exception()

    async def own_rounds(self, handle: Handle, notice: StaffNotice, *, patience: float) -> None:
        submitted = one(await self.record(notice.case_id), "ApplicationSubmitted")
        for region in submitted.application.preferred_regions:
            await self.hold(region, scope=notice.case_id, patience=patience)
            status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
            if status.stage != "relocation":
                return
            if status.region is not None:
                # the clock stays held until the case asks for the arrival and waits for it
                # (staff answer it before letting the clock go: Staff.run)
                await self.asked(handle, notice.case_id, "arrival_due")
                return

    async def asked(self, handle: Handle, case_id: str, kind: str) -> None:
        """Until the case has sent a notice of `kind` and waits, nothing in flight (within
        ROUND_PATIENCE): an answer that lands while a task is in flight on a worker without a
        workflow cache is dropped with that task and handed out again only at its timeout."""
        async with asyncio.timeout(ROUND_PATIENCE):
            while not any(n.case_id == case_id and n.kind == kind for n in self.sim.notice_log):
                await asyncio.sleep(0.01)
            while not await idle(handle):
                await asyncio.sleep(0.01)

    def stop(self) -> None:
        for task in list(self.background):
            task.cancel()

    async def close(self) -> None:
        """Until every round held has ended. A round still telling its candidates ends by
        itself: a case answers a round's word without staff. Its cases must still run for
        that: a case terminated while a round's update waits on it, or a round cut short,
        leaves a call outstanding that holds the test server's clock."""
        for wid in self.held:
            held = self.env.client.get_workflow_handle(wid)
            async with asyncio.timeout(ROUND_PATIENCE):
                while await self._running(held):
                    await asyncio.sleep(0.02)

    @staticmethod
    async def _running(held: WorkflowHandle[Any, Any]) -> bool:
        try:
            return (await held.describe()).status == WorkflowExecutionStatus.RUNNING
        except RPCError as exc:  # a start cut short that never landed
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise


async def idle(latest: Handle) -> bool:
    """True when the workflow's current run waits on a timer or a condition, nothing in
    flight (`latest`: a handle without a run id)."""
    desc = await latest.describe()
    raw = desc.raw_description
    if raw.pending_activities or raw.HasField("pending_workflow_task"):
        return False
    history = await latest.fetch_history()
    return history.events[-1].event_type not in BUSY


# ---- the rig ------------------------------------------------------------------------------
class Rig:
    """One test's worker, task queue, simulator and staff member."""

    def __init__(
        self, env: WorkflowEnvironment, pool: asyncpg.Pool, *, quarantined: bool = False
    ) -> None:
        self.env = env
        self.quarantined = quarantined
        self.pool = pool
        self.sim = GatedSimulator()
        self.staff = Staff(env, self.sim)
        self.task_queue = f"wf-test-{uuid.uuid4()}"
        self.handles: list[Handle] = []
        self.rounds = Rounds(env, pool, self.sim, self.staff, self.task_queue)
        self.hold_round = self.rounds.hold

    @property
    def cut_short_is_harmless(self) -> bool:
        """A case may be terminated busy: on the quarantine server, whose clock no longer
        matters, and on the dev server, which has no time-skipping clock to hold."""
        return self.quarantined or not self.env.supports_time_skipping

    async def start(
        self,
        app: Application,
        *,
        case_id: str | None = None,
        clock_moves: Literal["waits", "wall"] | None = None,
        **fields: Any,
    ) -> Handle:
        """Start a case. `clock_moves="wall"`: a compressed clock that runs on with the wall
        (domain/clock.py), so a worker away makes the case wake late in case time; the case
        starts from a fresh snapshot, as the capacity bench starts its prototypes."""
        cid = case_id or new_case_id()
        if clock_moves is not None:
            clock = CaseClock(
                origin=await self.env.get_current_time(),
                seconds_per_year=fields.pop("seconds_per_year"),
                moves=clock_moves,
            )
            run = RunState(
                clock=clock,
                human_floor_seconds=fields.pop("human_floor_seconds", 0.0),
                writer=f"test-{uuid.uuid4().hex}",
            )
            fields["snapshot"] = run.model_dump(mode="json")
        inp = api.CaseInput(case_id=cid, application=app, **fields)
        handle: Handle = await self.env.client.start_workflow(
            api.WORKFLOW_NAME,
            inp,
            id=api.case_workflow_id(cid),
            task_queue=self.task_queue,
            result_type=api.CaseResult,
            static_summary=api.static_summary(inp),
            static_details=api.static_details(inp),
        )
        self.handles.append(handle)
        return handle

    async def finish(self, handle: Handle, *, timeout: float = 30.0) -> api.CaseResult:
        """The case's result; the clock skips while we wait."""
        return await asyncio.wait_for(handle.result(), timeout)

    def latest(self, handle: Handle) -> Handle:
        """The handle of the case's current run (continue-as-new starts new runs)."""
        return self.env.client.get_workflow_handle(handle.id, result_type=api.CaseResult)

    async def status(self, handle: Handle) -> api.CaseStatus:
        """The status query of the case's current run, asked again when unanswered (a query
        waiting for a run that then continued as new is never answered), at most for
        RPC_TIMEOUT in all: then the last timeout is raised."""
        unanswered = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)
        attempts = round(RPC_TIMEOUT / QUERY_PATIENCE)
        for attempt in range(1, attempts + 1):
            try:
                return await self.latest(handle).query(
                    api.QUERY_STATUS,
                    result_type=api.CaseStatus,
                    rpc_timeout=timedelta(seconds=QUERY_PATIENCE),
                )
            except RPCError as exc:
                if exc.status not in unanswered or attempt == attempts:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def wait_status(
        self, handle: Handle, ready: Callable[[api.CaseStatus], bool], *, timeout: float = 15.0
    ) -> api.CaseStatus:
        """Poll the status query (the clock runs at wall speed) until `ready` holds."""
        async with asyncio.timeout(timeout):
            while not ready(status := await self.status(handle)):
                await asyncio.sleep(0.05)
        return status

    async def notice(self, kind: str, *, timeout: float = 10.0) -> StaffNotice:
        """The next unanswered notice of `kind` (others are skipped): the test answers it."""
        async with asyncio.timeout(timeout):
            while (notice := await self.staff.unanswered.get()).kind != kind:
                pass
        return notice

    async def events(self, case_id: str) -> list[Any]:
        """The case's business record in PostgreSQL, in order."""
        async with self.pool.acquire() as conn:
            return [s.event for s in await read_events(conn, case_id=case_id)]

    async def recorded(self, case_id: str, event_type: str, *, timeout: float = 3.0) -> bool:
        """Whether an event of `event_type` is recorded within `timeout` (wall) seconds."""
        try:
            async with asyncio.timeout(timeout):
                while event_type not in types(await self.events(case_id)):
                    await asyncio.sleep(0.05)
        except TimeoutError:
            return False
        return True

    async def run_ids(self, handle: Handle) -> list[str]:
        """Every run of the case, first to last, following continue-as-new in the histories."""
        runs = [handle.first_execution_run_id or handle.run_id or ""]
        while True:
            history = await self.env.client.get_workflow_handle(
                handle.id, run_id=runs[-1]
            ).fetch_history()
            last = history.events[-1]
            if not last.HasField("workflow_execution_continued_as_new_event_attributes"):
                return runs
            attrs = last.workflow_execution_continued_as_new_event_attributes
            runs.append(attrs.new_execution_run_id)

    async def task_failures(self, handle: Handle) -> list[str]:
        """Messages of failed workflow tasks in the current run (a bug, never a business
        outcome: the case is stuck until the code changes)."""
        history = await self.latest(handle).fetch_history()
        return [
            e.workflow_task_failed_event_attributes.failure.message
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        ]

    async def idle(self, handle: Handle) -> bool:
        """True when the run waits on a timer or a condition, with nothing in flight."""
        return await idle(self.latest(handle))

    async def close(self) -> None:
        """Terminate the cases still running, once idle: the test server keeps its clock
        locked for good for a workflow task or activity that a termination cut short (on the
        quarantine server that no longer matters)."""
        self.rounds.stop()
        # the rounds first, their cases still running (Rounds.close); a round that cannot end
        # (a test left an agency call held) is looked at again once the cases are ended
        with contextlib.suppress(TimeoutError):
            await self.rounds.close()
        for handle in self.handles:
            latest = self.latest(handle)
            # twice a workflow task's timeout: a task taken by a worker that was stopping (a
            # test's own `serve` ending) is handed out again only when it times out
            async with asyncio.timeout(2 * RPC_TIMEOUT):
                while (await latest.describe()).status == WorkflowExecutionStatus.RUNNING:
                    if self.cut_short_is_harmless or await self.idle(handle):
                        with contextlib.suppress(RPCError):  # it may have just completed
                            await latest.terminate(reason="test ended")
                    else:
                        await asyncio.sleep(0.02)
        await self.rounds.close()


@asynccontextmanager
async def rig(
    env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    *,
    quarantined: bool = False,
    workflows: Sequence[type] = (
        ApplicantWorkflow,
        EmployerPermitWorkflow,
        AllocationRoundWorkflow,
    ),
) -> AsyncIterator[Rig]:
    with on_the_test_clock():  # the server's clock, and the Replayer's, run past 2031
        r = Rig(env, pool, quarantined=quarantined)
        staff = asyncio.create_task(r.staff.run())
        try:
            async with build_worker(
                env.client,
                pool=pool,
                sim=r.sim,
                task_queue=r.task_queue,
                verifier=VERIFIER,
                feeds=FEEDS,
                workflows=workflows,
            ):
                try:
                    yield r
                finally:
                    # No staff answer may land between close's "idle?" and its termination:
                    # an answer starts activities, and one cut short holds the clock.
                    staff.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await staff
                    await r.close()
        finally:
            staff.cancel()
        if r.staff.error is not None:
            raise r.staff.error
        if not quarantined:
            await clock_still_skips(env, r.handles)
        await replays(env, r.handles, workflows)


@asynccontextmanager
async def own_rig(env: WorkflowEnvironment, pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    """A rig whose workers the test starts and stops itself (`serve`)."""
    r = Rig(env, pool)
    staff = asyncio.create_task(r.staff.run())
    try:
        yield r
    finally:
        # as `rig` does: no staff answer lands between close's "idle?" and its termination
        staff.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await staff
        # A case left running (a failed test) is ended with a worker serving it: a task that
        # no worker takes would keep the shared test server's clock from moving.
        async with serve(r):
            await r.close()
    if r.staff.error is not None:
        raise r.staff.error
    await clock_still_skips(env, r.handles)


def serve(r: Rig, *, cache: int = 2000) -> Worker:
    """A fresh worker on the rig's task queue, built as `rig()` builds its own."""
    return build_worker(
        r.env.client,
        pool=r.pool,
        sim=r.sim,
        task_queue=r.task_queue,
        max_cached_workflows=cache,
        verifier=VERIFIER,
        feeds=FEEDS,
    )


def replayer(*workflows: type) -> Replayer:
    """Today's workflow code, as CI replays histories with it."""
    return Replayer(
        workflows=list(workflows or [ApplicantWorkflow, EmployerPermitWorkflow]),
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )


async def all_runs(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of a case, first to last, following continue-as-new."""
    histories = [await client.get_workflow_handle(workflow_id).fetch_history()]
    # fetch_history() without a run id gives the latest run; walk back through the chain.
    while True:
        start = histories[0].events[0].workflow_execution_started_event_attributes
        run_id = start.continued_execution_run_id
        if not run_id:
            return histories
        histories.insert(
            0, await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        )


async def replays(
    env: WorkflowEnvironment, handles: list[Handle], workflows: Sequence[type] = ()
) -> None:
    """Every history a test produced replays against today's code, as the rig ran it (a
    non-determinism in any path a test drives fails that test)."""

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for handle in handles:
            for history in await all_runs(env.client, handle.id):
                yield history

    if handles:  # one Replayer (one sandbox) for all of them
        await replayer(*workflows).replay_workflows(histories())


async def clock_still_skips(env: WorkflowEnvironment, handles: list[Handle]) -> None:
    """Fail the test that leaves the test server's clock held (an activity outstanding when
    its workflow ended), rather than every test after it; the message says what each of the
    test's workflows still has in flight. (The dev server has no such clock.)"""
    if not env.supports_time_skipping:
        return
    try:
        await asyncio.wait_for(env.sleep(timedelta(days=1)), 10)
    except TimeoutError:
        servers.mark_held(env)  # the next test gets a fresh server
        raise AssertionError(
            "the time-skipping clock no longer skips after this test: something it ran is "
            "still holding it (an activity outstanding at a workflow's end?); its workflows: "
            + "; ".join([await in_flight(env, h) for h in handles])
        ) from None


async def in_flight(env: WorkflowEnvironment, handle: Handle) -> str:
    """One workflow's status and what it has in flight, for a failure message."""
    try:
        desc = await env.client.get_workflow_handle(handle.id).describe()
    except RPCError as exc:
        return f"{handle.id}: not described ({exc})"
    raw = desc.raw_description
    pending = [
        f"{a.activity_type.name} attempt {a.attempt} ({a.state})" for a in raw.pending_activities
    ]
    task = "a workflow task pending" if raw.HasField("pending_workflow_task") else "no task"
    status = desc.status.name if desc.status is not None else "unknown"
    # a run's end clears describe's pending list; its history still shows what was cut short
    try:
        runs = await all_runs(env.client, handle.id)
    except RPCError as exc:
        return f"{handle.id}: {status}, history not read ({exc})"
    unclosed = [f"run {i + 1}: {name}" for i, run in enumerate(runs) for name in open_calls(run)]
    last = runs[-1].events[-1].event_type if runs[-1].events else None
    return (
        f"{handle.id}: {status}, {task}, activities pending: {pending or 'none'}, "
        f"scheduled and never closed: {unclosed or 'none'}, {len(runs)} run(s), last event "
        f"{EventType.Name(last) if last is not None else 'none'}"
    )


_ACTIVITY_ENDS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}


def open_calls(history: WorkflowHistory) -> list[str]:
    """The activities a run scheduled that its history never closed (a run that ended with
    them outstanding: what keeps the test server's clock locked, sdk-java#1138)."""
    scheduled: dict[int, str] = {}
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = e.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[e.event_id] = name
        elif e.event_type in _ACTIVITY_ENDS:
            attrs = getattr(e, _ACTIVITY_ENDS[e.event_type])
            scheduled.pop(attrs.scheduled_event_id, None)
    return list(scheduled.values())


LOCAL_ACTIVITY_MARKER = "core_local_activity"


def failed_calls(history: WorkflowHistory) -> list[str]:
    """The failure type of every activity call of a run that failed, in order: an ordinary
    activity's ActivityTaskFailed, or a local activity's marker with a failure."""
    found = []
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            failure = e.activity_task_failed_event_attributes.failure
        elif (
            e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            and e.marker_recorded_event_attributes.HasField("failure")
        ):
            failure = e.marker_recorded_event_attributes.failure
        else:
            continue
        while not failure.HasField("application_failure_info") and failure.HasField("cause"):
            failure = failure.cause
        found.append(failure.application_failure_info.type)
    return found


def types(events: list[Any]) -> list[str]:
    return [e.type for e in events]


def of_type(events: list[Any], name: str) -> list[Any]:
    return [e for e in events if e.type == name]


def one(events: list[Any], name: str) -> Any:
    [event] = of_type(events, name)
    return event
