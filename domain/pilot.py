"""The deadlines the public figures set before the permit: the scoring pilot's limit from
submission to the decision, and the local executive body's kandas status decision (working
days, a hearing after a preliminary refusal, one extension). domain/agenda.py shows them in
the status; the workflow asks these functions when to act, never computing a date itself."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from domain.calendar import add_working_days
from domain.case import CaseState, Stage
from domain.policy import Policy, policy_by_id

# From submission to the decision: a referral is decided by its officer.
PROCEDURE_STAGES: tuple[Stage, ...] = ("documents", "scoring", "decision", "referral")
FlagLevel = Literal["at_risk", "exceeded"]


def procedure_limit_on(state: CaseState) -> date | None:
    """The last day of the scoring pilot's limit while the case awaits its decision."""
    if state.stage not in PROCEDURE_STAGES or state.submitted_at is None:
        return None
    days = policy_by_id(state.policy_id).deadlines.procedure_limit_days
    return state.submitted_at.date() + timedelta(days=days)


def procedure_flag_on(state: CaseState) -> tuple[FlagLevel, date] | None:
    """The next flag the limit raises and the day it falls due: at risk some days before the
    last day, exceeded the day after it; None once both are raised or the case is decided."""
    limit = procedure_limit_on(state)
    if limit is None or "exceeded" in state.procedure_flags:
        return None
    if "at_risk" not in state.procedure_flags:
        warn = policy_by_id(state.policy_id).deadlines.procedure_at_risk_days
        return "at_risk", limit - timedelta(days=warn)
    return "exceeded", limit + timedelta(days=1)


def procedure_flag_due(state: CaseState, today: date) -> FlagLevel | None:
    """The flag to raise on `today` (exceeded, skipping at risk, when both fell due)."""
    limit = procedure_limit_on(state)
    nxt = procedure_flag_on(state)
    if limit is None or nxt is None:
        return None
    if today > limit:
        return "exceeded"
    return nxt[0] if today >= nxt[1] else None


def kandas_due(day: date, working_days: int, policy: Policy) -> date:
    """`working_days` working days after `day`, on the policy's calendar."""
    return add_working_days(day, working_days, policy.deadlines.holidays)


def kandas_decision_pending(state: CaseState) -> bool:
    """The local executive body has the request and has not decided it."""
    request = state.kandas_request
    return (
        state.stage == "relocation"
        and request is not None
        and request.refused is None
        and state.kandas_certificate is None
    )


def kandas_overdue(state: CaseState, today: date) -> bool:
    """The pending decision (or hearing) is past its due date and not yet flagged for it."""
    request = state.kandas_request
    if not kandas_decision_pending(state) or request is None:
        return False
    return today > request.due_on and request.due_on not in request.overdue_on


def kandas_next_look(state: CaseState, today: date) -> date | None:
    """When the case next asks the body for its decision: the day after the one it is due
    (a decision made on the due date is in time), and during an extension every
    `kandas_extension_look_days`; once flagged overdue, again each
    `kandas_overdue_recheck_working_days` working days."""
    request = state.kandas_request
    if not kandas_decision_pending(state) or request is None:
        return None
    policy = policy_by_id(state.policy_id)
    if request.due_on not in request.overdue_on:
        after_due = request.due_on + timedelta(days=1)
        extended_on = request.extended_on
        if extended_on is None or request.awaiting != "decision":
            return after_due
        # during an extension: every `kandas_extension_look_days` from the day it was made
        every = policy.deadlines.kandas_extension_look_days
        look = extended_on + timedelta(days=every * ((today - extended_on).days // every + 1))
        return min(look, after_due)
    return kandas_due(today, policy.deadlines.kandas_overdue_recheck_working_days, policy)
