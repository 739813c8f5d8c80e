"""The simulated local executive body (akimat) that decides kandas status: seeded or planned
outcomes (adapters/simulator.py `World.plan_kandas`), each step dated in working days from the
request on the policy's calendar, so a look-up on any date answers the same."""

from __future__ import annotations

import hashlib
import random
from datetime import date
from typing import Protocol

from adapters.ports import KandasStep
from domain.application import Application
from domain.calendar import add_months, add_working_days
from domain.policy import policy_in_force

# How the local executive body answers a kandas status request (World.plan_kandas): granted
# on the day asked (unless planned or drawn otherwise); a preliminary refusal, the hearing,
# then granted or refused; one extension, then granted; granted two working days late; or
# two extensions (the second is refused by kosh).
KANDAS_OUTCOMES = (
    "granted",
    "hearing_granted",
    "hearing_refused",
    "extended",
    "late",
    "extended_twice",
)


class _Plans(Protocol):
    kandas: dict[str, str]


class _Rates(Protocol):
    @property
    def kandas_hearing_rate(self) -> float: ...
    @property
    def kandas_extension_rate(self) -> float: ...
    @property
    def kandas_late_rate(self) -> float: ...


class ExecutiveSimulator:
    """The LocalExecutive port, mixed into Simulator (its world, config, seeds and network)."""

    world: _Plans
    config: _Rates

    def _rng(self, *parts: object) -> random.Random:
        raise NotImplementedError

    async def _network(self, operation: str) -> None:
        raise NotImplementedError

    async def request_kandas_status(
        self, *, case_id: str, application: Application, requested_on: date, request_key: str
    ) -> str:
        await self._network("kandas")
        return "KR-" + hashlib.sha256(request_key.encode()).hexdigest()[:10].upper()

    async def kandas_decisions(
        self, *, case_id: str, reference: str, requested_on: date, on: date
    ) -> tuple[KandasStep, ...]:
        await self._network("kandas")
        return tuple(s for s in self.kandas_timeline(case_id, requested_on) if s.on <= on)

    @staticmethod
    def kandas_certificate(case_id: str) -> str:
        return "KS-" + hashlib.sha256(f"kandas:{case_id}".encode()).hexdigest()[:10].upper()

    def kandas_outcome(self, case_id: str) -> str:
        planned = self.world.kandas.get(case_id)
        if planned is not None:
            return planned
        draw, c = self._rng(case_id, "kandas").random(), self.config
        for outcome, rate in (
            ("hearing_granted", c.kandas_hearing_rate),
            ("extended", c.kandas_extension_rate),
            ("late", c.kandas_late_rate),
        ):
            if draw < rate:
                return outcome
            draw -= rate
        return "granted"

    def kandas_timeline(self, case_id: str, requested_on: date) -> tuple[KandasStep, ...]:
        """Every step the body will take on the request, dated in working days from it."""
        holidays = policy_in_force(requested_on).deadlines.holidays
        rng = self._rng(case_id, "kandas-days")

        def wd(day: date, n: int) -> date:
            return add_working_days(day, n, holidays)

        number = self.kandas_certificate(case_id)
        outcome = self.kandas_outcome(case_id)
        if outcome == "granted":  # at once: the cases of tests and demos keep their pace
            return (KandasStep(kind="granted", on=requested_on, certificate_number=number),)
        if outcome == "late":  # two working days after the three allowed
            return (KandasStep(kind="granted", on=wd(requested_on, 5), certificate_number=number),)
        if outcome.startswith("hearing"):
            refused_on = wd(requested_on, rng.randint(1, 2))
            heard = wd(refused_on, rng.randint(1, 2))
            reason = "kinship to the Kazakh nation not shown by the documents"
            final = (
                KandasStep(kind="granted", on=heard, certificate_number=number)
                if outcome == "hearing_granted"
                else KandasStep(kind="refused", on=heard, reason=reason + "; heard, upheld")
            )
            return (
                KandasStep(kind="preliminary_refusal", on=refused_on, reason=reason),
                KandasStep(kind="hearing", on=heard),
                final,
            )
        extended_on = wd(requested_on, 3)
        until = add_months(extended_on, 2)
        steps = [
            KandasStep(
                kind="extended", on=extended_on, until=until, reason="archive records requested"
            ),
        ]
        if outcome == "extended_twice":
            steps.append(
                KandasStep(
                    kind="extended", on=until, until=add_months(until, 2), reason="more records"
                )
            )
        granted_on = wd(extended_on + (until - extended_on) // 2, 1)
        steps.append(
            KandasStep(kind="granted", on=max(granted_on, steps[-1].on), certificate_number=number)
        )
        return tuple(steps)
