"""Staff input -> domain command, with refusals that name the field and the rule.

Signals arrive as raw JSON and are validated here, so a malformed one is refused with a
reason instead of being dropped by the SDK or failing the workflow task.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from domain import commands as cmd
from domain.errors import DomainError, InvalidCommandError
from workflows.api import AuthorityReplyInput, InterviewOutcome, StaffFact


class InputRefusedError(DomainError):
    """Staff input that is malformed: the rule is `invalid_input` or `missing_field`."""


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
            _need(fact, "approve", "officer_id", "reason")
            assert fact.approve is not None and fact.officer_id and fact.reason
            return cmd.ResolveReferral(
                officer_id=fact.officer_id, approve=fact.approve, reason=fact.reason
            )
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
