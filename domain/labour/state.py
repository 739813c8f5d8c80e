"""A labour request's state: the fold of its events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pydantic import Field

from domain.labour.events import (
    EmployerLiabilityImposed,
    EmploymentEnded,
    LabourEvent,
    LabourPlaceReleased,
    LabourPlaceReserved,
    LabourRequestClosed,
    LabourRequestRefused,
    LabourRequestSubmitted,
    ObligationsReviewed,
    ShortageConfirmed,
    ViolationFound,
    WorkerCheckCompleted,
    WorkerLiabilityImposed,
    WorkPermitIssued,
)
from domain.labour.model import (
    EmployerRequest,
    GateOutcome,
    LabourCloseReason,
    LabourStage,
    Violation,
)
from domain.model import Model


class LabourState(Model):
    request_id: str | None = None
    request: EmployerRequest | None = None
    employer_key: str = ""  # the keyed id recorded with the request (empty: before the key)
    policy_id: str | None = None
    stage: LabourStage = "new"
    regional_average_wage_tiyn: int | None = None
    quota_year: int | None = None
    checks: dict[str, GateOutcome] = Field(default_factory=dict)
    permit_number: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    reviews: int = 0
    violations: tuple[Violation, ...] = ()
    fine_tiyn: int = 0
    quota_rights_suspended_until: date | None = None
    exit_by: date | None = None
    ended_on: date | None = None
    refused_rule: str | None = None
    closed_reason: LabourCloseReason | None = None
    closed_detail: str = ""

    @property
    def holds_place(self) -> bool:
        return self.quota_year is not None


def evolve_labour(state: LabourState, event: LabourEvent) -> LabourState:
    """The state after one event (a pure function: replaying the stream rebuilds it)."""
    u: dict[str, object]
    match event:
        case LabourRequestSubmitted():
            u = {
                "request_id": event.request_id,
                "request": event.request,
                "employer_key": event.employer_key,
                "policy_id": event.policy_id,
                "stage": "shortage",
            }
        case ShortageConfirmed():
            u = {"regional_average_wage_tiyn": event.regional_average_wage_tiyn, "stage": "quota"}
        case LabourRequestRefused():
            u = {"refused_rule": event.rule}
        case LabourPlaceReserved():
            u = {"quota_year": event.year, "stage": "checks"}
        case LabourPlaceReleased():
            u = {"quota_year": None}
        case WorkerCheckCompleted():
            u = {"checks": {**state.checks, event.authority: event.outcome}}
        case WorkPermitIssued():
            u = {
                "permit_number": event.number,
                "valid_from": event.valid_from,
                "valid_until": event.valid_until,
                "stage": "permit",
            }
        case ObligationsReviewed():
            u = {"reviews": state.reviews + 1}
        case EmploymentEnded():
            u = {"ended_on": event.ended_on}
        case ViolationFound():
            u = {"violations": tuple(dict.fromkeys((*state.violations, *event.violations)))}
        case EmployerLiabilityImposed():
            u = {
                "fine_tiyn": state.fine_tiyn + event.fine_tiyn,
                "quota_rights_suspended_until": event.quota_rights_suspended_until,
            }
        case WorkerLiabilityImposed():
            u = {"exit_by": event.exit_by}
        case LabourRequestClosed():
            u = {"stage": "closed", "closed_reason": event.reason, "closed_detail": event.detail}
        case _:  # pragma: no cover - the union is closed
            raise TypeError(f"unknown labour event {type(event).__name__}")
    return state.model_copy(update=u)


def fold_labour(events: Iterable[LabourEvent], state: LabourState | None = None) -> LabourState:
    state = state or LabourState()
    for event in events:
        state = evolve_labour(state, event)
    return state
