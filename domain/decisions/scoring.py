"""Intake and scoring: documents, KAZTEST, questionnaire, the authorities, the interview,
the score and a referral's decision."""

from __future__ import annotations

from datetime import timedelta

from domain import commands as cmd
from domain import events as ev
from domain.checks import checks_complete, early_rejection
from domain.decisions.base import Decision, require
from domain.errors import InvalidCommandError, WrongStageError
from domain.scoring import score_case, score_questionnaire


class Scoring(Decision):
    def RecordDocumentCheck(self, c: cmd.RecordDocumentCheck) -> list[ev.Event]:
        require(self.s, "documents", rule="documents_stage")
        if c.authentic:
            return [self._e(ev.DocumentsVerified)]
        reasons = c.reasons or ("document not authentic",)
        return [
            self._e(ev.DocumentsRejected, reasons=reasons),
            self._close("rejected", "documents: " + "; ".join(reasons)),
        ]

    def RecordLanguageAttempt(self, c: cmd.RecordLanguageAttempt) -> list[ev.Event]:
        require(self.s, "scoring", rule="language_test_stage")
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
        banned = self.s.language_banned_until
        if banned is not None and self.today < banned:
            raise InvalidCommandError(
                "kaztest_ban",
                f"no sitting before {banned.isoformat()}: an earlier sitting ended for "
                "breaking the test's rules",
            )
        if c.rules_broken:
            # the sitting counts as one of the paid attempts (docs/decisions/017)
            until = self.today + timedelta(days=rules.rules_breach_ban_days)
            return [
                self._e(
                    ev.LanguageTestScored,
                    attempt=c.attempt,
                    section_percent=dict(c.section_percent),
                    passed=False,
                    rules_broken=True,
                    banned_until=until,
                )
            ]
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
        require(self.s, "scoring", rule="questionnaire_stage")
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
        require(self.s, "scoring", rule="authority_check_stage")
        known = self.s.authority_request(c.authority)
        if known is not None:
            if known.reference == c.reference:
                return []
            raise InvalidCommandError(
                "authority_requested", f"{c.authority} was already asked ({known.reference})"
            )
        rules = self.p.deadlines
        days = (
            rules.citizenship_consent_days
            if c.authority == "citizenship_consent"
            else rules.authority_check_days
        )
        due_on = self.today + timedelta(days=days)
        return [
            self._e(
                ev.AuthorityCheckRequested,
                authority=c.authority,
                reference=c.reference,
                due_on=due_on,
            )
        ]

    def RecordAuthorityCheck(self, c: cmd.RecordAuthorityCheck) -> list[ev.Event]:
        require(self.s, "scoring", rule="authority_check_stage")
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
        require(self.s, "scoring", rule="authority_check_stage")
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
        require(self.s, "scoring", rule="interview_stage")
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
        require(self.s, "scoring", rule="interview_stage")
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
        require(self.s, "scoring", rule="interview_stage")
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
        require(self.s, "scoring", "decision", rule="score_stage")
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
        require(self.s, "referral", rule="referral_stage")
        out: list[ev.Event] = [
            self._e(
                ev.ReferralResolved, officer_id=c.officer_id, approve=c.approve, reason=c.reason
            )
        ]
        if not c.approve:
            out.append(self._close("rejected", f"referral: {c.reason}"))
        return out
