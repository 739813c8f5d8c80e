"""Where a case's scoring checks stand: complete, or failed before any interview."""

from __future__ import annotations

from domain import events as ev
from domain.case import CaseState
from domain.policy import policy_by_id

AUTHORITIES: tuple[ev.Authority, ...] = (
    "security",
    "criminal_record",
    "deportation",
    "citizenship_consent",  # the country of citizenship's written consent (the pilot's)
)


def checks_complete(state: CaseState) -> bool:
    """Language test settled, questionnaire scored, every authority answered."""
    policy = policy_by_id(state.policy_id)
    lang_done = any(r.passed for r in state.language) or (
        len(state.language) >= policy.language.max_attempts
    )
    answered = {g.name for g in state.authority}
    return lang_done and bool(state.questionnaire) and answered >= set(AUTHORITIES)


def early_rejection(state: CaseState) -> bool:
    """True when a gate already failed, so no interview is needed to reject."""
    policy = policy_by_id(state.policy_id)
    language_failed = (
        bool(state.language)
        and not any(r.passed for r in state.language)
        and (len(state.language) >= policy.language.max_attempts)
    )
    q_low = bool(state.questionnaire) and (
        sum(c.points for c in state.questionnaire) < policy.questionnaire.min_points
    )
    denied = any(g.outcome == "deny" for g in state.authority)
    return language_failed or q_low or denied
