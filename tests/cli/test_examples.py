"""The files in examples/ are what the README tells people to submit: they must stay true."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from adapters.simulator import SimConfig, Simulator, mrz_check_digit
from domain.application import Application
from domain.decider import AUTHORITIES
from domain.labour import EmployerRequest, quota_line, request_problems, shortage_refusal
from domain.policy import policy_in_force, versions
from domain.policy_draft import read_draft
from domain.regions import LABOUR_DEFICIT_REGIONS
from domain.scoring import Gate, LanguageResult, score_case, score_questionnaire

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GOOD = ("kandas-family.json", "general-applicant.json")
ALL = (*GOOD, "fails-gate.json")
PASSED = LanguageResult(attempt=1, section_percent={"listening": 70, "reading": 70}, passed=True)


def load(name: str) -> Application:
    return Application.model_validate(json.loads((EXAMPLES / name).read_text()))


def questionnaire_points(app: Application, on: date) -> int:
    policy = policy_in_force(on)
    parts = score_questionnaire(app.questionnaire, born_on=app.born_on, on=on, policy=policy)
    return sum(c.points for c in parts)


def has_valid_check_digit(number: str) -> bool:
    return mrz_check_digit(number[:-1]) == int(number[-1])


async def authority_gates(app: Application) -> tuple[Gate, ...]:
    sim = Simulator(SimConfig(latency_ms=(0, 0)))
    replies = [
        (a, await sim.check(case_id="example", application=app, authority=a)) for a in AUTHORITIES
    ]
    return tuple(Gate(name=a, outcome=r.outcome, reason=r.reason) for a, r in replies)


EMPLOYERS = ("employer-request.json", "employer-no-quota.json")


DRAFTS = ("policy-draft.yaml",)


def test_examples_folder_holds_exactly_the_documented_files() -> None:
    assert {p.name for p in EXAMPLES.glob("*.json")} == {*ALL, *EMPLOYERS}
    assert {p.name for p in EXAMPLES.glob("*.yaml")} == set(DRAFTS)
    readme = (EXAMPLES / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in (*ALL, *EMPLOYERS, *DRAFTS))


def test_the_policy_draft_example_is_a_draft_kosh_takes() -> None:
    drafted = read_draft(yaml.safe_load((EXAMPLES / "policy-draft.yaml").read_text()), versions())
    assert (drafted.id, drafted.questionnaire.min_points) == ("2027.1", 450)
    assert drafted.starts_in("Pavlodar") < drafted.starts_in("Akmola")


def employer_request(name: str) -> EmployerRequest:
    return EmployerRequest.model_validate(json.loads((EXAMPLES / name).read_text()))


async def test_the_employer_examples_lead_where_the_readme_says() -> None:
    """The request finds a shortage in the demo's simulated labour market (seed 7) and a
    project line; the other finds no quota line at all."""
    today = date.today()
    labour = policy_in_force(today).labour
    good = employer_request("employer-request.json")
    sim = Simulator(SimConfig(seed=7, latency_ms=(0, 0)))
    vacancy = await sim.vacancy(
        reference=good.vacancy_reference,
        employer_id=good.employer_id,
        industry=good.industry,
        region=good.region,
        on=today,
    )
    assert shortage_refusal(good, vacancy, labour, today) is None
    assert request_problems(good, today) == []
    line = quota_line(
        labour, year=today.year, industry=good.industry, region=good.region, project=good.project
    )
    assert line is not None and line.places > 0
    none = employer_request("employer-no-quota.json")
    assert request_problems(none, today) == []
    assert (
        quota_line(
            labour, year=today.year, industry=none.industry, region=none.region, project=None
        )
        is None
    )
    for name in EMPLOYERS:
        passport = employer_request(name).worker.passport
        assert has_valid_check_digit(passport)


@pytest.mark.parametrize("name", ALL)
def test_each_example_is_a_valid_application(name: str) -> None:
    app = load(name)
    assert app.document.expires_on > date.today()


@pytest.mark.parametrize("name", GOOD)
def test_good_examples_clear_the_questionnaire_minimum_today(name: str) -> None:
    today = date.today()
    minimum = policy_in_force(today).questionnaire.min_points
    assert questionnaire_points(load(name), today) >= minimum


@pytest.mark.parametrize("name", GOOD)
def test_good_examples_carry_a_valid_check_digit(name: str) -> None:
    assert has_valid_check_digit(load(name).document.number)


@pytest.mark.parametrize("name", GOOD)
async def test_good_examples_pass_the_simulated_document_and_authority_checks(name: str) -> None:
    app = load(name)
    sim = Simulator(SimConfig(latency_ms=(0, 0)))
    verdict = await sim.verify(case_id="example", application=app)
    assert verdict.authentic, verdict.reasons
    assert all(g.outcome == "clear" for g in await authority_gates(app))


def test_kandas_example_is_a_family_of_four_bound_for_pavlodar_then_kostanay() -> None:
    app = load("kandas-family.json")
    assert (app.track, app.ethnic_kazakh) == ("kandas", True)
    assert sorted(m.relation for m in app.family) == ["child", "child", "spouse"]
    assert app.family_size == 4
    assert app.preferred_regions == ("Pavlodar", "Kostanay")
    assert set(app.preferred_regions) <= LABOUR_DEFICIT_REGIONS


def test_general_example_is_on_the_general_track() -> None:
    app = load("general-applicant.json")
    assert (app.track, app.ethnic_kazakh) == ("general", False)


async def test_fails_gate_example_is_rejected_by_the_deportation_check_alone() -> None:
    """Authentic passport and enough points: only the deportation on record refuses it."""
    app = load("fails-gate.json")
    today = date.today()
    policy = policy_in_force(today)
    sim = Simulator(SimConfig(latency_ms=(0, 0)))
    assert app.questionnaire.deported_before
    assert (await sim.verify(case_id="example", application=app)).authentic
    assert questionnaire_points(app, today) >= policy.questionnaire.min_points

    gates = await authority_gates(app)
    breakdown = score_case(
        policy=policy,
        questionnaire=score_questionnaire(
            app.questionnaire, born_on=app.born_on, on=today, policy=policy
        ),
        language=PASSED,
        authority_gates=gates,
        interview=None,  # a denied gate rejects without an interview
        submitted_at=datetime.now(UTC),
    )

    assert breakdown.decision == "reject"
    assert [g.name for g in breakdown.gates if g.outcome == "deny"] == ["deportation"]
    assert breakdown.reasons == ("deportation: deportation on record",)


def test_every_demo_applicant_passes_the_intake_desk() -> None:
    """A demo case refused at intake would close as refused_at_intake, not as its scenario."""
    from datetime import date

    from cli import demo
    from domain.application import intake_problems

    refused = {
        c.case_id: intake_problems(c.application, date.today())
        for c in demo.cohort(500, seed=7)
        if intake_problems(c.application, date.today())
    }
    assert refused == {}


def test_only_the_first_cycles_relocating_families_want_the_scarce_region() -> None:
    """Its rounds offer one place each: a family that also listed another region could be
    offered a place there in vain, and the last of the three not reached in enough rounds."""
    from cli import demo

    for seed in (7, 11, 2030):
        wanting = [
            c
            for c in demo.cohort(200, seed=seed)
            if demo.SCARCE_REGION in c.application.preferred_regions
        ]
        assert [c.scenario.name for c in wanting] == list(demo.SCARCE_SCENARIOS)
        assert all(c.application.preferred_regions == (demo.SCARCE_REGION,) for c in wanting)
