"""The parts of a case's state that are records of their own: a request to an authority or
to the local executive body, a payment, an employment, a housing certificate
(domain/case.py folds them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from domain import events as ev
from domain.model import Model
from domain.regions import Region

Stage = Literal[
    "new",
    "documents",
    "scoring",
    "decision",
    "referral",
    "permit",
    "relocation",
    "monitoring",
    "repayment",
    "residence",
    "closed",
]


class AuthorityRequest(Model):
    name: str
    reference: str
    due_on: date


class KandasRequest(Model):
    """The request to the local executive body and where its decision stands."""

    reference: str
    requested_on: date
    due_on: date  # the decision (or the hearing) is due by this date
    awaiting: Literal["decision", "hearing"] = "decision"
    preliminary_refusal: str | None = None
    preliminary_refused_on: date | None = None
    heard_on: date | None = None
    extended_on: date | None = None
    extended_until: date | None = None
    extensions: int = 0
    overdue_on: tuple[date, ...] = ()  # each due date that passed without an answer
    refused: str | None = None


class Payment(Model):
    """One disbursement or repayment, as the status shows it."""

    kind: Literal["support", "repayment"]
    measure: str
    period: str
    amount_tiyn: int
    reference: str
    on: date


class Employment(Model):
    """A family member's employment with housing, for the employer's subsidy."""

    member: int
    employer_id: str
    started_on: date
    subsidy_due_on: date
    ended_on: date | None = None


class HousingCertificate(Model):
    reference: str
    amount_tiyn: int
    issued_on: date


class Candidacy(Model):
    """A kandas family waiting for a place: what every round ranks it by."""

    score: int
    submitted_at: datetime
    regions: tuple[Region, ...]
    lodged_on: date


KandasEvent = (
    ev.KandasStatusRequested
    | ev.KandasStatusPreliminarilyRefused
    | ev.KandasHearingHeld
    | ev.KandasDecisionExtended
    | ev.KandasDecisionOverdue
    | ev.KandasStatusRefused
)


def kandas_step(request: KandasRequest | None, event: KandasEvent) -> KandasRequest:
    """The request to the local executive body after one of its steps."""
    if isinstance(event, ev.KandasStatusRequested):
        return KandasRequest(
            reference=event.reference, requested_on=event.requested_on, due_on=event.due_on
        )
    assert request is not None
    match event:
        case ev.KandasStatusPreliminarilyRefused():
            changes: dict[str, object] = {
                "preliminary_refusal": event.reason,
                "preliminary_refused_on": event.refused_on,
                "due_on": event.hearing_by,
                "awaiting": "hearing",
            }
        case ev.KandasHearingHeld():
            # the final decision is due by the hearing's deadline (or at once after a late one)
            due = max(request.due_on, event.held_on)
            changes = {"heard_on": event.held_on, "due_on": due, "awaiting": "decision"}
        case ev.KandasDecisionExtended():
            changes = {
                "extended_on": event.extended_on,
                "extended_until": event.until,
                "extensions": request.extensions + 1,
                "due_on": event.until,
            }
        case ev.KandasDecisionOverdue():
            changes = {"overdue_on": (*request.overdue_on, event.due_on)}
        case ev.KandasStatusRefused():
            changes = {"refused": event.reason}
    return request.model_copy(update=changes)
