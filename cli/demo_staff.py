"""The demo cohort's simulated staff: they answer the cases' notices (interviews, arrivals,
referrals) as members of the staff registry, signing each answer (cli/demo.py draws the
cohort; `kosh dev` runs them)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from adapters.assertions import EXPIRED, Issuer
from adapters.ports import StaffNotice
from adapters.simulator import Simulator
from workflows import api

log = structlog.get_logger("kosh.demo")


# The simulated staff of the demo cohort (`kosh dev` registers them in the staff registry).
DEMO_INTERVIEWER = "staff-demo-01"
DEMO_OFFICER = "officer-demo-01"


# An answer refused for good (the case is gone, the request is wrong); anything else (Temporal
# away, "Timeout expired", an update refused while the case's workflow task is retried after
# a worker died) is tried again.
FINAL = (
    RPCStatusCode.NOT_FOUND,
    RPCStatusCode.INVALID_ARGUMENT,
    RPCStatusCode.PERMISSION_DENIED,
    RPCStatusCode.UNAUTHENTICATED,
    RPCStatusCode.UNIMPLEMENTED,
)


class ProofExpired(Exception):
    """The case took the answer up after its assertion had expired (a loaded machine, a case
    whose worker was away): nothing was applied, so the same request is signed again."""


class SimulatedStaff:
    """Answers notices: interviews, arrivals, referrals; withdraws on request. (Repayments
    come from the treasury: the simulated world plans them.)"""

    def __init__(
        self, client: Client, sim: Simulator, scenarios: dict[str, str], *, issuer: Issuer
    ) -> None:
        self.client = client
        self.issuer = issuer  # `kosh dev` holds the console's keys: its staff sign as members
        self.sim = sim
        self.scenarios = scenarios
        self.rng = random.Random(1)
        self.actions = 0

    async def start_case(self, case_id: str) -> None:
        if self.scenarios.get(case_id) == "withdrawn":
            withdrawal = {"kind": "withdrawal", "reason": "family decided to stay"}
            await self._signal(case_id, api.SIGNAL_FACT, withdrawal, by=DEMO_OFFICER)

    async def run(self) -> None:
        """An office of several people: each notice is taken up at once, so one slow
        answer (a case whose worker just died) never holds up the others' deadlines."""
        busy: set[asyncio.Task[None]] = set()
        try:
            while True:
                notice = await self.sim.notices.get()
                task = asyncio.create_task(self._take_up(notice))
                busy.add(task)
                task.add_done_callback(busy.discard)
        finally:
            for task in busy:
                task.cancel()

    async def _take_up(self, notice: StaffNotice) -> None:
        try:
            await self.answer(notice)
        except Exception as exc:  # one case's trouble never stops the staff
            log.warning("staff_action_failed", case_id=notice.case_id, error=str(exc))

    async def answer(self, notice: StaffNotice, *, patience: float = 600.0) -> None:
        """Handle a notice; while the case cannot take the answer yet, try again each second
        for up to `patience` seconds, as a person at a desk would: Temporal away (a restart),
        a query or update that timed out or a case whose workflow task is being retried
        (its worker was just killed); and an answer the case took up only after its
        assertion had expired is signed again. Every action carries a request id, so one that
        got through before the error is not applied twice."""
        await self._persist(notice.case_id, lambda: self.handle(notice), patience=patience)

    async def _persist(
        self, case_id: str, act: Callable[[], Awaitable[None]], *, patience: float = 600.0
    ) -> None:
        deadline = asyncio.get_running_loop().time() + patience
        while True:
            try:
                await act()
                return
            except RPCError as exc:
                if exc.status in FINAL or asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(1.0)
            except ProofExpired as exc:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                log.info("staff_update_signed_again", case_id=case_id, reason=str(exc))

    async def handle(self, notice: StaffNotice) -> None:
        name = self.scenarios.get(notice.case_id)
        if name is None:
            return  # not a demo case: real staff answer it (`kosh interview`, ...)
        handle = self.client.get_workflow_handle(api.case_workflow_id(notice.case_id))
        if notice.kind in ("interview_due", "interview_reminder", "interview_escalated"):
            await self._update(
                handle,
                api.UPDATE_INTERVIEW,
                {
                    "passed": name != "interview_fail",
                    "points": self.rng.randint(55, 95),
                    "request_id": f"{notice.case_id}:interview",
                },
                by=DEMO_INTERVIEWER,
            )
        elif notice.kind == "arrival_due" and notice.case_id not in self.sim.world.registrations:
            status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
            await self._update(
                handle,
                api.UPDATE_FACT,
                {
                    "kind": "arrival",
                    "region": status.region,
                    "request_id": f"{notice.case_id}:arrival",
                },
                by=DEMO_OFFICER,
            )
        elif notice.kind in ("referral_due", "referral_overdue"):
            await self._update(
                handle,
                api.UPDATE_FACT,
                {
                    "kind": "referral",
                    "request_id": f"{notice.case_id}:referral",
                    "approve": True,
                    "reason": "record reviewed: no bar to residence",
                },
                by=DEMO_OFFICER,
            )

    def _signed(self, workflow_id: str, payload: dict[str, Any], by: str) -> dict[str, Any]:
        rid = payload.get("request_id") or f"{workflow_id}:{self.actions}"
        proof = self.issuer.issue(staff_id=by, workflow_id=workflow_id, request_id=rid)
        return {**payload, "request_id": rid, "assertion": proof}

    async def _update(self, handle: Any, name: str, payload: dict[str, Any], *, by: str) -> None:
        self.actions += 1
        sent = self._signed(handle.id, payload, by)
        try:
            result = await handle.execute_update(name, sent, result_type=api.UpdateResult)
        except WorkflowUpdateFailedError as exc:
            log.info("staff_update_refused", workflow_id=handle.id, reason=str(exc.cause))
            return
        if not result.accepted and result.rule == "unauthenticated" and EXPIRED in result.reason:
            raise ProofExpired(result.reason)
        if not result.accepted:
            log.info("staff_update_refused", workflow_id=handle.id, reason=result.reason)

    async def _signal(self, case_id: str, name: str, payload: dict[str, Any], *, by: str) -> None:
        self.actions += 1
        workflow_id = api.case_workflow_id(case_id)
        sent = self._signed(workflow_id, payload, by)
        await self.client.get_workflow_handle(workflow_id).signal(name, sent)
