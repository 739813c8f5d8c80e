"""A demo cohort: synthetic applicants whose data leads through the real rules to known ends,
and a simulated staff member who answers the case's notices like a person would."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import structlog

from adapters.simulator import World, with_check_digit
from cli.demo_labour import (  # the employers beside the applicants (re-exported)
    LABOUR_POSTS,
    LABOUR_SCENARIOS,
    DemoRequest,
    labour_cohort,
    plan_labour,
    request_permit,
)
from cli.demo_people import COUNTRIES, FIRST, LAST, Scenario
from cli.demo_staff import DEMO_INTERVIEWER, DEMO_OFFICER, SimulatedStaff
from cli.demo_start import submit as submit
from cli.demo_world import LATE_MOVE_DAYS as LATE_MOVE_DAYS
from cli.demo_world import plan_world
from domain.application import Application, Document, FamilyMember, Questionnaire
from domain.regions import LABOUR_DEFICIT_REGIONS, Region

__all__ = [
    "LABOUR_POSTS",
    "LABOUR_SCENARIOS",
    "DemoRequest",
    "Scenario",
    "labour_cohort",
    "request_permit",
]
log = structlog.get_logger("kosh.demo")
__all__ = ["DEMO_INTERVIEWER", "DEMO_OFFICER", "SimulatedStaff"]  # cli/demo_staff.py's


SCENARIOS = (
    Scenario("kandas_fulfilled", "kandas", "fulfilled"),
    # permanent residence has no term (docs/decisions/019): it lives past five years, until
    # border control reports the departure
    Scenario("general_permanent", "general", "departed"),
    Scenario("kandas_breach_repaid", "kandas", "breach_repaid"),
    Scenario("forged_documents", "general", "rejected"),
    Scenario("language_fail", "kandas", "rejected"),
    Scenario("general_departed", "general", "departed"),
    Scenario("kandas_breach_referred", "kandas", "breach_referred"),
    Scenario("interview_fail", "general", "rejected"),
    Scenario("low_score", "general", "rejected"),
    Scenario("withdrawn", "kandas", "withdrawn"),
    # citizenship in contract month 25: the contract runs on to its end (docs/decisions/012)
    Scenario("kandas_citizenship", "kandas", "fulfilled"),
    # a move in contract month 59 that only the address registry reports: found at the last
    # periodic check, re-checked after the contract's end, all support repaid (decision 011)
    Scenario("kandas_late_move", "kandas", "breach_repaid"),
    # the steps before the permit (a cohort of more than twelve reaches them)
    Scenario("kandas_hearing", "kandas", "fulfilled"),
    Scenario("kandas_status_refused", "kandas", "departed"),
    Scenario("kaztest_banned", "general", "departed"),
    Scenario("consent_refused", "general", "rejected"),
)
# The demo's scarce region: its rounds offer one place each (`kosh dev` sets the schedules'
# size); the first cycle's relocating kandas families want it alone, so a round ranks them
# and one is not reached (`kosh quotas`), then placed in a later round (three families,
# fewer than the policy's rounds: none runs out of rounds).
SCARCE_REGION: Region = "West Kazakhstan"
DEMO_ROUND_SIZES: dict[Region, int] = {SCARCE_REGION: 1}
SCARCE_SCENARIOS = ("kandas_fulfilled", "kandas_breach_repaid", "kandas_breach_referred")
LABOUR_BOOK = "demo-labour.json"


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
        app = _application(sc, rng, scarce=i < len(SCENARIOS))
        cases.append(DemoCase(f"{prefix}-{seed}-{i + 1:04d}", sc, app))
    return cases


def _application(sc: Scenario, rng: random.Random, *, scarce: bool) -> Application:
    kandas = sc.track == "kandas"
    body = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)) + str(
        rng.randint(100000, 999999)
    )
    number = with_check_digit(body)
    if sc.name == "forged_documents":
        number = body + str((int(number[-1]) + 3) % 10)
    # The other families never list the scarce region: a family placed elsewhere meanwhile
    # would be offered one of its rounds' single places in vain, and the family left at the
    # back, not reached in enough rounds, would take the general track, off its scenario.
    regions = sorted(r for r in LABOUR_DEFICIT_REGIONS if r != SCARCE_REGION)
    preferred = tuple(rng.sample(regions, 2)) if kandas else ()
    if scarce and sc.name in SCARCE_SCENARIOS:  # the first cycle's: fewer than the rounds
        preferred = (SCARCE_REGION,)
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
