"""The demo's employers: their work-permit requests beside the applicants, one of each labour
path, and what the labour market and the registries will report of them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from temporalio.client import Client

from adapters.simulator import World, with_check_digit
from cli.demo_people import COUNTRIES, FIRST, LAST, Scenario
from domain.labour import EmployerRequest, Industry, Worker
from domain.regions import Region
from workflows import api, employer_api

# Employers' requests beside the applicants: one of each labour path, cycling.
LABOUR_SCENARIOS = (
    Scenario("labour_term", "labour", "term_completed"),
    Scenario("labour_no_shortage", "labour", "refused"),
    Scenario("labour_violation", "labour", "violation"),
    Scenario("labour_no_quota", "labour", "refused"),
    Scenario("labour_ended_early", "labour", "ended_early"),
)
# (industry, region, project, occupation) per scenario: a line with quota, except no_quota's.
LABOUR_POSTS: dict[str, tuple[Industry, Region, str | None, str]] = {
    "labour_term": ("oil_and_gas", "Atyrau", "tengiz-fgp", "process engineer"),
    "labour_no_shortage": ("construction", "Astana", None, "site foreman"),
    "labour_violation": ("mining", "Karaganda", None, "shaft electrician"),
    "labour_no_quota": ("it", "Almaty", None, "backend developer"),
    "labour_ended_early": ("agriculture", "Kostanay", None, "agronomist"),
}


@dataclass(frozen=True)
class DemoRequest:
    request_id: str
    scenario: Scenario
    request: EmployerRequest


def labour_cohort(n: int, *, seed: int, prefix: str = "demo") -> list[DemoRequest]:
    """`n` employers' requests cycling through every labour path, reproducible from `seed`."""
    rng = random.Random(seed ^ 0x1AB0)
    requests = []
    for i in range(n):
        sc = LABOUR_SCENARIOS[i % len(LABOUR_SCENARIOS)]
        industry, region, project, occupation = LABOUR_POSTS[sc.name]
        rid = f"{prefix}-{seed}-emp-{i + 1:03d}"
        worker = Worker(
            full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            born_on=date(rng.randint(1975, 2000), rng.randint(1, 12), rng.randint(1, 28)),
            citizenship=rng.choice(COUNTRIES),
            passport=with_check_digit(f"W{rng.randint(1000000, 9999999)}"),
        )
        request = EmployerRequest(
            employer_id=f"BIN-{prefix[-6:]}{i + 1:03d}",  # one employer per request
            employer_name=f"{region} {industry.replace('_', ' ').title()} LLP",
            industry=industry,
            region=region,
            project=project,
            occupation=occupation,
            vacancy_reference=f"ENB-{rid}",
            monthly_wage_tiyn=rng.randrange(800_000, 1_200_000, 10_000) * 100,
            months=3,
            worker=worker,
        )
        requests.append(DemoRequest(rid, sc, request))
    return requests


def plan_labour(world: World, scenarios: dict[str, str]) -> World:
    """What the labour market and the registries will report of the demo's requests."""
    for rid, name in scenarios.items():
        stream = employer_api.request_workflow_id(rid)
        shortage = 6 if name == "labour_no_shortage" else 45
        world.plan_vacancy(f"ENB-{rid}", days_on_market=shortage)
        if name == "labour_violation":
            world.plan_employment(stream, event="underpaid", after_days=20)
            world.plan_departure(stream, after_days=0)  # the worker leaves as ordered
        if name == "labour_ended_early":
            world.plan_employment(stream, event="ended", after_days=30)
    return world


async def request_permit(
    client: Client, demo_request: DemoRequest, *, seconds_per_year: float
) -> None:
    inp = employer_api.LabourInput(
        request_id=demo_request.request_id,
        request=demo_request.request,
        seconds_per_year=seconds_per_year,
    )
    r = demo_request.request
    await client.start_workflow(
        employer_api.WORKFLOW_NAME,
        inp,
        id=employer_api.request_workflow_id(inp.request_id),
        task_queue=api.TASK_QUEUE,
        static_summary=f"labour request {inp.request_id}: {r.industry} in {r.region}",
    )
