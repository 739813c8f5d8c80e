"""The case's state, and how each event changes it. State is the fold of the events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from pydantic import field_serializer

from domain import events as ev
from domain.application import Application, Track
from domain.case_parts import AuthorityRequest as AuthorityRequest
from domain.case_parts import Candidacy as Candidacy
from domain.case_parts import Employment as Employment
from domain.case_parts import HousingCertificate as HousingCertificate
from domain.case_parts import KandasRequest as KandasRequest
from domain.case_parts import Payment as Payment
from domain.case_parts import Stage as Stage
from domain.case_parts import kandas_step
from domain.model import Model
from domain.regions import Region
from domain.scoring import Component, Gate, InterviewResult, LanguageResult, ScoreBreakdown


class CaseState(Model):
    case_id: str = ""
    policy_id: str = ""
    stage: Stage = "new"
    track: Track | None = None
    application: Application | None = None
    submitted_at: datetime | None = None
    language: tuple[LanguageResult, ...] = ()
    language_banned_until: date | None = None
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
    kandas_request: KandasRequest | None = None
    procedure_flags: tuple[str, ...] = ()  # "at_risk", "exceeded": the 29-day limit's flags
    region: Region | None = None
    quota_year: int | None = None
    regions_refused: tuple[Region, ...] = ()
    candidacy: Candidacy | None = None
    rounds_not_reached: tuple[str, ...] = ()  # round ids, in order
    not_reached_in: tuple[Region, ...] = ()  # each of those rounds' region
    granted_round: str | None = None
    arrived_on: date | None = None
    contract_starts_on: date | None = None
    contract_ends_on: date | None = None
    paid_keys: frozenset[str] = frozenset()
    paid_tiyn: int = 0
    payments: tuple[Payment, ...] = ()
    employments: tuple[Employment, ...] = ()
    housing_certificate: HousingCertificate | None = None
    residence_checks: int = 0
    last_checked_on: date | None = None
    # The last day the address registry found the family in the region (a check's date).
    last_confirmed_on: date | None = None
    discrepancy_confirm_on: date | None = None
    discrepancy_checked_on: date | None = None
    left_on: date | None = None
    demanded_tiyn: int = 0
    repaid_tiyn: int = 0
    repayment_refs: frozenset[str] = frozenset()
    repayment_due_on: date | None = None
    repayment_invoice: str | None = None
    rescreenings: int = 0
    citizenship_granted_on: date | None = None
    permit_revoked: bool = False
    closed_reason: ev.CloseReason | None = None
    closed_detail: str = ""
    closed_on: date | None = None
    exit_checked: bool = False

    @field_serializer("paid_keys", "repayment_refs", when_used="json")
    def _sorted(self, keys: frozenset[str]) -> list[str]:
        """Sets written in order, so equal states are equal documents."""
        return sorted(keys)

    @property
    def outstanding_tiyn(self) -> int:
        """Repayment still owed: demanded minus repaid, never negative."""
        return max(self.demanded_tiyn - self.repaid_tiyn, 0)

    def employment(self, member: int) -> Employment | None:
        return next((e for e in self.employments if e.member == member), None)

    def authority_request(self, name: str) -> AuthorityRequest | None:
        return next((r for r in self.authority_requests if r.name == name), None)

    def authority_gate(self, name: str) -> Gate | None:
        return next((g for g in self.authority if g.name == name), None)

    @property
    def is_closed(self) -> bool:
        return self.stage == "closed"

    @property
    def last_residence_day(self) -> date | None:
        """The contract's last day of residence: the eve of `contract_ends_on`, the first day
        the family may leave owing nothing (docs/decisions/001)."""
        ends = self.contract_ends_on
        return None if ends is None else ends - timedelta(days=1)

    @property
    def residence_confirmed_to_end(self) -> bool:
        """The contract's final check is made: the registry found the family in the region
        on its last day of residence or later, and no discrepancy is open."""
        last_day, confirmed = self.last_residence_day, self.last_confirmed_on
        return (
            last_day is not None
            and confirmed is not None
            and confirmed >= last_day
            and self.discrepancy_confirm_on is None
        )


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
                attempt=event.attempt,
                section_percent=event.section_percent,
                passed=event.passed,
                rules_broken=event.rules_broken,
            )
            banned = event.banned_until or state.language_banned_until
            return u(
                update={"language": (*state.language, result), "language_banned_until": banned}
            )
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
        case (
            ev.KandasStatusRequested()
            | ev.KandasStatusPreliminarilyRefused()
            | ev.KandasHearingHeld()
            | ev.KandasDecisionExtended()
            | ev.KandasDecisionOverdue()
        ):
            return u(update={"kandas_request": kandas_step(state.kandas_request, event)})
        case ev.KandasStatusRefused():
            # the permit stands: the general track, without support (docs/decisions/016)
            refused = kandas_step(state.kandas_request, event)
            return u(update={"kandas_request": refused, "track": "general", "stage": "residence"})
        case ev.ProcedureLimitFlagged():
            return u(update={"procedure_flags": (*state.procedure_flags, event.level)})
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
        case ev.CandidacyLodged():
            candidacy = Candidacy(
                score=event.score,
                submitted_at=event.submitted_at,
                regions=event.regions,
                lodged_on=event.at.date(),
            )
            return u(update={"candidacy": candidacy})
        case ev.AllocationGranted():
            return u(update={"granted_round": event.round_id})
        case ev.AllocationNotReached():
            return u(
                update={
                    "rounds_not_reached": (*state.rounds_not_reached, event.round_id),
                    "not_reached_in": (*state.not_reached_in, event.region),
                }
            )
        case ev.MovedToGeneralTrack():
            return u(update={"track": "general", "stage": "residence"})
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
        case ev.EmploymentRecorded():
            job = Employment(
                member=event.member,
                employer_id=event.employer_id,
                started_on=event.started_on,
                subsidy_due_on=event.subsidy_due_on,
            )
            kept = tuple(e for e in state.employments if e.member != event.member)
            return u(update={"employments": (*kept, job)})
        case ev.EmploymentEnded():
            jobs = tuple(
                e.model_copy(update={"ended_on": event.ended_on}) if e.member == event.member else e
                for e in state.employments
            )
            return u(update={"employments": jobs})
        case ev.HousingCertificateIssued():
            certificate = HousingCertificate(
                reference=event.reference, amount_tiyn=event.amount_tiyn, issued_on=event.at.date()
            )
            return u(update={"housing_certificate": certificate})
        case ev.PermitRenewed():
            return u(update={"permit_valid_until": event.valid_until})
        case ev.ResidenceConfirmed():
            return u(
                update={
                    "residence_checks": state.residence_checks + 1,
                    "last_checked_on": event.checked_on,
                    "last_confirmed_on": event.checked_on,
                    "discrepancy_confirm_on": None,
                    "discrepancy_checked_on": None,
                }
            )
        case ev.ResidenceDiscrepancyFound():
            return u(
                update={
                    "last_checked_on": event.checked_on,
                    "discrepancy_confirm_on": event.confirm_on,
                    "discrepancy_checked_on": event.checked_on,
                }
            )
        case ev.RegionLeft():
            return u(
                update={
                    "left_on": event.left_on,
                    "discrepancy_confirm_on": None,
                    "discrepancy_checked_on": None,
                }
            )
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
        case ev.RepaymentReferred() | ev.ContractFulfilled():
            return state
        case ev.PermitRevoked():
            return u(update={"permit_revoked": True})
        case ev.RescreeningCompleted():
            return u(update={"rescreenings": state.rescreenings + 1})
        case ev.CitizenshipGranted():
            return u(update={"citizenship_granted_on": event.granted_on})
        case ev.DepartureRecorded() | ev.DeathRecorded():
            return state
        case ev.CaseClosed():
            return u(
                update={
                    "stage": "closed",
                    "closed_reason": event.reason,
                    "closed_detail": event.detail,
                    "closed_on": event.at.date(),
                }
            )
        case ev.ExitChecked():
            return u(update={"exit_checked": True})
    raise TypeError(f"unknown event {type(event).__name__}")  # pragma: no cover


def fold(events: Iterable[ev.Event], state: CaseState | None = None) -> CaseState:
    """State after applying `events` in order to `state` (or to a new case)."""
    current = state or CaseState()
    for event in events:
        current = evolve(current, event)
    return current
