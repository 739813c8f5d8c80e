"""A labour request's input: a case officer's fact, parsed once into its typed model, and the
domain command it asks for once its sender is proved (workflows/handlers.py)."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.common import RawValue

from domain.labour import commands as c
from workflows.employer_api import SIGNAL_FACT, UPDATE_FACT, LabourFact
from workflows.inputs import InputRefusedError, decode, unproved, validated

NAMES = (SIGNAL_FACT, UPDATE_FACT)
KIND = "labour_fact"  # the name its refusals are listed under
OFFICER = ("case_officer",)


def parse(name: str, args: Sequence[RawValue]) -> LabourFact:
    """The fact a signal or update carries, or InputRefusedError naming the rule."""
    if name not in NAMES:
        raise InputRefusedError(
            "unknown_input", f"a labour request takes no input named {name[:100]!r}"
        )
    value = decode(args)
    unproved(value)
    return validated(LabourFact, value)


def command_for(fact: LabourFact, actor: str) -> c.LabourCommand:
    """The command a fact asks for, `actor` (a case officer, proved) recording it."""
    if fact.kind == "violation":
        if not fact.violations:
            raise InputRefusedError("missing_field", "violations: name at least one")
        detail = fact.reason or "found by inspection"
        return c.RecordViolation(violations=fact.violations, detail=detail, found_by=actor)
    if fact.on is None:
        raise InputRefusedError("missing_field", "on: the day the employment ended")
    return c.RecordEmploymentEnded(
        ended_on=fact.on, notified_on=fact.notified_on, recorded_by=actor
    )
