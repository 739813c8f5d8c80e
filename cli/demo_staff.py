"""The demo cohort's simulated staff: a person at a desk who answers each case's notices
(interviews, arrivals, referrals), withdraws on request, and records what families under
contract apply for (cli/demo.py holds the cohort and its scenarios)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.answered_signals import NoAnswerYet, NotWaiting, send_and_wait
from adapters.assertions import EXPIRED, Issuer
from adapters.ports import StaffNotice
from adapters.simulator import Simulator
from cli.demo_life import citizenship_in_contract
from workflows import api

log = structlog.get_logger("kosh.demo")

# Families under contract who apply for the housing certificate; the fulfilled one's applicant
# is also employed and housed by an employer, who is paid its subsidy after two years.
CERTIFICATE = ("kandas_fulfilled", "kandas_breach_repaid")

# The simulated staff of the demo cohort (`kosh dev` registers them in the staff registry).
DEMO_INTERVIEWER = "staff-demo-01"
DEMO_OFFICER = "officer-demo-01"


# How long the staff wait for a case's answer before sending the input again.
ANSWER_PATIENCE = 30.0
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
        self.later: set[asyncio.Task[None]] = set()

    async def start_case(self, case_id: str) -> None:
        name = self.scenarios.get(case_id)
        handle = self.client.get_workflow_handle(api.case_workflow_id(case_id))
        if name == "withdrawn":
            self._later(self._persist(case_id, lambda: self._withdraw(handle)))
        if name == "kandas_citizenship":
            self._later(citizenship_in_contract(handle, self._as_officer))

    async def _withdraw(self, handle: Any) -> None:
        """The family withdraws once its case has recorded the application (an update sooner
        is refused: nothing to withdraw yet). An update, not a signal: one the case took up
        after its assertion expired (a loaded machine) is signed again, never lost."""
        status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
        while status.events == 0 and status.closed_reason is None:
            await asyncio.sleep(0.5)
            status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
        withdrawal = {
            "kind": "withdrawal",
            "reason": "family decided to stay",
            "request_id": f"{status.case_id}:withdrawal",
        }
        await self._send(handle, api.SIGNAL_FACT, withdrawal, by=DEMO_OFFICER)

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        async def kept() -> None:
            try:
                await work
            except Exception as exc:  # one case's trouble never stops the staff
                log.warning("staff_action_failed", error=str(exc))

        task = asyncio.create_task(kept())
        self.later.add(task)
        task.add_done_callback(self.later.discard)

    async def _as_officer(self, handle: Any, name: str, payload: dict[str, Any]) -> None:
        await self._send(handle, name, payload, by=DEMO_OFFICER)

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
            for task in (*busy, *self.later):
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
            await self._send(
                handle,
                api.SIGNAL_INTERVIEW,
                {
                    "passed": name != "interview_fail",
                    "points": self.rng.randint(55, 95),
                    "request_id": f"{notice.case_id}:interview",
                },
                by=DEMO_INTERVIEWER,
            )
        elif notice.kind == "arrival_due":
            if notice.case_id not in self.sim.world.registrations:
                status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
                await self._send(
                    handle,
                    api.SIGNAL_FACT,
                    {
                        "kind": "arrival",
                        "region": status.region,
                        "request_id": f"{notice.case_id}:arrival",
                    },
                    by=DEMO_OFFICER,
                )
            if name in CERTIFICATE:
                await self._support(handle, notice.case_id, employed=name == "kandas_fulfilled")
        elif notice.kind in ("referral_due", "referral_overdue"):
            await self._send(
                handle,
                api.SIGNAL_FACT,
                {
                    "kind": "referral",
                    "request_id": f"{notice.case_id}:referral",
                    "approve": True,
                    "reason": "record reviewed: no bar to residence",
                },
                by=DEMO_OFFICER,
            )

    async def _support(self, handle: Any, case_id: str, *, employed: bool) -> None:
        """Once the family is under contract: its housing certificate (a home in the region),
        and, when `employed`, the applicant's employment by an employer who houses them."""
        status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
        while status.stage == "relocation":  # the arrival is being recorded
            await asyncio.sleep(0.5)
            status = await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
        if status.stage != "monitoring":
            return
        rng = random.Random(case_id)  # the same family, the same home and employer each time
        price_tenge = rng.randrange(12_000_000, 20_000_000, 100_000)
        certificate = {
            "kind": "housing_certificate",
            "region": status.region,
            "amount_tiyn": price_tenge * 100,
            "reference": f"HC-{case_id}",
            "request_id": f"{case_id}:housing_certificate",
        }
        await self._send(handle, api.SIGNAL_FACT, certificate, by=DEMO_OFFICER)
        if employed:
            employment = {
                "kind": "employment",
                "member": 1,
                "employer_id": f"BIN-{rng.randrange(10**11, 10**12)}",
                "on": status.case_time.date().isoformat(),  # the case's last step: not ahead
                "housing_provided": True,
                "request_id": f"{case_id}:employment",
            }
            await self._send(handle, api.SIGNAL_FACT, employment, by=DEMO_OFFICER)

    def _signed(self, workflow_id: str, payload: dict[str, Any], by: str) -> dict[str, Any]:
        rid = payload.get("request_id") or f"{workflow_id}:{self.actions}"
        proof = self.issuer.issue(staff_id=by, workflow_id=workflow_id, request_id=rid)
        return {**payload, "request_id": rid, "assertion": proof}

    async def _send(self, handle: Any, name: str, payload: dict[str, Any], *, by: str) -> None:
        """Signal the input and wait for the case's answer (docs/decisions/023: no update)."""
        self.actions += 1
        sent = self._signed(handle.id, payload, by)
        try:
            result = await send_and_wait(
                self.client, handle.id, name, sent, query=api.QUERY_ANSWER, patience=ANSWER_PATIENCE
            )
        except NotWaiting as exc:
            log.info("staff_input_not_taken", workflow_id=handle.id, reason=str(exc))
            return
        except NoAnswerYet as exc:  # the case is busy, or its worker away: asked again
            raise RPCError(str(exc), RPCStatusCode.DEADLINE_EXCEEDED, b"") from None
        if not result.accepted and result.rule == "unauthenticated" and EXPIRED in result.reason:
            raise ProofExpired(result.reason)
        if not result.accepted:
            log.info("staff_input_refused", workflow_id=handle.id, reason=result.reason)
