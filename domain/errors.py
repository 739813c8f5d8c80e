"""Domain errors: every refusal names the rule it enforces."""

from __future__ import annotations


class DomainError(Exception):
    """A command refused by the rules. `rule` is a stable identifier, `reason` is for people."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason


class WrongStageError(DomainError):
    """The command is not accepted in the case's current stage."""


class CaseClosedError(DomainError):
    """A closed case accepts nothing."""


class InvalidCommandError(DomainError):
    """The command's content breaks a rule (region outside quota, negative amount, ...)."""
