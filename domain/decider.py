"""The case decider: `decide(state, command, now=...) -> events`, refusing what breaks a rule.

Every invariant of the policy is enforced here, never in a workflow: no support before the
social contract, no payment after a breach or closure, repayment = paid - repaid, the
contract's last day, quota regions, and a closed case accepts nothing but its exit check.
The decisions are written one class per phase of the case, in domain/decisions/.
"""

from __future__ import annotations

from datetime import datetime

from domain import commands as cmd
from domain import events as ev
from domain.case import CaseState
from domain.checks import AUTHORITIES, checks_complete, early_rejection
from domain.decisions.contract import clawback
from domain.decisions.exit import Exit
from domain.decisions.kandas import KandasStatus
from domain.decisions.procedure import Procedure
from domain.decisions.relocation import Relocation
from domain.decisions.residence import Residence
from domain.decisions.scoring import Scoring
from domain.decisions.support import Support
from domain.errors import CaseClosedError, InvalidCommandError, WrongStageError
from domain.policy import Policy, UnknownPolicyError, policy_by_id, policy_in_force

__all__ = ["AUTHORITIES", "checks_complete", "clawback", "decide", "early_rejection"]


class _Decision(Scoring, Procedure, KandasStatus, Relocation, Exit, Support, Residence):
    """Every command's decision (Exit brings Contract); methods are named after the command."""


def decide(
    state: CaseState, command: cmd.Command, *, now: datetime, policy: Policy | None = None
) -> list[ev.Event]:
    """Events that carry out `command` on `state` at case time `now`, or a DomainError.

    The case is decided under its own policy version (`policy` overrides it: a draft's
    impact, or a test of a changed figure)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if state.is_closed and not isinstance(command, cmd.RecordExitCheck):
        # a closed case takes one fact more: border control's answer about its exit
        raise CaseClosedError("case_closed", f"case is closed ({state.closed_reason})")
    if isinstance(command, cmd.SubmitApplication):
        return _submit(state, command, now, policy)
    if state.stage == "new":
        raise WrongStageError("no_application", "the case has no application yet")
    d = _Decision(state, policy or policy_by_id(state.policy_id), now)
    handler = getattr(d, type(command).__name__, None)
    if handler is None or type(command).__name__.startswith("_"):
        raise InvalidCommandError("unknown_command", f"a case does not {type(command).__name__}")
    result: list[ev.Event] = handler(command)
    return result


def _submit(
    state: CaseState, c: cmd.SubmitApplication, now: datetime, policy: Policy | None
) -> list[ev.Event]:
    if state.stage != "new":
        raise WrongStageError("already_submitted", "the application was already submitted")
    try:
        policy = policy or (
            policy_by_id(c.policy_id) if c.policy_id else policy_in_force(now.date())
        )
    except UnknownPolicyError as exc:
        raise InvalidCommandError("no_policy_in_force", str(exc)) from exc
    return [
        ev.ApplicationSubmitted(
            policy_id=policy.id, at=now, case_id=c.case_id, application=c.application
        )
    ]
