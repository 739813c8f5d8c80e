"""The simulated labour market and registries of an employment (the labour path's agencies),
mixed into Simulator: seeded records unless `World` plans a vacancy, an employment's event or
a worker's verdict."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Protocol

from adapters.ports import AuthorityReply
from domain.labour import EmploymentReport, VacancyRecord, Worker
from domain.regions import Region
from domain.scoring import GateOutcome


class _Plans(Protocol):
    vacancies: dict[str, tuple[int, bool, bool]]
    employments: dict[str, tuple[str, int]]
    verdicts: dict[tuple[str, str], tuple[GateOutcome, str]]


class LabourMarketSimulator:
    """The LabourAgencies port (its world, seeds and network are Simulator's)."""

    world: _Plans

    def _rng(self, *parts: object) -> random.Random:
        raise NotImplementedError

    async def _network(self, operation: str) -> None:
        raise NotImplementedError

    async def vacancy(
        self, *, reference: str, employer_id: str, industry: str, region: Region, on: date
    ) -> VacancyRecord | None:
        await self._network("labour:vacancy")
        rng = self._rng("vacancy", reference)
        days, hired, listed = self.world.vacancies.get(
            reference, (rng.randint(20, 90), rng.random() < 0.05, True)
        )
        if not listed:
            return None
        return VacancyRecord(
            reference=reference,
            employer_id=employer_id,
            industry=industry,  # type: ignore[arg-type]  # validated by the model
            region=region,
            posted_on=on - timedelta(days=days),
            local_candidates=rng.randint(0, 3),
            local_hired=hired,
            regional_average_wage_tiyn=self._average_wage(industry, region),
        )

    def _average_wage(self, industry: str, region: Region) -> int:
        """The statistics bureau's average monthly wage for the occupation group and region
        (seeded: 350,000 to 700,000 KZT)."""
        return self._rng("wage", industry, region).randrange(350_000, 700_000, 1_000) * 100

    async def employment(
        self, *, case_id: str, permit_from: date, offered_wage_tiyn: int, on: date
    ) -> EmploymentReport:
        await self._network("labour:employment")
        rng = self._rng("employment", case_id)
        registered: date | None = permit_from + timedelta(days=rng.randint(1, 6))
        wage, ended, notified = offered_wage_tiyn, None, None
        event, after = self.world.employments.get(case_id, ("", 0))
        happened_on = permit_from + timedelta(days=after)
        if event == "unregistered":
            registered = None
        if event == "underpaid" and on >= happened_on:  # below any region's average
            wage = min(offered_wage_tiyn // 2, 300_000_00)
        if event in ("ended", "ended_silently") and on >= happened_on:
            ended = happened_on
            notified = happened_on + timedelta(days=2) if event == "ended" else None
        if registered is not None and registered > on:
            registered = None
        return EmploymentReport(
            on=on,
            paid_monthly_wage_tiyn=wage if ended is None else 0,
            address_registered_on=registered,
            ended_on=ended,
            end_notified_on=notified,
        )

    async def screen_worker(
        self, *, case_id: str, worker: Worker, authority: str
    ) -> AuthorityReply:
        await self._network(f"authority:{authority}")
        planned = self.world.verdicts.get((case_id, authority))
        if planned is not None:
            return AuthorityReply(outcome=planned[0], reason=planned[1])
        return AuthorityReply(outcome="clear", reason="no findings")
