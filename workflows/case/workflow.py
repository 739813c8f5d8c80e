"""ApplicantWorkflow: one applicant's case from entry to exit, for as long as it lives.

Orchestration only: every rule is asked of domain/ (decide, agenda), every side effect is an
activity. The main loop runs the step of the case's stage under the case's lock; staff input
arrives by signal or validated update (workflows/handlers.py), is parsed once, and is applied
under the same lock, between steps or while a step waits, so appends stay ordered and a bad
input never breaks the case.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import agenda
    from domain import commands as cmd
    from domain.application import Application, intake_problems
    from domain.clock import SECONDS_PER_YEAR, CaseClock
    from domain.policy import POLICIES, Policy, register
    from domain.record import reserved_case_id
    from workflows import api
    from workflows.case.state import RunState

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.case.before_permit import procedure_limit
from workflows.case.core import Case
from workflows.case.steps import STEPS, exit_check
from workflows.decision_lock import WATCH, as_branch
from workflows.handlers import TakesInput
from workflows.runtime import NoPolicyInForce, RecordPausedError, RuleChanges

# Rule changes under running cases (workflow.patched ids; docs/decisions/005): none since the
# first release. The first one is added here and asked with `self.rules.follows(id)`.
RULE_CHANGES: tuple[str, ...] = ()
BUILT_IN = {p.id for p in POLICIES}


LONG_LIVED = ("monitoring", "repayment", "residence")


@workflow.defn(name=api.WORKFLOW_NAME)
class ApplicantWorkflow(TakesInput):
    @workflow.init
    def __init__(self, inp: api.CaseInput) -> None:
        if inp.snapshot is not None:
            run = RunState.model_validate(inp.snapshot)
            if run.policy is not None:
                register(run.policy)  # a published version: known before it is read
        else:
            clock = CaseClock(
                origin=workflow.now(), seconds_per_year=inp.seconds_per_year or SECONDS_PER_YEAR
            )
            run = RunState(
                clock=clock,
                human_floor_seconds=inp.human_floor_seconds,
                writer=workflow.info().run_id,
            )
        self.case = self.subject = Case(run)

    @workflow.run
    async def run(self, inp: api.CaseInput) -> api.CaseResult:
        case, rt = self.case, self.case.rt
        self.rules = RuleChanges(RULE_CHANGES, case.run.rules, continued=inp.snapshot is not None)
        if case.state.stage == "new":
            problems = intake_problems(inp.application, rt.today())
            if (reserved := reserved_case_id(inp.case_id)) is not None:
                problems.append(("case_id", reserved))
            if problems:
                refused = self._refused_at_intake(inp, problems)
                await workflow.wait_condition(workflow.all_handlers_finished)
                return refused
            try:
                async with rt.lock:
                    policy = await self._version(inp.application)
                    await case.record(
                        cmd.SubmitApplication(
                            case_id=inp.case_id, application=inp.application, policy_id=policy.id
                        )
                    )
            except NoPolicyInForce as exc:
                refused = self._refused_at_intake(inp, [("application", str(exc))])
                await workflow.wait_condition(workflow.all_handlers_finished)
                return refused
            except RecordPausedError as exc:
                if not str(exc).startswith("ConcurrencyConflict"):
                    raise
                # Another case holds this id in the record (a tool other than kosh's started
                # a closed case's id again): this run records nothing and says so.
                taken = [("case_id", f"{inp.case_id} is already used by a case in the record")]
                refused = self._refused_at_intake(inp, taken)
                await workflow.wait_condition(workflow.all_handlers_finished)
                return refused
        # the scoring pilot's limit, watched beside the steps until the case is decided
        watch = asyncio.create_task(as_branch(WATCH, "procedure-limit", procedure_limit(case)))
        while not case.closed:
            async with rt.lock:
                if not case.closed:
                    await STEPS[case.state.stage](case)
            if watch.done():
                watch.result()  # a watch that failed (the record paused) fails this task too
            if self._should_continue_as_new():
                await watch  # done: a long-lived stage is past the decision
                await workflow.wait_condition(workflow.all_handlers_finished)
                if case.closed:
                    break
                case.run.run_year = None
                case.run.clock = rt.carried_clock()
                workflow.continue_as_new(
                    api.CaseInput(
                        case_id=inp.case_id,
                        application=inp.application,
                        snapshot=case.run.model_dump(mode="json"),
                    )
                )
        await watch  # the case closed: the watch has ended
        async with rt.lock:
            await exit_check(case)
        # Input that arrives as the case closes is answered (refused: the case is closed).
        await workflow.wait_condition(workflow.all_handlers_finished)
        s = case.state
        return api.CaseResult(
            case_id=s.case_id,
            closed_reason=s.closed_reason or "",
            detail=s.closed_detail,
            events=case.run.seq,
            support_paid_tiyn=s.paid_tiyn,
            repaid_tiyn=s.repaid_tiyn,
        )

    def _should_continue_as_new(self) -> bool:
        """Hand over at each case-year boundary of a long-lived stage (or when told to)."""
        case = self.case
        if case.closed or case.state.stage not in LONG_LIVED:
            return False
        year = case.rt.now().year
        if case.run.run_year is None:
            case.run.run_year = year
            return workflow.info().is_continue_as_new_suggested()
        return year != case.run.run_year or workflow.info().is_continue_as_new_suggested()

    async def _version(self, application: Application) -> Policy:
        """The version in force where the case applies (a kandas family: its first preferred
        region; the general track: the rest of the country's) on its application date; a
        published one is carried on in the case's state."""
        region = application.preferred_regions[0] if application.preferred_regions else None
        policy: Policy = await self.case.rt.policy_version(region)
        if policy.id not in BUILT_IN:
            self.case.run.policy = policy
        return policy

    def _refused_at_intake(
        self, inp: api.CaseInput, problems: list[tuple[str, str]]
    ) -> api.CaseResult:
        """An application started by a tool other than kosh's that the intake desk would refuse:
        nothing is recorded; the result and the status say why, field by field."""
        detail = "; ".join(f"{field}: {rule}" for field, rule in problems)
        self.case.refused_at_intake = True
        self.case.run.inputs.refuse("application", "invalid_application", detail)
        return api.CaseResult(
            case_id=inp.case_id,
            closed_reason="refused_at_intake",
            detail=detail,
            events=0,
            support_paid_tiyn=0,
            repaid_tiyn=0,
        )

    @workflow.query(name=api.QUERY_STATUS)
    def status(self) -> api.CaseStatus:
        case = self.case
        s, b, log = case.state, case.state.breakdown, case.run.inputs
        return api.CaseStatus(
            case_id=s.case_id,
            stage=s.stage,
            track=s.track,
            policy_id=s.policy_id,
            region=s.region,
            case_time=case.rt.now(),
            waiting_for=agenda.waiting_for(s),
            score_total=b.total if b else None,
            decision=b.decision if b else None,
            decision_reasons=b.reasons if b else (),
            breakdown=b,
            deadlines=agenda.deadlines(s, case.run.timers),
            procedure_flags=s.procedure_flags,
            contract_ends_on=s.contract_ends_on,
            support_paid_tiyn=s.paid_tiyn,
            outstanding_tiyn=s.outstanding_tiyn,
            payments=s.payments,
            repayment_due_on=s.repayment_due_on if s.stage == "repayment" else None,
            closed_reason=s.closed_reason,
            closed_detail=s.closed_detail,
            events=case.run.seq,
            refused=tuple(log.refused),
            refused_total=log.refused_total,
            fingerprints=case.run.fingerprints,
        )
