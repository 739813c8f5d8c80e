"""A labour request's input: a case officer's fact, parsed once into its typed model, and the
domain command it asks for, with the actor the staff registry must confirm."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.common import RawValue

from domain.labour import commands as c
from workflows.employer_api import SIGNAL_FACT, UPDATE_FACT, LabourFact
from workflows.inputs import Actor, InputRefusedError, decode, validated

NAMES = (SIGNAL_FACT, UPDATE_FACT)
KIND = "labour_fact"  # the name its refusals are listed under
OFFICER = ("case_officer",)


def parse(name: str, args: Sequence[RawValue]) -> LabourFact:
    """The fact a signal or update carries, or InputRefusedError naming the rule."""
    if name not in NAMES:
        raise InputRefusedError(
            "unknown_input", f"a labour request takes no input named {name[:100]!r}"
        )
    return validated(LabourFact, decode(args))


def command_for(fact: LabourFact) -> tuple[c.LabourCommand, Actor]:
    """The command a fact asks for, and who must be an active case officer to record it."""
    actor = Actor(fact.actor_id, OFFICER)
    if fact.kind == "violation":
        if not fact.violations:
            raise InputRefusedError("missing_field", "violations: name at least one")
        detail = fact.reason or "found by inspection"
        found = c.RecordViolation(violations=fact.violations, detail=detail, found_by=fact.actor_id)
        return found, actor
    if fact.on is None:
        raise InputRefusedError("missing_field", "on: the day the employment ended")
    ended = c.RecordEmploymentEnded(
        ended_on=fact.on, notified_on=fact.notified_on, recorded_by=fact.actor_id
    )
    return ended, actor
