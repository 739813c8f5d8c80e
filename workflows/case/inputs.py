"""A case's input: each signal or update parsed once into a typed input, the roles its
sender must hold, and the domain command it asks for once its sender is proved.

Interviews come from interviewers, facts from case officers (arrivals and repayments also
from the agency feeds), each proved by an assertion (workflows/handlers.py); authority
replies come from the reply bridge, bound to their request by the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.common import RawValue

from domain import commands as cmd
from domain.errors import InvalidCommandError
from workflows.allocation_api import SIGNAL_ALLOCATION
from workflows.api import (
    SIGNAL_AUTHORITY,
    SIGNAL_FACT,
    SIGNAL_INTERVIEW,
    UPDATE_FACT,
    UPDATE_INTERVIEW,
    AllocationWord,
    AuthorityReplyInput,
    InterviewOutcome,
    StaffFact,
)
from workflows.inputs import Input, InputRefusedError, decode, unproved, validated

# Arrivals and repayments also come from agency feeds (the address registry, the treasury);
# every other fact is a case officer's: an employment for the employer's subsidy too (the
# officer checks the employer's labour contract and housing document: no registry kosh asks
# holds the housing) and the housing certificate (the local executive body's decision on the
# family's application): docs/decisions/018.
FACT_ROLES: dict[str, tuple[str, ...]] = {
    "arrival": ("case_officer", "agency_feed"),
    "repayment": ("case_officer", "agency_feed"),
}
OFFICER = ("case_officer",)
# The input each signal and update name carries; the name under which a refusal is listed.
KINDS: dict[
    str, tuple[str, type[InterviewOutcome | StaffFact | AuthorityReplyInput | AllocationWord]]
] = {
    SIGNAL_INTERVIEW: ("interview", InterviewOutcome),
    UPDATE_INTERVIEW: ("interview", InterviewOutcome),
    SIGNAL_FACT: ("fact", StaffFact),
    UPDATE_FACT: ("fact", StaffFact),
    SIGNAL_AUTHORITY: ("authority", AuthorityReplyInput),
    SIGNAL_ALLOCATION: ("allocation", AllocationWord),
}
UPDATES = (UPDATE_INTERVIEW, UPDATE_FACT)
# Not a member's input: bound to its request (an authority's reference) or to the record
# (an allocation round's word is read from the round's stream), not to an assertion.
UNPROVED = ("authority", "allocation")


def kind_of(name: str) -> str:
    """The name a refusal is listed under: the input's kind, or the unknown name itself."""
    return KINDS[name][0] if name in KINDS else name[:100]


def parse(name: str, args: Sequence[RawValue]) -> Input:
    """The typed input a signal or update carries, or InputRefusedError naming the rule."""
    if name not in KINDS:
        raise InputRefusedError("unknown_input", f"a case takes no input named {name[:100]!r}")
    return parse_value(name, decode(args))


def parse_value(name: str, value: Any) -> Input:
    """`parse` for a value already decoded: a staff input without an assertion is refused as
    unauthenticated before its shape is looked at (whatever it says of its sender)."""
    kind, model = KINDS[name]
    if kind not in UNPROVED:
        unproved(value)
    return Input(kind, validated(model, value))


def roles_for(item: Input) -> tuple[str, ...] | None:
    """The registry roles of which the sender must hold one (None: an authority's reply,
    bound to its request by the reference the authority gave, not a member's input)."""
    value = item.value
    if isinstance(value, InterviewOutcome):
        return ("interviewer",)
    if isinstance(value, StaffFact):
        return FACT_ROLES.get(value.kind, OFFICER)
    return None  # an authority's reply, an allocation round's word


def command_for(item: Input, actor: str) -> cmd.Command:
    """The command an input asks for, `actor` being who sent it (proved by the caller)."""
    value = item.value
    if isinstance(value, InterviewOutcome):
        return interview_command(value, actor)
    if isinstance(value, AuthorityReplyInput):
        return authority_command(value)
    if isinstance(value, AllocationWord):
        # taken from the round's record by the case (workflows/case/core.py), never from here
        raise InvalidCommandError(
            "allocation_from_record", "a round's word is read from its record"
        )
    return fact_command(value, actor)


def authority_command(reply: AuthorityReplyInput) -> cmd.RecordAuthorityCheck:
    return cmd.RecordAuthorityCheck(
        authority=reply.authority,
        outcome=reply.outcome,
        reason=reply.reason,
        reference=reply.reference,
    )


def interview_command(outcome: InterviewOutcome, interviewer: str) -> cmd.RecordInterview:
    return cmd.RecordInterview(
        interviewer_id=interviewer,
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


def fact_command(fact: StaffFact, actor: str) -> cmd.Command:
    """The domain command a staff fact asks for, `actor` recording it."""
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
            _need(fact, "approve", "reason")
            assert fact.approve is not None and fact.reason
            return cmd.ResolveReferral(officer_id=actor, approve=fact.approve, reason=fact.reason)
        case "withdrawal":
            return cmd.Withdraw(reason=fact.reason or "withdrawn by the applicant")
        case "death":
            return cmd.RecordDeath(died_on=fact.on)
        case "citizenship":
            return cmd.RecordCitizenship(granted_on=fact.on)
        case "general_track":
            return cmd.ChooseGeneralTrack(
                reason=fact.reason or "the family chose the general track"
            )
        case "revocation":
            _need(fact, "reason", "fault")
            assert fact.reason is not None and fact.fault is not None
            return cmd.RevokePermit(reason=fact.reason, fault=fact.fault)
        case "employment":
            _need(fact, "member", "employer_id", "on", "housing_provided")
            assert fact.member and fact.employer_id and fact.on
            assert fact.housing_provided is not None
            return cmd.RecordEmployment(
                member=fact.member,
                employer_id=fact.employer_id,
                started_on=fact.on,
                housing_provided=fact.housing_provided,
            )
        case "employment_end":
            _need(fact, "member")
            assert fact.member is not None
            return cmd.EndEmployment(member=fact.member, ended_on=fact.on)
        case "housing_certificate":
            _need(fact, "region", "amount_tiyn", "reference")
            assert fact.region and fact.amount_tiyn and fact.reference
            return cmd.IssueHousingCertificate(
                reference=fact.reference, region=fact.region, price_tiyn=fact.amount_tiyn
            )
    raise InvalidCommandError("unknown_fact", f"unknown fact kind {fact.kind!r}")
