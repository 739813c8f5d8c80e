"""EmployerPermitWorkflow: one employer's request for one foreign worker's permit, durable
from the request to its end.

request -> shortage proven on the domestic labour market -> a quota place reserved (the
record's atomic ledger, as for kandas places) -> the worker's competent-authority checks ->
permit for the term -> obligations reviewed at the policy's interval -> the end: the term
completed; employment ended early (the place returned); or a violation (employer and worker
liable), the worker's departure checked at the exit date. Orchestration only: every rule is
domain/labour's (the decider and the agenda); every fact is in the record (stream
labour-<request id>) before the workflow acts on it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.labour import (
        EmployerKeyInput,
        EmploymentInput,
        LabourActivities,
        ScreeningInput,
        VacancyInput,
    )
    from activities.verification import VerificationActivities
    from domain.clock import SECONDS_PER_YEAR, CaseClock
    from domain.errors import DomainError, InvalidCommandError
    from domain.labour import LABOUR_AUTHORITIES
    from domain.labour import agenda as labour_agenda
    from domain.labour import commands as c
    from domain.policy import Policy
    from domain.regions import Region
    from workflows import employer_api as eapi
    from workflows.labour.state import RequestRun

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.handlers import TakesInput
from workflows.labour.request import Request
from workflows.runtime import NoPolicyInForce, RecordPausedError, RuleChanges, refusal

# Rule changes under running requests (docs/decisions/005): none since the first release.
RULE_CHANGES: tuple[str, ...] = ()
# Refusals of the record that end the request (no place left, no quota rights): recorded.
RECORD_REFUSALS: dict[str, c.PlaceRefusal] = {
    "LabourQuotaExhausted": "quota_exhausted",
    "EmployerSuspended": "employer_suspended",
}


@workflow.defn(name=eapi.WORKFLOW_NAME)
class EmployerPermitWorkflow(TakesInput):
    @workflow.init
    def __init__(self, inp: eapi.LabourInput) -> None:
        clock = CaseClock(
            origin=workflow.now(), seconds_per_year=inp.seconds_per_year or SECONDS_PER_YEAR
        )
        run = RequestRun(clock=clock, writer=workflow.info().run_id)
        self.req = self.subject = Request(inp, run)

    @workflow.run
    async def run(self, inp: eapi.LabourInput) -> eapi.LabourResult:
        req, rt = self.req, self.req.rt
        self.rules = RuleChanges(RULE_CHANGES, req.run.rules, continued=False)
        try:
            async with rt.lock:
                # The employer's keyed id, from the worker (the key is a secret: never in
                # workflow code); recorded with the request, shown instead of the BIN.
                keyed = await rt.ask_store(
                    LabourActivities.pseudonymise_employer,
                    EmployerKeyInput(
                        request_id=inp.request_id, employer_id=inp.request.employer_id
                    ),
                    summary="employer's keyed id",
                )
                policy = await self._version(inp.request.region)
                submit = c.SubmitRequest(
                    request_id=inp.request_id,
                    request=inp.request,
                    employer_key=keyed.employer_key,
                    policy_id=policy.id,
                )
                await req.record(submit)
        except RecordPausedError as exc:
            if not str(exc).startswith("ConcurrencyConflict"):
                raise
            # Another request holds this id in the record (started again by another tool).
            req.refused_at_submission = True
            await workflow.wait_condition(workflow.all_handlers_finished)
            used = f"request_id: {inp.request_id} is already used by a request in the record"
            return self._result(closed_reason="refused", detail=used)
        except DomainError as exc:  # nothing is recorded for a request that is not one
            req.refused_at_submission = True
            await workflow.wait_condition(workflow.all_handlers_finished)
            return self._result(closed_reason="refused", detail=exc.reason)
        while not req.closed and not self._monitored():
            async with rt.lock:
                await self._step()
        if not req.closed and req.state.exit_by is not None:
            await self._exit()
        await workflow.wait_condition(workflow.all_handlers_finished)
        s = req.state
        return self._result(closed_reason=s.closed_reason or "refused", detail=s.closed_detail)

    async def _version(self, region: Region) -> Policy:
        """The version in force in the request's region today (docs/decisions/024). No
        version in force: refused, nothing recorded."""
        try:
            policy: Policy = await self.req.rt.policy_version(region)
        except NoPolicyInForce as exc:
            raise InvalidCommandError("no_policy_in_force", str(exc)) from None
        return policy

    def _result(self, *, closed_reason: str, detail: str) -> eapi.LabourResult:
        return eapi.LabourResult(
            request_id=self.req.inp.request_id,
            closed_reason=closed_reason,
            detail=detail,
            events=self.req.run.seq,
        )

    # ---- the steps (each under the request's lock) ---------------------------------------
    async def _step(self) -> None:
        """The step of the request's stage: what the record holds decides what comes next (a
        retried task may find more recorded than the step it retries)."""
        s = self.req.state
        if s.stage == "shortage":
            await self._shortage()
        elif s.stage == "quota":
            await self._reserve()
        elif s.stage == "checks" and set(s.checks) != set(LABOUR_AUTHORITIES):
            await self._checks()
        elif s.stage == "checks":
            await self._permit()
        else:
            await self._monitor()

    def _monitored(self) -> bool:
        """The permit's reviews are over (the request closes with the last, or waits for the
        worker's exit)."""
        req = self.req
        return (
            req.state.stage == "permit"
            and labour_agenda.next_review(req.state, req.rules()) is None
        )

    async def _shortage(self) -> None:
        req, r = self.req, self.req.inp.request
        on = req.rt.today()  # the day asked about: the answer is as of then, however late
        answer = await req.rt.call(
            LabourActivities.check_vacancy,
            VacancyInput(
                request_id=req.inp.request_id,
                reference=r.vacancy_reference,
                employer_id=r.employer_id,
                industry=r.industry,
                region=r.region,
                on=on,
            ),
            summary="vacancy on the domestic labour market",
        )
        await req.record(c.RecordVacancy(vacancy=answer.vacancy, on=on))

    async def _reserve(self) -> None:
        try:
            await self.req.record(c.ReservePlace(year=self.req.rt.now().year))
        except (ActivityError, ApplicationError) as exc:
            found = refusal(exc)
            if found is None or found.type not in RECORD_REFUSALS:
                raise
            rule = RECORD_REFUSALS[found.type]
            await self.req.record(c.RefusePlace(rule=rule, reason=found.message))

    async def _checks(self) -> None:
        req = self.req
        results = await asyncio.gather(
            *(
                req.rt.call(
                    LabourActivities.screen_worker,
                    ScreeningInput(
                        request_id=req.inp.request_id, worker=req.inp.request.worker, authority=a
                    ),
                    summary=f"{a} screening of the worker",
                )
                for a in LABOUR_AUTHORITIES
            )
        )
        checks = tuple(
            c.WorkerCheck(authority=x.authority, outcome=x.outcome, reason=x.reason)
            for x in results
        )
        await req.record(c.RecordWorkerChecks(results=checks))

    async def _permit(self) -> None:
        number = await self.req.rt.call(
            VerificationActivities.issue_permit,
            m.IssueInput(case_id=self.req.workflow_id),
            summary="issue work permit",
        )
        await self.req.record(c.IssueWorkPermit(number=number.number))

    async def _monitor(self) -> None:
        """Reviews at the policy's interval until the permit ends; a staff fact applied
        between them may end it sooner (an early end, a violation)."""
        req, rt = self.req, self.req.rt
        while (review := labour_agenda.next_review(req.state, req.rules())) is not None:
            if await rt.wait(review, label=f"obligations review {review.isoformat()}"):
                continue  # a staff fact was decided meanwhile: the agenda is asked again
            s, r = req.state, req.inp.request
            assert s.valid_from is not None
            report = await rt.call(
                LabourActivities.employment_report,
                EmploymentInput(
                    request_id=req.inp.request_id,
                    permit_from=s.valid_from,
                    offered_wage_tiyn=r.monthly_wage_tiyn,
                    on=rt.today(),
                ),
                summary="employment review",
            )
            await req.record(c.RecordReview(report=report))

    async def _exit(self) -> None:
        """The worker's exit, checked with border control at the date it was ordered for."""
        req, rt = self.req, self.req.rt
        exit_by = req.state.exit_by
        assert exit_by is not None
        await rt.wait_for(lambda: False, exit_by, label="exit ordered by")
        days = req.rules().exit_days + 1
        departure = await rt.call(
            VerificationActivities.check_departure,
            m.DepartureCheckInput(
                case_id=req.workflow_id, since=exit_by - timedelta(days=days), until=rt.today()
            ),
            summary="border: did the worker leave",
        )
        async with rt.lock:
            await req.record(c.RecordExit(departed_on=departure.departed_on))

    @workflow.query(name=eapi.QUERY_STATUS)
    def status(self) -> eapi.LabourStatus:
        req = self.req
        r, s = req.inp.request, req.state
        return eapi.LabourStatus(
            request_id=req.inp.request_id,
            stage=s.stage,
            industry=r.industry,
            region=r.region,
            project=r.project,
            employer_key=s.employer_key,
            policy_id=s.policy_id or "",
            case_time=req.rt.now(),
            waiting_for=labour_agenda.waiting_for(s),
            checks=s.checks,
            permit_number=s.permit_number,
            valid_until=s.valid_until,
            next_review=labour_agenda.next_review(s, req.rules()),
            reviews=s.reviews,
            violations=s.violations,
            employer_fine_tiyn=s.fine_tiyn,
            quota_rights_suspended_until=s.quota_rights_suspended_until,
            worker_exit_by=s.exit_by,
            refused_rule=s.refused_rule,
            closed_reason=s.closed_reason,
            closed_detail=s.closed_detail,
            events=req.run.seq,
            refused=tuple(req.run.inputs.refused),
            fingerprints=req.run.fingerprints,
        )
