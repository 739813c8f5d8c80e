"""A demo cohort: synthetic applicants whose data leads through the real rules to known ends,
and a simulated staff member who answers the case's notices like a person would."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import structlog
from temporalio.client import Client

from adapters.simulator import World, with_check_digit
from cli.demo_staff import DEMO_INTERVIEWER, DEMO_OFFICER, SimulatedStaff
from domain.application import Application, Document, FamilyMember, Questionnaire
from domain.labour import EmployerRequest, Industry, Worker
from domain.regions import LABOUR_DEFICIT_REGIONS, Region
from workflows import api, employer_api

log = structlog.get_logger("kosh.demo")
__all__ = ["DEMO_INTERVIEWER", "DEMO_OFFICER", "SimulatedStaff"]  # cli/demo_staff.py's


@dataclass(frozen=True)
class Scenario:
    name: str
    track: str
    expected: str


SCENARIOS = (
    Scenario("kandas_fulfilled", "kandas", "fulfilled"),
    Scenario("general_term", "general", "permit_term_ended"),
    Scenario("kandas_breach_repaid", "kandas", "breach_repaid"),
    Scenario("forged_documents", "general", "rejected"),
    Scenario("language_fail", "kandas", "rejected"),
    Scenario("general_departed", "general", "departed"),
    Scenario("kandas_breach_referred", "kandas", "breach_referred"),
    Scenario("interview_fail", "general", "rejected"),
    Scenario("low_score", "general", "rejected"),
    Scenario("withdrawn", "kandas", "withdrawn"),
)
FIRST = ("Aigerim", "Nurlan", "Dana", "Yerlan", "Saule", "Bolat", "Aruzhan", "Timur")
LABOUR_BOOK = "demo-labour.json"
LAST = ("Bekova", "Seitkali", "Omarov", "Zhaksylyk", "Tulegen", "Abenov")
COUNTRIES = ("MNG", "CHN", "UZB", "RUS", "TKM", "IRN", "TUR")


@dataclass(frozen=True)
class DemoCase:
    case_id: str
    scenario: Scenario
    application: Application


def cohort(n: int, *, seed: int, prefix: str = "demo") -> list[DemoCase]:
    """`n` applicants cycling through every scenario, reproducible from `seed`."""
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        sc = SCENARIOS[i % len(SCENARIOS)]
        cases.append(DemoCase(f"{prefix}-{seed}-{i + 1:04d}", sc, _application(sc, rng)))
    return cases


def _application(sc: Scenario, rng: random.Random) -> Application:
    kandas = sc.track == "kandas"
    body = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)) + str(
        rng.randint(100000, 999999)
    )
    number = with_check_digit(body)
    if sc.name == "forged_documents":
        number = body + str((int(number[-1]) + 3) % 10)
    regions = sorted(LABOUR_DEFICIT_REGIONS)
    preferred = tuple(rng.sample(regions, 2)) if kandas else ()
    low = sc.name == "low_score"
    # children of different ages: the intake refuses the same member listed twice
    family = tuple(
        FamilyMember(
            relation="child", full_name=f"{rng.choice(FIRST)} Jr", born_on=date(2013 + i, 5, 1)
        )
        for i in range(rng.randint(0, 2) if kandas else 0)
    )
    return Application(
        full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        born_on=date(rng.randint(1980, 1998), rng.randint(1, 12), rng.randint(1, 28)),
        citizenship=rng.choice(COUNTRIES),
        ethnic_kazakh=kandas or rng.random() < 0.3,
        track="kandas" if kandas else "general",
        document=Document(number=number, country="MNG", expires_on=date(2036, 1, 1)),
        questionnaire=Questionnaire(
            education="secondary" if low else rng.choice(("bachelor", "master")),
            kazakh="none" if sc.name == "language_fail" else rng.choice(("intermediate", "fluent")),
            russian="none" if low else rng.choice(("basic", "intermediate", "fluent")),
            work_years=1 if low else rng.randint(8, 15),
            military_service=not low and rng.random() < 0.5,
        ),
        family=family,
        preferred_regions=preferred,
    )


def plan_world(world: World, scenarios: dict[str, str]) -> World:
    """What will happen in these people's lives, as registries will later report it."""
    for case_id, name in scenarios.items():
        if name.startswith("kandas_breach"):
            world.plan_move(case_id, after_days=420, to_region="Almaty")
        if name == "kandas_breach_repaid":
            world.plan_repayment(case_id, parts=2)  # two transfers against the invoice
        if name.startswith("kandas") and name != "kandas_fulfilled":
            # the address registry reports these families' registration; staff record the rest
            world.plan_registration(case_id)
        if name == "general_departed":
            world.plan_departure(case_id, after_days=300)
            # the criminal-record office never answers: overdue -> referral -> an officer
            world.plan_silence(case_id, "criminal_record")
    return world


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


@dataclass
class DemoBook:
    """The demo cases of a state folder and their scenarios, kept across restarts so the
    simulated world and staff carry on with cases that were open when `kosh dev` stopped."""

    scenarios: dict[str, str]
    # Employers' requests (request id -> labour scenario), kept in demo-labour.json beside.
    labour: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> DemoBook:
        labour = path.with_name(LABOUR_BOOK)
        return cls(
            json.loads(path.read_text()) if path.exists() else {},
            json.loads(labour.read_text()) if labour.exists() else {},
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.scenarios, indent=1))
        path.with_name(LABOUR_BOOK).write_text(json.dumps(self.labour, indent=1))

    def add(self, cases: list[DemoCase], requests: Sequence[DemoRequest] = ()) -> None:
        self.scenarios.update({c.case_id: c.scenario.name for c in cases})
        self.labour.update({r.request_id: r.scenario.name for r in requests})

    def world(self) -> World:
        return plan_labour(plan_world(World(), self.scenarios), self.labour)


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


async def submit(
    client: Client, case: DemoCase, *, seconds_per_year: float, human_floor_seconds: float
) -> None:
    inp = api.CaseInput(
        case_id=case.case_id,
        application=case.application,
        seconds_per_year=seconds_per_year,
        human_floor_seconds=human_floor_seconds,
    )
    await client.start_workflow(
        api.WORKFLOW_NAME,
        inp,
        id=api.case_workflow_id(case.case_id),
        task_queue=api.TASK_QUEUE,
        static_summary=api.static_summary(inp),
        static_details=api.static_details(inp),
    )
    await asyncio.sleep(0)
