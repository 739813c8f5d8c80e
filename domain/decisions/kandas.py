"""The kandas status decision by the local executive body: the request, a decision within
working days, a preliminary refusal and the hearing, one extension, a final refusal (the
general track without support: docs/decisions/016), and an overdue decision flagged."""

from __future__ import annotations

from datetime import date

from domain import commands as cmd
from domain import events as ev
from domain.calendar import add_months
from domain.case import KandasRequest
from domain.decisions.base import Decision
from domain.errors import InvalidCommandError, WrongStageError
from domain.pilot import kandas_due, kandas_overdue


class KandasStatus(Decision):
    def RequestKandasStatus(self, c: cmd.RequestKandasStatus) -> list[ev.Event]:
        self._kandas_relocation()
        known = self.s.kandas_request
        if known is not None:
            if known.reference == c.reference:
                return []
            raise InvalidCommandError(
                "kandas_status_requested",
                f"kandas status was already requested ({known.reference})",
            )
        if self.s.kandas_certificate is not None:
            raise InvalidCommandError("kandas_status_granted", "kandas status is already granted")
        due = kandas_due(self.today, self.p.deadlines.kandas_status_working_days, self.p)
        return [
            self._e(
                ev.KandasStatusRequested,
                reference=c.reference,
                requested_on=self.today,
                due_on=due,
            )
        ]

    def GrantKandasStatus(self, c: cmd.GrantKandasStatus) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.kandas_certificate is not None:
            return []
        granted_on = self._body_date(c.granted_on)
        return [
            self._e(
                ev.KandasStatusGranted,
                certificate_number=c.certificate_number,
                granted_on=granted_on,
            )
        ]

    def RecordKandasPreliminaryRefusal(
        self, c: cmd.RecordKandasPreliminaryRefusal
    ) -> list[ev.Event]:
        request = self._pending()
        refused_on = self._body_date(c.refused_on)
        if request.preliminary_refused_on is not None:
            if request.preliminary_refused_on == refused_on:
                return []
            raise InvalidCommandError(
                "kandas_preliminary_refusal_once",
                f"a preliminary refusal was made on {request.preliminary_refused_on.isoformat()}",
            )
        hearing_by = kandas_due(refused_on, self.p.deadlines.kandas_hearing_working_days, self.p)
        return [
            self._e(
                ev.KandasStatusPreliminarilyRefused,
                reason=c.reason,
                refused_on=refused_on,
                hearing_by=hearing_by,
            )
        ]

    def RecordKandasHearing(self, c: cmd.RecordKandasHearing) -> list[ev.Event]:
        request = self._pending()
        held_on = self._body_date(c.held_on)
        refused_on = request.preliminary_refused_on
        if refused_on is None:
            raise WrongStageError(
                "kandas_hearing_without_refusal", "a hearing follows a preliminary refusal"
            )
        if request.heard_on is not None:
            if request.heard_on == held_on:
                return []
            raise InvalidCommandError(
                "kandas_hearing_held", f"the applicant was heard on {request.heard_on.isoformat()}"
            )
        if held_on < refused_on:
            raise InvalidCommandError(
                "kandas_hearing_before_refusal",
                f"{held_on.isoformat()} is before the preliminary refusal "
                f"({refused_on.isoformat()})",
            )
        late = held_on > request.due_on
        return [self._e(ev.KandasHearingHeld, held_on=held_on, late=late)]

    def ExtendKandasDecision(self, c: cmd.ExtendKandasDecision) -> list[ev.Event]:
        request = self._pending()
        extended_on = self._body_date(c.extended_on)
        if request.extended_until == c.until:
            return []
        rules = self.p.deadlines
        if request.extensions >= rules.kandas_extensions_max:
            raise InvalidCommandError(
                "kandas_extension_once",
                f"the decision period may be extended {rules.kandas_extensions_max} time(s); "
                f"it runs until {request.due_on.isoformat()}",
            )
        if request.awaiting == "hearing" or request.preliminary_refused_on is not None:
            raise InvalidCommandError(
                "kandas_extension_after_refusal",
                "after a preliminary refusal the hearing decides, not an extension",
            )
        longest = add_months(request.due_on, rules.kandas_extension_max_months)
        if c.until > longest:
            raise InvalidCommandError(
                "kandas_extension_max",
                f"an extension runs at most {rules.kandas_extension_max_months} months, "
                f"until {longest.isoformat()}",
            )
        if c.until <= request.due_on:
            raise InvalidCommandError(
                "kandas_extension_earlier",
                f"{c.until.isoformat()} is not after the due date {request.due_on.isoformat()}",
            )
        return [
            self._e(
                ev.KandasDecisionExtended,
                extended_on=extended_on,
                until=c.until,
                reason=c.reason,
            )
        ]

    def MarkKandasDecisionOverdue(self, c: cmd.MarkKandasDecisionOverdue) -> list[ev.Event]:
        request = self._pending()
        if request.due_on in request.overdue_on:
            return []
        if not kandas_overdue(self.s, self.today):
            raise WrongStageError(
                "kandas_decision_not_due",
                f"the local executive body may answer until {request.due_on.isoformat()}",
            )
        return [self._e(ev.KandasDecisionOverdue, due_on=request.due_on, awaiting=request.awaiting)]

    def RefuseKandasStatus(self, c: cmd.RefuseKandasStatus) -> list[ev.Event]:
        request = self._pending()
        refused_on = self._body_date(c.refused_on)
        if request.heard_on is None:
            raise WrongStageError(
                "kandas_refusal_before_hearing",
                "a final refusal follows a preliminary refusal and the applicant's hearing",
            )
        if refused_on < request.heard_on:
            raise InvalidCommandError(
                "kandas_refusal_before_hearing",
                f"{refused_on.isoformat()} is before the hearing ({request.heard_on.isoformat()})",
            )
        return [self._e(ev.KandasStatusRefused, reason=c.reason, refused_on=refused_on)]

    # ---- shared ----------------------------------------------------------------------------
    def _pending(self) -> KandasRequest:
        self._kandas_relocation()
        request = self.s.kandas_request
        if request is None:
            raise WrongStageError("kandas_status_not_requested", "kandas status was not requested")
        if self.s.kandas_certificate is not None:
            raise InvalidCommandError("kandas_status_granted", "kandas status is already granted")
        return request

    def _body_date(self, on: date | None) -> date:
        """The body's date of a step: not after today, not before the request."""
        day = self._not_future(on)
        request = self.s.kandas_request
        if request is not None and day < request.requested_on:
            raise InvalidCommandError(
                "kandas_date_before_request",
                f"{day.isoformat()} is before the request ({request.requested_on.isoformat()})",
            )
        return day
