"""Staff input -> domain command, with refusals that name the field and the rule.

Signals arrive as raw JSON and are validated here, so a malformed one is refused with a
reason instead of being dropped by the SDK or failing the workflow task.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import ValidationError

from domain import commands as cmd
from domain.errors import DomainError, InvalidCommandError
from workflows.api import AuthorityReplyInput, InterviewOutcome, StaffFact


class InputRefusedError(DomainError):
    """Staff input that is malformed: the rule is `invalid_input` or `missing_field`."""


class Actor(NamedTuple):
    """Who sends an input, and the registry roles of which they must hold one."""

    staff_id: str
    roles: tuple[str, ...]


# Arrivals and repayments also come from agency feeds (the address registry, the treasury);
# every other fact is a case officer's.
FACT_ROLES: dict[str, tuple[str, ...]] = {
    "arrival": ("case_officer", "agency_feed"),
    "repayment": ("case_officer", "agency_feed"),
}
OFFICER = ("case_officer",)


def interview_actor(outcome: InterviewOutcome) -> Actor:
    return Actor(outcome.interviewer_id, ("interviewer",))


def fact_actor(fact: StaffFact) -> Actor:
    """Who records the fact (required: a fact without its actor is refused)."""
    _need(fact, "actor_id")
    assert fact.actor_id is not None
    if fact.officer_id is not None and fact.officer_id != fact.actor_id:
        raise InputRefusedError(
            "invalid_input",
            f"officer_id: {fact.officer_id} is not the actor ({fact.actor_id}); "
            "an officer records their own decision",
        )
    return Actor(fact.actor_id, FACT_ROLES.get(fact.kind, OFFICER))


def _validation_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(input)"
        parts.append(f"{field}: {err['msg']}")
    return "; ".join(parts)


def parse_interview(raw: Any) -> InterviewOutcome:
    try:
        return InterviewOutcome.model_validate(raw)
    except ValidationError as exc:
        raise InputRefusedError("invalid_input", _validation_reason(exc)) from exc


def parse_fact(raw: Any) -> StaffFact:
    try:
        return StaffFact.model_validate(raw)
    except ValidationError as exc:
        raise InputRefusedError("invalid_input", _validation_reason(exc)) from exc


def parse_authority_reply(raw: Any) -> AuthorityReplyInput:
    try:
        return AuthorityReplyInput.model_validate(raw)
    except ValidationError as exc:
        raise InputRefusedError("invalid_input", _validation_reason(exc)) from exc


def authority_command(reply: AuthorityReplyInput) -> cmd.RecordAuthorityCheck:
    return cmd.RecordAuthorityCheck(
        authority=reply.authority,
        outcome=reply.outcome,
        reason=reply.reason,
        reference=reply.reference,
    )


def interview_command(outcome: InterviewOutcome) -> cmd.RecordInterview:
    return cmd.RecordInterview(
        interviewer_id=outcome.interviewer_id,
        passed=outcome.passed,
        points=outcome.points,
        notes=outcome.notes,
    )


def _need(fact: StaffFact, *names: str) -> None:
    missing = [n for n in names if getattr(fact, n) is None]
    if missing:
        article = "an" if fact.kind[0] in "aeiou" else "a"
        needs = ", ".join(missing)
        raise InputRefusedError("missing_field", f"{article} {fact.kind} fact needs {needs}")


def fact_command(fact: StaffFact) -> cmd.Command:
    """The domain command a staff fact asks for."""
    match fact.kind:
        case "arrival":
            _need(fact, "region")
            assert fact.region is not None
            return cmd.RecordArrival(region=fact.region, arrived_on=fact.on)
        case "move":
            return cmd.RecordMove(new_region=fact.region, moved_on=fact.on)
        case "departure":
            return cmd.RecordDeparture(departed_on=fact.on, source="staff")
        case "repayment":
            _need(fact, "amount_tiyn", "reference")
            assert fact.amount_tiyn is not None and fact.reference is not None
            return cmd.RecordRepayment(amount_tiyn=fact.amount_tiyn, reference=fact.reference)
        case "referral":
            officer = fact.officer_id or fact.actor_id
            _need(fact, "approve", "officer_id" if fact.actor_id is None else "actor_id", "reason")
            assert fact.approve is not None and officer and fact.reason
            return cmd.ResolveReferral(officer_id=officer, approve=fact.approve, reason=fact.reason)
        case "withdrawal":
            return cmd.Withdraw(reason=fact.reason or "withdrawn by the applicant")
        case "death":
            return cmd.RecordDeath(died_on=fact.on)
        case "citizenship":
            return cmd.RecordCitizenship(granted_on=fact.on)
        case "revocation":
            _need(fact, "reason")
            assert fact.reason is not None
            return cmd.RevokePermit(reason=fact.reason)
    raise InvalidCommandError("unknown_fact", f"unknown fact kind {fact.kind!r}")
