"""The case decider: `decide(state, command, now=...) -> events`, refusing what breaks a rule.

Every invariant of the policy is enforced here, never in a workflow: no support before the
social contract, no payment after a breach or closure, repayment = paid - repaid, the
contract's last day, quota regions, and a closed case accepts nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from domain import commands as cmd
from domain import events as ev
from domain.agenda import support_schedule
from domain.calendar import add_years
from domain.case import CaseState, Stage
from domain.errors import CaseClosedError, InvalidCommandError, WrongStageError
from domain.policy import Policy, UnknownPolicyError, policy_by_id, policy_in_force
from domain.regions import LABOUR_DEFICIT_REGIONS, Region
from domain.scoring import score_case, score_questionnaire

AUTHORITIES: tuple[ev.Authority, ...] = ("security", "criminal_record", "deportation")


def decide(state: CaseState, command: cmd.Command, *, now: datetime) -> list[ev.Event]:
    """Events that carry out `command` on `state` at case time `now`, or a DomainError."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if state.is_closed:
        raise CaseClosedError("case_closed", f"case is closed ({state.closed_reason})")
    if isinstance(command, cmd.SubmitApplication):
        return _submit(state, command, now)
    if state.stage == "new":
        raise WrongStageError("no_application", "the case has no application yet")
    d = _Decision(state, policy_by_id(state.policy_id), now)
    handler = getattr(d, type(command).__name__)
    result: list[ev.Event] = handler(command)
    return result


def _submit(state: CaseState, c: cmd.SubmitApplication, now: datetime) -> list[ev.Event]:
    if state.stage != "new":
        raise WrongStageError("already_submitted", "the application was already submitted")
    try:
        policy = policy_in_force(now.date())
    except UnknownPolicyError as exc:
        raise InvalidCommandError("no_policy_in_force", str(exc)) from exc
    return [
        ev.ApplicationSubmitted(
            policy_id=policy.id, at=now, case_id=c.case_id, application=c.application
        )
    ]


def _require(state: CaseState, *stages: Stage, rule: str) -> None:
    if state.stage not in stages:
        raise WrongStageError(
            rule, f"not accepted in stage {state.stage!r} (accepted in: {', '.join(stages)})"
        )


class _Decision:
    """One command's decision; methods are named after the command they decide."""

    def __init__(self, state: CaseState, policy: Policy, now: datetime) -> None:
        self.s, self.p, self.now = state, policy, now
        self.today: date = now.date()

    def _e(self, cls: type[Any], **fields: Any) -> Any:
        return cls(policy_id=self.s.policy_id, at=self.now, **fields)

    def _close(self, reason: ev.CloseReason, detail: str) -> ev.Event:
        out: ev.Event = self._e(ev.CaseClosed, reason=reason, detail=detail)
        return out

    # intake and scoring -------------------------------------------------------------------
    def RecordDocumentCheck(self, c: cmd.RecordDocumentCheck) -> list[ev.Event]:
        _require(self.s, "documents", rule="documents_stage")
        if c.authentic:
            return [self._e(ev.DocumentsVerified)]
        reasons = c.reasons or ("document not authentic",)
        return [
            self._e(ev.DocumentsRejected, reasons=reasons),
            self._close("rejected", "documents: " + "; ".join(reasons)),
        ]

    def RecordLanguageAttempt(self, c: cmd.RecordLanguageAttempt) -> list[ev.Event]:
        _require(self.s, "scoring", rule="language_test_stage")
        rules = self.p.language
        if any(r.passed for r in self.s.language):
            raise InvalidCommandError("language_test_passed", "the test was already passed")
        if c.attempt != len(self.s.language) + 1:
            raise InvalidCommandError(
                "language_attempt_order", f"expected attempt {len(self.s.language) + 1}"
            )
        if c.attempt > rules.max_attempts:
            raise InvalidCommandError(
                "language_attempts_exhausted", f"at most {rules.max_attempts} attempts"
            )
        missing = [s for s in rules.sections if s not in c.section_percent]
        if missing:
            raise InvalidCommandError("language_sections", f"missing sections {missing}")
        passed = all(c.section_percent[s] >= rules.min_section_percent for s in rules.sections)
        return [
            self._e(
                ev.LanguageTestScored,
                attempt=c.attempt,
                section_percent=dict(c.section_percent),
                passed=passed,
            )
        ]

    def ScoreQuestionnaire(self, c: cmd.ScoreQuestionnaire) -> list[ev.Event]:
        _require(self.s, "scoring", rule="questionnaire_stage")
        if self.s.questionnaire:
            return []
        app = self.s.application
        assert app is not None and self.s.submitted_at is not None
        comps = score_questionnaire(
            app.questionnaire, born_on=app.born_on, on=self.s.submitted_at.date(), policy=self.p
        )
        return [
            self._e(ev.QuestionnaireScored, components=comps, points=sum(x.points for x in comps))
        ]

    def RequestAuthorityCheck(self, c: cmd.RequestAuthorityCheck) -> list[ev.Event]:
        _require(self.s, "scoring", rule="authority_check_stage")
        known = self.s.authority_request(c.authority)
        if known is not None:
            if known.reference == c.reference:
                return []
            raise InvalidCommandError(
                "authority_requested", f"{c.authority} was already asked ({known.reference})"
            )
        due_on = self.today + timedelta(days=self.p.deadlines.authority_check_days)
        return [
            self._e(
                ev.AuthorityCheckRequested,
                authority=c.authority,
                reference=c.reference,
                due_on=due_on,
            )
        ]

    def RecordAuthorityCheck(self, c: cmd.RecordAuthorityCheck) -> list[ev.Event]:
        _require(self.s, "scoring", rule="authority_check_stage")
        request = self.s.authority_request(c.authority)
        if request is not None and c.reference != request.reference:
            raise InvalidCommandError(
                "authority_reference",
                f"{c.authority} reply names {c.reference!r}, the request is {request.reference!r}",
            )
        gate = self.s.authority_gate(c.authority)
        if gate is not None:
            if request is None:
                return []  # the synchronous check, asked again after a retry
            late = c.authority in self.s.authority_overdue and self.s.interview is None
            if not late:
                raise InvalidCommandError(
                    "authority_answered", f"{c.authority} has already answered"
                )
        return [
            self._e(
                ev.SecurityCheckCompleted, authority=c.authority, outcome=c.outcome, reason=c.reason
            )
        ]

    def MarkAuthorityOverdue(self, c: cmd.MarkAuthorityOverdue) -> list[ev.Event]:
        _require(self.s, "scoring", rule="authority_check_stage")
        request = self.s.authority_request(c.authority)
        if request is None:
            raise WrongStageError("authority_not_requested", f"{c.authority} was never asked")
        if self.s.authority_gate(c.authority) is not None:
            return []
        if self.today < request.due_on:
            raise WrongStageError(
                "authority_not_due", f"{c.authority} may reply until {request.due_on.isoformat()}"
            )
        return [self._e(ev.AuthorityCheckOverdue, authority=c.authority, due_on=request.due_on)]

    def EscalateInterview(self, c: cmd.EscalateInterview) -> list[ev.Event]:
        _require(self.s, "scoring", rule="interview_stage")
        if self.s.interview is not None or self.s.interview_escalated_until is not None:
            return []
        if not checks_complete(self.s):
            raise WrongStageError(
                "interview_before_checks", "the checks must finish before the interview is due"
            )
        if self.today < c.deadline:
            raise WrongStageError(
                "interview_not_due", f"the interview may be held until {c.deadline.isoformat()}"
            )
        until = self.today + timedelta(days=self.p.deadlines.interview_escalation_days)
        return [self._e(ev.InterviewEscalated, deadline=c.deadline, until=until)]

    def RecordInterview(self, c: cmd.RecordInterview) -> list[ev.Event]:
        if self.s.interview is not None:  # said first: it is what staff need to hear
            raise InvalidCommandError("interview_recorded", "the interview is already recorded")
        _require(self.s, "scoring", rule="interview_stage")
        if not checks_complete(self.s):
            raise WrongStageError(
                "interview_before_checks",
                "the language test, questionnaire and authority checks "
                "must finish before the interview",
            )
        if c.points > self.p.interview_max_points:
            raise InvalidCommandError(
                "interview_points_max", f"points must be at most {self.p.interview_max_points}"
            )
        return [
            self._e(
                ev.InterviewRecorded,
                interviewer_id=c.interviewer_id,
                passed=c.passed,
                points=c.points,
                notes=c.notes,
            )
        ]

    def MarkInterviewMissed(self, c: cmd.MarkInterviewMissed) -> list[ev.Event]:
        _require(self.s, "scoring", rule="interview_stage")
        if self.s.interview is not None:
            return []
        if not checks_complete(self.s):
            # the interview deadline runs from the end of the checks; missing it earlier would
            # move the case to 'decision', where the late checks could no longer be recorded
            raise WrongStageError(
                "interview_before_checks",
                "the language test, questionnaire and authority checks "
                "must finish before an interview can be missed",
            )
        return [self._e(ev.InterviewMissed, deadline=c.deadline)]

    def ComputeScore(self, c: cmd.ComputeScore) -> list[ev.Event]:
        _require(self.s, "scoring", "decision", rule="score_stage")
        if not checks_complete(self.s):
            raise WrongStageError("score_before_checks", "scoring inputs are incomplete")
        if self.s.interview is None and not early_rejection(self.s):
            raise WrongStageError("score_before_interview", "the interview is not recorded")
        assert self.s.submitted_at is not None
        breakdown = score_case(
            policy=self.p,
            questionnaire=self.s.questionnaire,
            language=self.s.language[-1] if self.s.language else None,
            authority_gates=self.s.authority,
            interview=self.s.interview,
            submitted_at=self.s.submitted_at,
        )
        out: list[ev.Event] = [self._e(ev.ScoreComputed, breakdown=breakdown)]
        if breakdown.decision == "reject":
            out.append(self._close("rejected", "; ".join(breakdown.reasons)))
        return out

    def ResolveReferral(self, c: cmd.ResolveReferral) -> list[ev.Event]:
        _require(self.s, "referral", rule="referral_stage")
        out: list[ev.Event] = [
            self._e(
                ev.ReferralResolved, officer_id=c.officer_id, approve=c.approve, reason=c.reason
            )
        ]
        if not c.approve:
            out.append(self._close("rejected", f"referral: {c.reason}"))
        return out

    # permit and relocation ----------------------------------------------------------------
    def IssuePermit(self, c: cmd.IssuePermit) -> list[ev.Event]:
        _require(self.s, "permit", rule="permit_stage")
        years = self.p.general.permit_term_years
        return [
            self._e(
                ev.PermitIssued,
                permit_number=c.permit_number,
                valid_until=add_years(self.today, years),
            )
        ]

    def GrantKandasStatus(self, c: cmd.GrantKandasStatus) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.kandas_certificate is not None:
            return []
        return [self._e(ev.KandasStatusGranted, certificate_number=c.certificate_number)]

    def ReserveQuotaPlace(self, c: cmd.ReserveQuotaPlace) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.kandas_certificate is None:
            raise WrongStageError("kandas_status_first", "kandas status is not granted yet")
        if self.s.region is not None:
            raise InvalidCommandError("quota_place_held", f"a place is held in {self.s.region}")
        if c.region not in LABOUR_DEFICIT_REGIONS:
            raise InvalidCommandError(
                "region_not_labour_deficit", f"{c.region} is not a labour-deficit region"
            )
        capacity = self.p.quota(c.region, c.year)
        if capacity <= 0:
            raise InvalidCommandError("no_quota_for_region", f"{c.region} has no quota in {c.year}")
        return [self._e(ev.QuotaPlaceReserved, region=c.region, year=c.year, capacity=capacity)]

    def GiveUpSupport(self, c: cmd.GiveUpSupport) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.region is not None:
            raise InvalidCommandError("quota_place_held", f"a place is held in {self.s.region}")
        return [self._e(ev.KandasSupportUnavailable, regions_tried=c.regions_tried)]

    def RecordArrival(self, c: cmd.RecordArrival) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.region is None:
            raise WrongStageError("arrival_before_quota", "no quota place is reserved yet")
        if c.region != self.s.region:
            raise InvalidCommandError(
                "arrival_region_mismatch",
                f"the reserved place is in {self.s.region}, not {c.region}",
            )
        if self.s.arrived_on is not None:
            return []
        arrived_on = self._not_future(c.arrived_on)
        issued = self.s.permit_issued_on
        if issued is not None and arrived_on < issued:
            raise InvalidCommandError(
                "arrival_before_permit",
                f"{arrived_on.isoformat()} is before the permit was issued ({issued.isoformat()})",
            )
        return [self._e(ev.RelocationArrived, region=c.region, arrived_on=arrived_on)]

    def LapseRelocation(self, c: cmd.LapseRelocation) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.arrived_on is not None:
            raise InvalidCommandError("already_arrived", "the family has arrived")
        return [
            *self._release("no arrival by the deadline"),
            self._close("relocation_lapsed", "no arrival in the region by the deadline"),
        ]

    def SignSocialContract(self, c: cmd.SignSocialContract) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.arrived_on is None or self.s.region is None:
            raise WrongStageError("contract_before_arrival", "the family has not arrived yet")
        app = self.s.application
        assert app is not None
        return [
            self._e(
                ev.SocialContractSigned,
                region=self.s.region,
                starts_on=self.s.arrived_on,
                ends_on=add_years(self.s.arrived_on, self.p.contract.term_years),
                family_size=app.family_size,
            )
        ]

    # contract -----------------------------------------------------------------------------
    def RecordSupportPayment(self, c: cmd.RecordSupportPayment) -> list[ev.Event]:
        if self.s.stage in ("repayment", "closed") or self.s.left_on is not None:
            raise InvalidCommandError("no_payment_after_breach", "the contract was breached")
        _require(self.s, "monitoring", rule="no_support_before_contract")
        if c.idempotency_key in self.s.paid_keys:
            return []
        due = {s.idempotency_key: s for s in support_schedule(self.s, self.p)}
        item = due.get(c.idempotency_key)
        if item is None or (item.measure, item.period, item.amount_tiyn) != (
            c.measure,
            c.period,
            c.amount_tiyn,
        ):
            raise InvalidCommandError(
                "payment_not_in_contract",
                f"{c.idempotency_key} is not a payment this contract owes",
            )
        if item.due_on > self.today:
            raise InvalidCommandError("payment_not_due", f"due on {item.due_on.isoformat()}")
        return [
            self._e(
                ev.SupportPaid,
                measure=c.measure,
                period=c.period,
                amount_tiyn=c.amount_tiyn,
                idempotency_key=c.idempotency_key,
                payment_reference=c.payment_reference,
            )
        ]

    def RecordResidenceCheck(self, c: cmd.RecordResidenceCheck) -> list[ev.Event]:
        _require(self.s, "monitoring", rule="residence_check_stage")
        if c.reported_region == self.s.region:
            return [self._e(ev.ResidenceConfirmed, region=self.s.region, checked_on=c.checked_on)]
        pending = self.s.discrepancy_confirm_on
        if pending is not None and c.checked_on >= pending:
            left_on = self.s.last_checked_on or c.checked_on
            return self._left(c.reported_region, left_on, "registry")
        if pending is not None:
            return []  # still elsewhere within the grace period: the window does not restart
        grace = timedelta(days=self.p.contract.confirmation_grace_days)
        return [
            self._e(
                ev.ResidenceDiscrepancyFound,
                reported_region=c.reported_region,
                checked_on=c.checked_on,
                confirm_on=c.checked_on + grace,
            )
        ]

    def RecordMove(self, c: cmd.RecordMove) -> list[ev.Event]:
        _require(self.s, "monitoring", rule="move_only_under_contract")
        if c.new_region == self.s.region:
            raise InvalidCommandError("move_within_region", "the new region is the contract's")
        return self._left(c.new_region, self._not_future(c.moved_on), "staff")

    def RecordRepayment(self, c: cmd.RecordRepayment) -> list[ev.Event]:
        _require(self.s, "repayment", rule="repayment_stage")
        if c.reference in self.s.repayment_refs:
            return []
        if c.amount_tiyn > self.s.outstanding_tiyn:
            raise InvalidCommandError(
                "repayment_exceeds_outstanding", f"outstanding is {self.s.outstanding_tiyn} tiyn"
            )
        out: list[ev.Event] = [
            self._e(ev.RepaymentReceived, amount_tiyn=c.amount_tiyn, reference=c.reference)
        ]
        if c.amount_tiyn == self.s.outstanding_tiyn:
            out.append(self._close("breach_repaid", "support repaid in full"))
        return out

    def RecordInvoice(self, c: cmd.RecordInvoice) -> list[ev.Event]:
        _require(self.s, "repayment", rule="repayment_stage")
        if self.s.repayment_invoice is not None:
            if self.s.repayment_invoice == c.invoice:
                return []
            raise InvalidCommandError(
                "invoice_issued", f"invoice {self.s.repayment_invoice} was already issued"
            )
        assert self.s.repayment_due_on is not None
        return [
            self._e(
                ev.RepaymentInvoiced,
                invoice=c.invoice,
                amount_tiyn=self.s.outstanding_tiyn,
                due_on=self.s.repayment_due_on,
            )
        ]

    def ReferRepayment(self, c: cmd.ReferRepayment) -> list[ev.Event]:
        _require(self.s, "repayment", rule="repayment_stage")
        assert self.s.repayment_due_on is not None
        if self.today <= self.s.repayment_due_on:  # the due date itself is still in time
            raise InvalidCommandError(
                "repayment_not_overdue", f"due on {self.s.repayment_due_on.isoformat()}"
            )
        owed = self.s.outstanding_tiyn
        return [
            self._e(ev.RepaymentReferred, outstanding_tiyn=owed),
            self._close("breach_referred", f"{owed} tiyn unpaid after the due date"),
        ]

    def FulfilContract(self, c: cmd.FulfilContract) -> list[ev.Event]:
        _require(self.s, "monitoring", rule="fulfil_stage")
        ends = self.s.contract_ends_on
        assert ends is not None
        if self.today < ends:
            raise InvalidCommandError("contract_running", f"the contract ends on {ends}")
        return [
            self._e(ev.ContractFulfilled, ended_on=ends),
            self._close("fulfilled", "five-year social contract fulfilled"),
        ]

    # general track and exit ---------------------------------------------------------------
    def RecordRescreening(self, c: cmd.RecordRescreening) -> list[ev.Event]:
        _require(self.s, "residence", rule="rescreening_stage")
        out: list[ev.Event] = [self._e(ev.RescreeningCompleted, outcome=c.outcome, reason=c.reason)]
        if c.outcome == "deny":
            out += [
                self._e(ev.PermitRevoked, reason=c.reason),
                self._close("revoked", f"re-screening: {c.reason}"),
            ]
        return out

    def RecordDeparture(self, c: cmd.RecordDeparture) -> list[ev.Event]:
        on = self._not_future(c.departed_on)
        out: list[ev.Event] = [self._e(ev.DepartureRecorded, departed_on=on, source=c.source)]
        if self.s.stage == "monitoring":
            return out + self._left(None, on, c.source)
        if self.s.stage == "repayment":
            return out  # the debt does not leave with the debtor: it is still owed
        return [
            *out,
            *self._release("departed"),
            self._close("departed", f"left Kazakhstan on {on.isoformat()}"),
        ]

    def RecordDeath(self, c: cmd.RecordDeath) -> list[ev.Event]:
        """Closes the case at any stage; a death is never a breach of the contract."""
        on = self._not_future(c.died_on)
        return [
            self._e(ev.DeathRecorded, died_on=on),
            *self._release("died"),
            self._close("died", f"died on {on.isoformat()}{self._still_owed()}"),
        ]

    def RecordCitizenship(self, c: cmd.RecordCitizenship) -> list[ev.Event]:
        """A citizen needs no permit: the case closes, the contract with it, without a breach."""
        _require(
            self.s,
            "relocation",
            "monitoring",
            "repayment",
            "residence",
            rule="citizenship_stage",
        )
        on = self._not_future(c.granted_on)
        return [
            self._e(ev.CitizenshipGranted, granted_on=on),
            *self._release("citizenship_granted"),
            self._close(
                "citizenship_granted",
                f"citizenship granted on {on.isoformat()}{self._still_owed()}",
            ),
        ]

    def RevokePermit(self, c: cmd.RevokePermit) -> list[ev.Event]:
        _require(
            self.s, "relocation", "monitoring", "repayment", "residence", rule="revocation_stage"
        )
        return [
            self._e(ev.PermitRevoked, reason=c.reason),
            *self._release("revoked"),
            self._close("revoked", f"permit revoked{self._still_owed()}"),
        ]

    def _still_owed(self) -> str:
        owed = self.s.outstanding_tiyn
        return f"; {owed} tiyn still owed, referred for collection" if owed else ""

    def EndPermitTerm(self, c: cmd.EndPermitTerm) -> list[ev.Event]:
        _require(self.s, "residence", rule="permit_term_stage")
        assert self.s.permit_valid_until is not None
        if self.today < self.s.permit_valid_until:
            raise InvalidCommandError("permit_valid", f"valid until {self.s.permit_valid_until}")
        return [self._close("permit_term_ended", "permit term ended; renewal is a new case")]

    def Withdraw(self, c: cmd.Withdraw) -> list[ev.Event]:
        if self.s.stage in ("monitoring", "repayment"):
            raise WrongStageError(
                "withdraw_under_contract",
                "under a social contract record a move or departure instead",
            )
        return [*self._release("withdrawn"), self._close("withdrawn", c.reason)]

    # helpers ------------------------------------------------------------------------------
    def _not_future(self, on: date | None) -> date:
        """A reported date, today when none is given; a date after today is refused."""
        if on is None:
            return self.today
        if on > self.today:
            raise InvalidCommandError(
                "date_in_future", f"{on.isoformat()} is after today ({self.today.isoformat()})"
            )
        return on

    def _kandas_relocation(self) -> None:
        _require(self.s, "relocation", rule="relocation_stage")

    def _release(self, reason: str) -> list[ev.Event]:
        if self.s.region is None or self.s.quota_year is None or self.s.stage != "relocation":
            return []
        return [
            self._e(
                ev.QuotaPlaceReleased, region=self.s.region, year=self.s.quota_year, reason=reason
            )
        ]

    def _left(self, new_region: Region | None, on: date, source: ev.LeftSource) -> list[ev.Event]:
        ends = self.s.contract_ends_on
        assert ends is not None
        if on >= ends:
            return [
                self._e(ev.ContractFulfilled, ended_on=ends),
                self._close("fulfilled", "left on or after the contract's last day"),
            ]
        left: ev.Event = self._e(ev.RegionLeft, new_region=new_region, left_on=on, source=source)
        owed = clawback(self.s, self.p, on)
        if owed == 0:
            return [left, self._close("breach_repaid", "left before any support was paid")]
        due_on = self.today + timedelta(days=self.p.contract.repayment_due_days)
        return [
            left,
            self._e(
                ev.RepaymentDemanded, amount_tiyn=owed, due_on=due_on, rule=self.p.contract.clawback
            ),
        ]


def checks_complete(state: CaseState) -> bool:
    """Language test settled, questionnaire scored, every authority answered."""
    policy = policy_by_id(state.policy_id)
    lang_done = any(r.passed for r in state.language) or (
        len(state.language) >= policy.language.max_attempts
    )
    answered = {g.name for g in state.authority}
    return lang_done and bool(state.questionnaire) and answered >= set(AUTHORITIES)


def early_rejection(state: CaseState) -> bool:
    """True when a gate already failed, so no interview is needed to reject."""
    policy = policy_by_id(state.policy_id)
    language_failed = (
        bool(state.language)
        and not any(r.passed for r in state.language)
        and (len(state.language) >= policy.language.max_attempts)
    )
    q_low = bool(state.questionnaire) and (
        sum(c.points for c in state.questionnaire) < policy.questionnaire.min_points
    )
    denied = any(g.outcome == "deny" for g in state.authority)
    return language_failed or q_low or denied


def clawback(state: CaseState, policy: Policy, left_on: date) -> int:
    """What must be repaid on leaving on `left_on`: all support (or pro rata), never negative."""
    ends, starts = state.contract_ends_on, state.contract_starts_on
    assert ends is not None and starts is not None
    if left_on >= ends:
        return 0
    paid = state.paid_tiyn - state.repaid_tiyn
    if policy.contract.clawback == "full":
        return max(paid, 0)
    term = (ends - starts).days
    remaining = min((ends - left_on).days, term)  # leaving before the start owes at most all
    return max(paid * remaining // term, 0)
