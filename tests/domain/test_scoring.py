"""Explainable scoring: components with reasons, gates apart, approve/reject/refer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.application import Questionnaire
from domain.policy import POLICY_2026_1
from domain.scoring import (
    Component,
    Gate,
    InterviewResult,
    LanguageResult,
    ScoreBreakdown,
    score_case,
    score_questionnaire,
)
from tests.domain.helpers import T0, questionnaire

QUESTIONNAIRE_FACTORS = {
    "age",
    "education",
    "kazakh",
    "russian",
    "english",
    "work_experience",
    "military_service",
    "health",
    "criminal_record",
    "deportations",
}
BORN = date(1996, 5, 10)
PASSED = LanguageResult(attempt=1, section_percent={"listening": 60, "reading": 45}, passed=True)
FAILED = LanguageResult(attempt=3, section_percent={"listening": 60, "reading": 10}, passed=False)
CLEAR = tuple(Gate(name=a, outcome="clear", reason="ok") for a in ("security", "criminal_record"))
GOOD_INTERVIEW = InterviewResult(passed=True, points=70)


def q_components(**over: object) -> tuple[Component, ...]:
    q = Questionnaire.model_validate(questionnaire(**over))
    return score_questionnaire(q, born_on=BORN, on=T0.date(), policy=POLICY_2026_1)


def case(
    *,
    components: tuple[Component, ...] | None = None,
    language: LanguageResult | None = PASSED,
    gates: tuple[Gate, ...] = CLEAR,
    interview: InterviewResult | None = GOOD_INTERVIEW,
) -> ScoreBreakdown:
    return score_case(
        policy=POLICY_2026_1,
        questionnaire=q_components() if components is None else components,
        language=language,
        authority_gates=gates,
        interview=interview,
        submitted_at=T0,
    )


def test_breakdown_has_every_questionnaire_factor_with_points_max_and_reason() -> None:
    components = q_components(military_service=True, work_years=3, english="ielts_7")
    assert {c.name for c in components} == QUESTIONNAIRE_FACTORS
    for c in components:
        assert c.reason, c.name
        assert c.points <= c.max_points, c.name
    by_name = {c.name: c for c in components}
    assert (by_name["age"].points, by_name["age"].reason) == (120, "age 29 on 2026-03-02")
    assert by_name["education"].points == 150
    assert by_name["work_experience"].points == 45
    assert by_name["work_experience"].reason == "3 years x 15"
    assert by_name["english"].points == 80
    assert by_name["military_service"].points == 30


@pytest.mark.parametrize(
    ("over", "name", "points"),
    [
        ({"work_years": 40}, "work_experience", 150),  # capped at max_work_points
        ({"criminal_record": True}, "criminal_record", -200),
        ({"deported_before": True}, "deportations", -200),
        ({"health_fit": True}, "health", 30),
        ({"kazakh": "none"}, "kazakh", 0),
    ],
)
def test_single_factor_points(over: dict[str, object], name: str, points: int) -> None:
    assert {c.name: c.points for c in q_components(**over)}[name] == points


def test_age_band_follows_the_birthday() -> None:
    q = Questionnaire.model_validate(questionnaire())
    before = score_questionnaire(q, born_on=BORN, on=date(2030, 5, 9), policy=POLICY_2026_1)
    after = score_questionnaire(q, born_on=BORN, on=date(2031, 5, 10), policy=POLICY_2026_1)
    assert before[0].points == 120 and before[0].reason == "age 33 on 2030-05-09"
    assert after[0].points == 100 and after[0].reason == "age 35 on 2031-05-10"


def test_full_breakdown_lists_components_and_gates_apart() -> None:
    b = case()
    names = [c.name for c in b.components]
    assert set(names) == QUESTIONNAIRE_FACTORS | {"language_test", "interview"}
    assert [g.name for g in b.gates] == [
        "language_test",
        "questionnaire_minimum",
        "security",
        "criminal_record",
        "interview",
    ]
    assert b.total == sum(c.points for c in b.components) == 450 + 50 + 70
    assert b.policy_id == "2026.1"
    assert b.submitted_at == T0


@pytest.mark.parametrize(
    ("kwargs", "decision", "reason"),
    [
        ({}, "approve", "all gates clear"),
        (
            {"gates": (*CLEAR, Gate(name="deportation", outcome="refer", reason="name match"))},
            "refer",
            "deportation: name match",
        ),
        (
            {"gates": (Gate(name="security", outcome="deny", reason="listed"),)},
            "reject",
            "security: listed",
        ),
        ({"language": FAILED}, "reject", "language_test: KAZTEST A1: below 30%"),
        ({"language": None, "interview": None}, "reject", "language_test: KAZTEST A1"),
        (
            {"components": q_components(education="none")},
            "reject",
            "questionnaire_minimum: questionnaire 300 points, minimum 400",
        ),
        (
            {"interview": InterviewResult(passed=False, points=90)},
            "reject",
            "interview: interview not passed",
        ),
        (
            {"interview": InterviewResult(passed=False, points=0, missed=True)},
            "reject",
            "interview: no interview held by the deadline",
        ),
    ],
    ids=[
        "approve",
        "refer",
        "authority-deny",
        "language-failed",
        "no-language-test",
        "questionnaire-low",
        "interview-failed",
        "interview-missed",
    ],
)
def test_decision(kwargs: dict[str, object], decision: str, reason: str) -> None:
    b = case(**kwargs)  # type: ignore[arg-type]
    assert b.decision == decision
    assert b.reasons[0].startswith(reason)


def test_deny_beats_refer() -> None:
    gates = (
        Gate(name="security", outcome="refer", reason="check"),
        Gate(name="deportation", outcome="deny", reason="deported"),
    )
    b = case(gates=gates)
    assert b.decision == "reject"
    assert b.reasons == ("deportation: deported",)


def test_questionnaire_exactly_at_minimum_clears() -> None:
    # age 120 + master 150 + intermediate Kazakh 80 + basic Russian 20 + health 30 = 400
    comps = q_components(kazakh="intermediate", russian="basic", health_fit=True)
    assert sum(c.points for c in comps) == 400
    gate = next(g for g in case(components=comps).gates if g.name == "questionnaire_minimum")
    assert gate.outcome == "clear"


def test_early_rejection_needs_no_interview_but_approval_does() -> None:
    b = case(components=q_components(education="none"), interview=None)
    assert b.decision == "reject"
    interview = next(c for c in b.components if c.name == "interview")
    assert (interview.points, interview.reason) == (0, "not held: an earlier gate failed")
    with pytest.raises(ValueError, match="needs the interview"):
        case(interview=None)


def test_interview_points_are_capped_at_the_policy_maximum() -> None:
    b = case(interview=InterviewResult(passed=True, points=500))
    interview = next(c for c in b.components if c.name == "interview")
    assert interview.points == interview.max_points == POLICY_2026_1.interview_max_points


def test_scoring_is_deterministic() -> None:
    assert case() == case()
    assert case().model_dump_json() == case().model_dump_json()
    assert q_components() == q_components()


def test_rank_key_orders_by_total_then_earlier_submission() -> None:
    high = case(interview=InterviewResult(passed=True, points=90))
    low_early = case(interview=InterviewResult(passed=True, points=10))
    tie_early = case()
    tie_late = tie_early.model_copy(update={"submitted_at": T0 + timedelta(minutes=1)})
    ranked = sorted([tie_late, low_early, tie_early, high], key=ScoreBreakdown.rank_key)
    assert ranked == [high, tie_early, tie_late, low_early]


def test_breakdown_round_trips_through_json() -> None:
    b = case()
    assert ScoreBreakdown.model_validate_json(b.model_dump_json()) == b
