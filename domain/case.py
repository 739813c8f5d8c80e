"""The case's state, and how each event changes it. State is the fold of the events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

from domain import events as ev
from domain.application import Application, Track
from domain.model import Model
from domain.regions import Region
from domain.scoring import Component, Gate, InterviewResult, LanguageResult, ScoreBreakdown

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


class Payment(Model):
    """One disbursement or repayment, as the status shows it."""

    kind: Literal["support", "repayment"]
    measure: str
    period: str
    amount_tiyn: int
    reference: str
    on: date


class CaseState(Model):
    case_id: str = ""
    policy_id: str = ""
    stage: Stage = "new"
    track: Track | None = None
    application: Application | None = None
    submitted_at: datetime | None = None
    language: tuple[LanguageResult, ...] = ()
    questionnaire: tuple[Component, ...] = ()
    authority: tuple[Gate, ...] = ()
    authority_requests: tuple[AuthorityRequest, ...] = ()
    authority_overdue: tuple[str, ...] = ()
    interview: InterviewResult | None = None
    interview_missed: bool = False
    interview_escalated_until: date | None = None
    breakdown: ScoreBreakdown | None = None
    permit_number: str | None = None
    permit_issued_on: date | None = None
    permit_valid_until: date | None = None
    kandas_certificate: str | None = None
    region: Region | None = None
    quota_year: int | None = None
    regions_refused: tuple[Region, ...] = ()
    arrived_on: date | None = None
    contract_starts_on: date | None = None
    contract_ends_on: date | None = None
    paid_keys: frozenset[str] = frozenset()
    paid_tiyn: int = 0
    payments: tuple[Payment, ...] = ()
    residence_checks: int = 0
    last_checked_on: date | None = None
    discrepancy_confirm_on: date | None = None
    left_on: date | None = None
    demanded_tiyn: int = 0
    repaid_tiyn: int = 0
    repayment_refs: frozenset[str] = frozenset()
    repayment_due_on: date | None = None
    repayment_invoice: str | None = None
    rescreenings: int = 0
    closed_reason: ev.CloseReason | None = None
    closed_detail: str = ""

    @property
    def outstanding_tiyn(self) -> int:
        """Repayment still owed: demanded minus repaid, never negative."""
        return max(self.demanded_tiyn - self.repaid_tiyn, 0)

    def authority_request(self, name: str) -> AuthorityRequest | None:
        return next((r for r in self.authority_requests if r.name == name), None)

    def authority_gate(self, name: str) -> Gate | None:
        return next((g for g in self.authority if g.name == name), None)

    @property
    def is_closed(self) -> bool:
        return self.stage == "closed"


def evolve(state: CaseState, event: ev.Event) -> CaseState:
    """Apply one event. Never refuses: events are facts already decided."""
    u = state.model_copy
    match event:
        case ev.ApplicationSubmitted():
            return u(
                update={
                    "case_id": event.case_id,
                    "policy_id": event.policy_id,
                    "stage": "documents",
                    "track": event.application.track,
                    "application": event.application,
                    "submitted_at": event.at,
                }
            )
        case ev.DocumentsVerified():
            return u(update={"stage": "scoring"})
        case ev.DocumentsRejected():
            return state
        case ev.LanguageTestScored():
            result = LanguageResult(
                attempt=event.attempt, section_percent=event.section_percent, passed=event.passed
            )
            return u(update={"language": (*state.language, result)})
        case ev.QuestionnaireScored():
            return u(update={"questionnaire": event.components})
        case ev.AuthorityCheckRequested():
            request = AuthorityRequest(
                name=event.authority, reference=event.reference, due_on=event.due_on
            )
            return u(update={"authority_requests": (*state.authority_requests, request)})
        case ev.SecurityCheckCompleted():
            # A reply that arrives after the deadline replaces the overdue referral gate.
            gate = Gate(name=event.authority, outcome=event.outcome, reason=event.reason)
            others = tuple(g for g in state.authority if g.name != event.authority)
            overdue = tuple(a for a in state.authority_overdue if a != event.authority)
            return u(update={"authority": (*others, gate), "authority_overdue": overdue})
        case ev.AuthorityCheckOverdue():
            gate = Gate(
                name=event.authority,
                outcome="refer",
                reason=f"no reply by {event.due_on.isoformat()}",
            )
            return u(
                update={
                    "authority": (*state.authority, gate),
                    "authority_overdue": (*state.authority_overdue, event.authority),
                }
            )
        case ev.InterviewEscalated():
            return u(update={"interview_escalated_until": event.until})
        case ev.InterviewRecorded():
            return u(
                update={
                    "interview": InterviewResult(passed=event.passed, points=event.points),
                    "stage": "decision",
                }
            )
        case ev.InterviewMissed():
            return u(
                update={
                    "interview_missed": True,
                    "interview": InterviewResult(passed=False, points=0, missed=True),
                    "stage": "decision",
                }
            )
        case ev.ScoreComputed():
            after: dict[str, Stage] = {
                "approve": "permit",
                "refer": "referral",
                "reject": "decision",
            }
            return u(
                update={"breakdown": event.breakdown, "stage": after[event.breakdown.decision]}
            )
        case ev.ReferralResolved():
            return u(update={"stage": "permit" if event.approve else "referral"})
        case ev.PermitIssued():
            nxt: Stage = "relocation" if state.track == "kandas" else "residence"
            return u(
                update={
                    "permit_number": event.permit_number,
                    "permit_issued_on": event.at.date(),
                    "permit_valid_until": event.valid_until,
                    "stage": nxt,
                }
            )
        case ev.KandasStatusGranted():
            return u(update={"kandas_certificate": event.certificate_number})
        case ev.QuotaPlaceReserved():
            return u(update={"region": event.region, "quota_year": event.year})
        case ev.QuotaPlaceReleased():
            return u(update={"region": None, "quota_year": None})
        case ev.KandasSupportUnavailable():
            return u(
                update={
                    "track": "general",
                    "stage": "residence",
                    "regions_refused": event.regions_tried,
                }
            )
        case ev.RelocationArrived():
            return u(update={"arrived_on": event.arrived_on})
        case ev.SocialContractSigned():
            return u(
                update={
                    "contract_starts_on": event.starts_on,
                    "contract_ends_on": event.ends_on,
                    "stage": "monitoring",
                }
            )
        case ev.SupportPaid():
            return u(
                update={
                    "paid_keys": state.paid_keys | {event.idempotency_key},
                    "paid_tiyn": state.paid_tiyn + event.amount_tiyn,
                    "payments": (
                        *state.payments,
                        Payment(
                            kind="support",
                            measure=event.measure,
                            period=event.period,
                            amount_tiyn=event.amount_tiyn,
                            reference=event.payment_reference,
                            on=event.at.date(),
                        ),
                    ),
                }
            )
        case ev.ResidenceConfirmed():
            return u(
                update={
                    "residence_checks": state.residence_checks + 1,
                    "last_checked_on": event.checked_on,
                    "discrepancy_confirm_on": None,
                }
            )
        case ev.ResidenceDiscrepancyFound():
            return u(
                update={
                    "last_checked_on": event.checked_on,
                    "discrepancy_confirm_on": event.confirm_on,
                }
            )
        case ev.RegionLeft():
            return u(update={"left_on": event.left_on, "discrepancy_confirm_on": None})
        case ev.RepaymentDemanded():
            return u(
                update={
                    "demanded_tiyn": event.amount_tiyn,
                    "repayment_due_on": event.due_on,
                    "stage": "repayment",
                }
            )
        case ev.RepaymentInvoiced():
            return u(update={"repayment_invoice": event.invoice})
        case ev.RepaymentReceived():
            return u(
                update={
                    "repaid_tiyn": state.repaid_tiyn + event.amount_tiyn,
                    "repayment_refs": state.repayment_refs | {event.reference},
                    "payments": (
                        *state.payments,
                        Payment(
                            kind="repayment",
                            measure="repayment",
                            period=event.at.date().isoformat(),
                            amount_tiyn=event.amount_tiyn,
                            reference=event.reference,
                            on=event.at.date(),
                        ),
                    ),
                }
            )
        case ev.RepaymentReferred() | ev.ContractFulfilled() | ev.PermitRevoked():
            return state
        case ev.RescreeningCompleted():
            return u(update={"rescreenings": state.rescreenings + 1})
        case ev.DepartureRecorded() | ev.DeathRecorded() | ev.CitizenshipGranted():
            return state
        case ev.CaseClosed():
            return u(
                update={
                    "stage": "closed",
                    "closed_reason": event.reason,
                    "closed_detail": event.detail,
                }
            )
    raise TypeError(f"unknown event {type(event).__name__}")  # pragma: no cover


def fold(events: Iterable[ev.Event], state: CaseState | None = None) -> CaseState:
    """State after applying `events` in order to `state` (or to a new case)."""
    current = state or CaseState()
    for event in events:
        current = evolve(current, event)
    return current
