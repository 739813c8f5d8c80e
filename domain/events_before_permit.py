"""The events of the steps before the permit that the public figures describe: the kandas
status decision by the local executive body and the scoring pilot's 29-day limit (part of
the union in domain/events.py)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from domain.event_base import EventBase


class KandasStatusRequested(EventBase):
    """The local executive body took the request; its decision is due by `due_on`."""

    type: Literal["KandasStatusRequested"] = "KandasStatusRequested"
    reference: str
    requested_on: date
    due_on: date


class KandasStatusPreliminarilyRefused(EventBase):
    """A preliminary refusal: the applicant is to be heard by `hearing_by`."""

    type: Literal["KandasStatusPreliminarilyRefused"] = "KandasStatusPreliminarilyRefused"
    reason: str
    refused_on: date
    hearing_by: date


class KandasHearingHeld(EventBase):
    type: Literal["KandasHearingHeld"] = "KandasHearingHeld"
    held_on: date
    late: bool


class KandasDecisionExtended(EventBase):
    """The body's one extension of its decision period, to `until`."""

    type: Literal["KandasDecisionExtended"] = "KandasDecisionExtended"
    extended_on: date
    until: date
    reason: str


class KandasDecisionOverdue(EventBase):
    """No decision (or no hearing) by `due_on`: staff are told, the body is asked again."""

    type: Literal["KandasDecisionOverdue"] = "KandasDecisionOverdue"
    due_on: date
    awaiting: Literal["decision", "hearing"]


class KandasStatusRefused(EventBase):
    """A final refusal after the hearing: the permit stands, on the general track without
    support (docs/decisions/016)."""

    type: Literal["KandasStatusRefused"] = "KandasStatusRefused"
    reason: str
    refused_on: date


class ProcedureLimitFlagged(EventBase):
    """The scoring pilot's limit from submission to the decision is near (`at_risk`) or
    passed (`exceeded`); staff are told."""

    type: Literal["ProcedureLimitFlagged"] = "ProcedureLimitFlagged"
    level: Literal["at_risk", "exceeded"]
    limit_on: date
