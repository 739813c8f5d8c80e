"""Explainable scoring: points per component, gates listed apart, a decision with reasons.

Gates (documents, language test, questionnaire minimum, competent-authority checks, the
interview) decide admissibility; points only rank admissible applicants. So more points can
never turn an approval into a rejection, and a failed gate always wins over any points.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime

from domain.application import Questionnaire, age_on
from domain.model import Model
from domain.policy import Policy
from domain.policy_parts import Band

GateOutcome = Literal["clear", "refer", "deny"]
Decision = Literal["approve", "reject", "refer"]


class Component(Model):
    name: str
    points: int
    max_points: int
    reason: str


class Gate(Model):
    name: str
    outcome: GateOutcome
    reason: str


class LanguageResult(Model):
    attempt: int
    section_percent: dict[str, int]
    passed: bool
    rules_broken: bool = False


class InterviewResult(Model):
    passed: bool
    points: int
    missed: bool = False


class ScoreBreakdown(Model):
    """Frozen at decision time together with the policy id that produced it."""

    policy_id: str
    components: tuple[Component, ...]
    gates: tuple[Gate, ...]
    total: int
    decision: Decision
    reasons: tuple[str, ...]
    submitted_at: AwareDatetime

    def rank_key(self) -> tuple[int, datetime]:
        """Higher total first; ties go to the earlier submission."""
        return (-self.total, self.submitted_at)


def _band(bands: tuple[Band, ...], value: int) -> int:
    return next((b.points for b in bands if b.low <= value <= b.high), 0)


def score_questionnaire(
    q: Questionnaire, *, born_on: date, on: date, policy: Policy
) -> tuple[Component, ...]:
    """Points per questionnaire factor, each with the reason a person can read."""
    r = policy.questionnaire
    age = age_on(born_on, on)
    work = min(q.work_years * r.points_per_work_year, r.max_work_points)
    best_age = max(b.points for b in r.age_bands)
    return (
        Component(
            name="age",
            points=_band(r.age_bands, age),
            max_points=best_age,
            reason=f"age {age} on {on.isoformat()}",
        ),
        Component(
            name="education",
            points=r.education[q.education],
            max_points=max(r.education.values()),
            reason=f"education: {q.education}",
        ),
        Component(
            name="kazakh",
            points=r.kazakh[q.kazakh],
            max_points=max(r.kazakh.values()),
            reason=f"Kazakh: {q.kazakh}",
        ),
        Component(
            name="russian",
            points=r.russian[q.russian],
            max_points=max(r.russian.values()),
            reason=f"Russian: {q.russian}",
        ),
        Component(
            name="english",
            points=r.english[q.english],
            max_points=max(r.english.values()),
            reason=f"English: {q.english}",
        ),
        Component(
            name="work_experience",
            points=work,
            max_points=r.max_work_points,
            reason=f"{q.work_years} years x {r.points_per_work_year}",
        ),
        Component(
            name="military_service",
            points=r.military_service_points if q.military_service else 0,
            max_points=r.military_service_points,
            reason="served" if q.military_service else "not served",
        ),
        Component(
            name="health",
            points=r.health_fit_points if q.health_fit else 0,
            max_points=r.health_fit_points,
            reason="fit" if q.health_fit else "not certified fit",
        ),
        Component(
            name="criminal_record",
            points=r.criminal_record_points if q.criminal_record else 0,
            max_points=0,
            reason="declared" if q.criminal_record else "none declared",
        ),
        Component(
            name="deportations",
            points=r.deportation_points if q.deported_before else 0,
            max_points=0,
            reason="declared" if q.deported_before else "none declared",
        ),
    )


def score_case(
    *,
    policy: Policy,
    questionnaire: tuple[Component, ...],
    language: LanguageResult | None,
    authority_gates: tuple[Gate, ...],
    interview: InterviewResult | None,
    submitted_at: datetime,
) -> ScoreBreakdown:
    """The decision with its full breakdown. Pure: same inputs, same breakdown."""
    q_points = sum(c.points for c in questionnaire)
    q_min = policy.questionnaire.min_points
    lang_ok = language is not None and language.passed
    lang_rules = policy.language
    gates = (
        Gate(
            name="language_test",
            outcome="clear" if lang_ok else "deny",
            reason=(
                f"KAZTEST {lang_rules.level} passed on attempt {language.attempt}"
                if language is not None and language.passed
                else f"KAZTEST {lang_rules.level}: attempt {language.attempt} ended for "
                "breaking the test's rules, no attempts left"
                if language is not None and language.rules_broken
                else f"KAZTEST {lang_rules.level}: below {lang_rules.min_section_percent}% "
                f"in a section after {language.attempt if language else 0} attempt(s)"
            ),
        ),
        Gate(
            name="questionnaire_minimum",
            outcome="clear" if q_points >= q_min else "deny",
            reason=f"questionnaire {q_points} points, minimum {q_min}",
        ),
        *authority_gates,
        *(() if interview is None else (_interview_gate(interview),)),
    )
    components = (
        *questionnaire,
        Component(
            name="language_test",
            points=lang_rules.points_if_passed if lang_ok else 0,
            max_points=lang_rules.points_if_passed,
            reason="passed" if lang_ok else "not passed",
        ),
        Component(
            name="interview",
            points=min(interview.points, policy.interview_max_points) if interview else 0,
            max_points=policy.interview_max_points,
            reason="staff assessment" if interview else "not held: an earlier gate failed",
        ),
    )
    if interview is None and not any(g.outcome == "deny" for g in gates):
        raise ValueError("an approval or referral needs the interview's result")
    denied = tuple(f"{g.name}: {g.reason}" for g in gates if g.outcome == "deny")
    referred = tuple(f"{g.name}: {g.reason}" for g in gates if g.outcome == "refer")
    decision: Decision = "reject" if denied else "refer" if referred else "approve"
    reasons = denied or referred or ("all gates clear",)
    return ScoreBreakdown(
        policy_id=policy.id,
        components=components,
        gates=gates,
        total=sum(c.points for c in components),
        decision=decision,
        reasons=reasons,
        submitted_at=submitted_at,
    )


def _interview_gate(interview: InterviewResult) -> Gate:
    if interview.missed:
        return Gate(name="interview", outcome="deny", reason="no interview held by the deadline")
    if interview.passed:
        return Gate(name="interview", outcome="clear", reason="interview passed")
    return Gate(name="interview", outcome="deny", reason="interview not passed")
