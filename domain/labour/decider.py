"""The labour request's decider: `decide_labour(state, command, now=...) -> events`.

Every rule of the labour path is enforced here, never in a workflow: the shortage test, the
quota line, the worker's checks, the permit's term, the obligations reviews, the end notice,
a violation's liability for employer and worker, and the exit. Refusals of a staff input are
DomainErrors naming their rule; a request's own refusal (no shortage, no quota) is recorded
as events, because the record must say why the request ended.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from domain.calendar import add_months
from domain.errors import CaseClosedError, InvalidCommandError, WrongStageError
from domain.labour import commands as c
from domain.labour import events as e
from domain.labour.agenda import next_review
from domain.labour.model import LabourStage, Violation, quota_line, request_problems
from domain.labour.rules import liability, shortage_refusal, violations_in, wage_floor
from domain.labour.state import LabourState
from domain.model import tenge
from domain.policy import Policy, UnknownPolicyError, policy_by_id, policy_in_force


def decide_labour(
    state: LabourState, command: c.LabourCommand, *, now: datetime, policy: Policy | None = None
) -> list[e.LabourEvent]:
    """Events that carry out `command` on `state` at case time `now`, or a DomainError.

    The request is decided under its own policy version (`policy` overrides it: a draft's
    impact, or a test of a changed figure)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if state.stage == "closed":
        raise CaseClosedError("request_closed", "the request is closed")
    if isinstance(command, c.SubmitRequest):
        return _submit(state, command, now, policy)
    if state.stage == "new" or state.policy_id is None:
        raise WrongStageError("no_request", "the request is not submitted yet")
    rules = policy or policy_by_id(state.policy_id)
    handler = getattr(_Decision(state, rules, now), command.kind, None)
    if handler is None:
        raise InvalidCommandError("unknown_command", f"a labour request does not {command.kind}")
    result: list[e.LabourEvent] = handler(command)
    return result


def _submit(
    state: LabourState, cmd: c.SubmitRequest, now: datetime, policy: Policy | None
) -> list[e.LabourEvent]:
    if state.stage != "new":
        raise WrongStageError("already_submitted", "the request was already submitted")
    problems = request_problems(cmd.request, now.date())
    if problems:  # nothing is recorded for a request that is not one
        field, rule = problems[0]
        raise InvalidCommandError("invalid_request", f"{field}: {rule}")
    try:
        policy = policy or (
            policy_by_id(cmd.policy_id) if cmd.policy_id else policy_in_force(now.date())
        )
    except UnknownPolicyError as exc:
        raise InvalidCommandError("no_policy_in_force", str(exc)) from exc
    return [
        e.LabourRequestSubmitted(
            policy_id=policy.id,
            at=now,
            request_id=cmd.request_id,
            request=cmd.request,
            employer_key=cmd.employer_key,
        )
    ]


def _require(state: LabourState, stage: LabourStage, rule: str, reason: str) -> None:
    if state.stage != stage:
        raise WrongStageError(rule, reason)


class _Decision:
    """One command's decision; methods are named after the command they decide."""

    def __init__(self, state: LabourState, policy: Policy, now: datetime) -> None:
        assert state.request is not None
        self.s, self.p, self.now, self.r = state, policy, now, state.request
        self.today: date = now.date()

    def _e(self, cls: type[Any], **fields: Any) -> Any:
        return cls(policy_id=self.p.id, at=self.now, **fields)

    def _refuse(self, rule: str, reason: str) -> list[e.LabourEvent]:
        return [
            self._e(e.LabourRequestRefused, rule=rule, reason=reason),
            self._e(e.LabourRequestClosed, reason="refused", detail=f"{rule}: {reason}"),
        ]

    def RecordVacancy(self, cmd: c.RecordVacancy) -> list[e.LabourEvent]:
        _require(self.s, "shortage", "shortage_stage", "the shortage was already decided")
        refusal = shortage_refusal(self.r, cmd.vacancy, self.p.labour, cmd.on)
        if refusal is not None:
            return self._refuse(refusal.rule, refusal.reason)
        vacancy = cmd.vacancy
        assert vacancy is not None
        end = vacancy.closed_on or cmd.on
        confirmed = self._e(
            e.ShortageConfirmed,
            vacancy_reference=vacancy.reference,
            days_on_market=(end - vacancy.posted_on).days,
            regional_average_wage_tiyn=vacancy.regional_average_wage_tiyn,
        )
        return [confirmed]

    def ReservePlace(self, cmd: c.ReservePlace) -> list[e.LabourEvent]:
        _require(self.s, "quota", "quota_stage", "no place is asked for in this stage")
        r = self.r
        line = self._line(cmd.year)
        if line is None:
            where = f"{r.industry} in {r.region}" + (f", project {r.project}" if r.project else "")
            return self._refuse(
                "no_quota", f"policy {self.p.id} sets no {cmd.year} quota for {where}"
            )
        reserved = self._e(
            e.LabourPlaceReserved,
            employer_id=r.employer_id,
            industry=r.industry,
            region=r.region,
            project=r.project,
            year=cmd.year,
            capacity=line,
        )
        return [reserved]

    def _line(self, year: int) -> int | None:
        r = self.r
        line = quota_line(
            self.p.labour, year=year, industry=r.industry, region=r.region, project=r.project
        )
        return line.places if line is not None and line.places > 0 else None

    def RefusePlace(self, cmd: c.RefusePlace) -> list[e.LabourEvent]:
        _require(self.s, "quota", "quota_stage", "no place is asked for in this stage")
        return self._refuse(cmd.rule, cmd.reason)

    def RecordWorkerChecks(self, cmd: c.RecordWorkerChecks) -> list[e.LabourEvent]:
        _require(self.s, "checks", "checks_stage", "the worker is not being checked")
        out: list[e.LabourEvent] = [
            self._e(
                e.WorkerCheckCompleted, authority=x.authority, outcome=x.outcome, reason=x.reason
            )
            for x in cmd.results
        ]
        failed = [x for x in cmd.results if x.outcome != "clear"]
        if not failed:
            return out
        reason = "; ".join(f"{x.authority}: {x.outcome} ({x.reason})" for x in failed)
        return [
            *out,
            self._release("the worker did not pass the checks"),
            self._e(e.LabourRequestClosed, reason="worker_failed_checks", detail=reason),
        ]

    def IssueWorkPermit(self, cmd: c.IssueWorkPermit) -> list[e.LabourEvent]:
        _require(self.s, "checks", "checks_stage", "no permit is due in this stage")
        if not self.s.checks or any(o != "clear" for o in self.s.checks.values()):
            raise WrongStageError("permit_before_checks", "the worker has not cleared the checks")
        issued = self._e(
            e.WorkPermitIssued,
            number=cmd.number,
            valid_from=self.today,
            valid_until=add_months(self.today, self.r.months),
        )
        return [issued]

    def RecordReview(self, cmd: c.RecordReview) -> list[e.LabourEvent]:
        self._permit_running()
        s, report = self.s, cmd.report
        assert s.valid_from is not None and s.regional_average_wage_tiyn is not None
        final = next_review(s, self.p.labour) == s.valid_until
        out: list[e.LabourEvent] = [
            self._e(
                e.ObligationsReviewed,
                on=report.on,
                paid_monthly_wage_tiyn=report.paid_monthly_wage_tiyn,
                address_registered=report.address_registered_on is not None,
            )
        ]
        if report.ended_on is not None:
            ended = self._e(
                e.EmploymentEnded,
                ended_on=report.ended_on,
                notified_on=report.end_notified_on,
                source="registry",
            )
            out.append(ended)
        found = violations_in(
            report,
            permit_from=s.valid_from,
            wage_floor_tiyn=wage_floor(s.regional_average_wage_tiyn, self.p.labour),
            rules=self.p.labour,
        )
        if found:
            return out + self._violation(found, "found on the obligations review", "review")
        if report.ended_on is not None:
            return out + self._ended_early(report.ended_on)
        if final:
            detail = f"permit served to {s.valid_until}; obligations kept"
            out.append(self._e(e.LabourRequestClosed, reason="term_completed", detail=detail))
        return out

    def RecordViolation(self, cmd: c.RecordViolation) -> list[e.LabourEvent]:
        self._permit_running("a violation needs a running permit")
        return self._violation(cmd.violations, cmd.detail, cmd.found_by)

    def RecordEmploymentEnded(self, cmd: c.RecordEmploymentEnded) -> list[e.LabourEvent]:
        self._permit_running("no employment under a permit yet")
        if cmd.ended_on > self.today:
            raise InvalidCommandError(
                "date_in_future",
                f"on: {cmd.ended_on.isoformat()} is after today ({self.today.isoformat()})",
            )
        ended = self._e(
            e.EmploymentEnded, ended_on=cmd.ended_on, notified_on=cmd.notified_on, source="staff"
        )
        notice_due = cmd.ended_on + timedelta(days=self.p.labour.end_notice_days)
        if cmd.notified_on is None or cmd.notified_on > notice_due:
            late = self._violation(
                ("end_not_notified",), "the end was not notified in time", cmd.recorded_by
            )
            return [ended, *late]
        return [ended, *self._ended_early(cmd.ended_on)]

    def RecordExit(self, cmd: c.RecordExit) -> list[e.LabourEvent]:
        s = self.s
        if s.exit_by is None:
            raise WrongStageError("no_exit_ordered", "the worker's exit was not ordered")
        if self.today < s.exit_by:
            raise WrongStageError("exit_not_due", f"the worker may stay until {s.exit_by}")
        left = cmd.departed_on
        exit_note = (
            f"the worker left on {left.isoformat()}"
            if left is not None
            else "no departure recorded by the exit date: referred to the migration police"
        )
        note = (
            f"{', '.join(s.violations)}: employer fined {tenge(s.fine_tiyn)}, quota rights "
            f"suspended until {s.quota_rights_suspended_until}; permit revoked"
        )
        return [self._e(e.LabourRequestClosed, reason="violation", detail=f"{note}, {exit_note}")]

    # helpers ------------------------------------------------------------------------------
    def _permit_running(self, reason: str = "no permit is running") -> None:
        if self.s.exit_by is not None:
            raise WrongStageError(
                "wrong_stage", "the permit is revoked; the worker's exit is pending"
            )
        _require(self.s, "permit", "wrong_stage", reason)

    def _release(self, reason: str) -> e.LabourEvent:
        assert self.s.quota_year is not None
        r = self.r
        released: e.LabourEvent = self._e(
            e.LabourPlaceReleased,
            industry=r.industry,
            region=r.region,
            project=r.project,
            year=self.s.quota_year,
            reason=reason,
        )
        return released

    def _ended_early(self, on: date) -> list[e.LabourEvent]:
        detail = f"employment ended on {on.isoformat()}; the place returned to the quota"
        return [
            self._release(f"employment ended on {on.isoformat()}"),
            self._e(e.LabourRequestClosed, reason="ended_early", detail=detail),
        ]

    def _violation(
        self, found: tuple[Violation, ...], detail: str, found_by: str
    ) -> list[e.LabourEvent]:
        owed = liability(
            found, on=self.today, rules=self.p.labour, mrp_tenge=self.p.mrp(self.today.year)
        )
        return [
            self._e(e.ViolationFound, violations=found, detail=detail, found_by=found_by),
            self._e(
                e.EmployerLiabilityImposed,
                employer_id=self.r.employer_id,
                fine_tiyn=owed.employer_fine_tiyn,
                quota_rights_suspended_until=owed.quota_rights_suspended_until,
                violations=found,
            ),
            self._e(
                e.WorkerLiabilityImposed,
                permit_number=self.s.permit_number or "",
                permit_revoked=True,
                exit_by=owed.worker_exit_by,
            ),
            self._release(f"permit revoked for {', '.join(found)}"),
        ]
