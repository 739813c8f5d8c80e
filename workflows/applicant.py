"""ApplicantWorkflow: one applicant's case from entry to exit, for as long as it lives.

Orchestration only: every rule is asked of domain/ (decide, agenda), every side effect is an
activity. Staff input arrives by signal or validated update, is queued, and is applied by the
main loop between steps, so appends stay ordered and a bad input never breaks the case.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.events import EventActivities
    from activities.payments import PaymentActivities
    from activities.staff import RegistryActivities, StaffActivities
    from activities.verification import VerificationActivities
    from adapters.ports import StaffNotice
    from domain import commands as cmd
    from domain import events as ev
    from domain.agenda import (
        arrival_deadline,
        interview_deadline,
        interview_reminder_after,
        language_retake_on,
        next_language_attempt,
        next_rescreening,
        next_residence_check,
        next_wakeup,
        repayment_referral_on,
        support_due,
    )
    from domain.application import intake_problems
    from domain.case import fold
    from domain.clock import SECONDS_PER_YEAR, CaseClock
    from domain.decider import AUTHORITIES, checks_complete, decide, early_rejection
    from domain.errors import DomainError
    from domain.policy import policy_by_id
    from workflows import api, inbox
    from workflows.inbox import Actor
    from workflows.options import (
        ADAPTER_RETRY,
        ADAPTER_TIMEOUT,
        DEMO_TIMEOUT,
        LOCAL_TIMEOUT,
        STORE_TIMEOUT,
    )
    from workflows.shared import ask_store, local_first, pause_reason, upsert_changed
    from workflows.shared import refusal as refusal_of
    from workflows.state import InboxItem, RunState


# Rule changes under running cases (workflow.patched). Each is decided once, when the case
# starts, and carried across continue-as-new: a case started before the change keeps the old
# behaviour for life, a new case gets the new one. See docs/decisions/005.
#
# 2026-11-deadlines: every wait on someone else has a deadline. Authorities reply
# asynchronously and an unanswered check becomes a referral at its due date; a missed
# interview is escalated to a supervisor before it rejects; an undecided referral reminds
# staff each decision window; the next deadline is published as KoshNextDeadline.
DEADLINES = "2026-11-deadlines"
# Every staff fact names its actor, checked against the registry (interviews and referral
# decisions were checked from DEADLINES on); and an application the intake desk would refuse
# (started by a tool other than kosh's) closes the case before anything is recorded.
ACTORS = "2026-11-actors"
# A decision upserts only the search attributes whose values it changed (none: no upsert), not
# all of them again: each upsert is a history event and a visibility write on the server.
CHANGED_ATTRIBUTES = "2026-11-changed-attributes"
# The business record (append_events) and the staff registry (check_actor) are asked from the
# worker that runs the workflow task (local activities): no activity task through the server,
# no workflow task to take the result, one marker in the history instead of three events and
# a task. If the quick attempts fail for a reason retrying may cure, the same call goes out as
# an ordinary activity and retries for as long as it takes.
LOCAL_RECORD = "2026-11-local-record"
RULE_CHANGES = (DEADLINES, ACTORS, CHANGED_ATTRIBUTES, LOCAL_RECORD)


REFUSALS_KEPT = 50


class CasePausedError(RuntimeError):
    """The business record refused an append; the case waits for people to mend it."""


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@workflow.defn(name=api.WORKFLOW_NAME)
class ApplicantWorkflow:
    @workflow.init
    def __init__(self, inp: api.CaseInput) -> None:
        if inp.snapshot is not None:
            self.run_state = RunState.model_validate(inp.snapshot)
        else:
            clock = CaseClock(
                origin=workflow.now(), seconds_per_year=inp.seconds_per_year or SECONDS_PER_YEAR
            )
            self.run_state = RunState(clock=clock, human_floor_seconds=inp.human_floor_seconds)
        self.lock = asyncio.Lock()

    # ---- time ----------------------------------------------------------------------------
    @property
    def state(self) -> Any:
        return self.run_state.case

    def now(self) -> datetime:
        """Case time (the policy calendar)."""
        return self.run_state.clock.case_time(workflow.now())

    def _delay_until(self, day: date | None, *, human: bool = False) -> float | None:
        if day is None:
            return None
        case_delta = _midnight(day) - self.now() + timedelta(seconds=1)
        wall = self.run_state.clock.wall_delay(case_delta).total_seconds()
        if human and self.run_state.clock.speedup > 1:
            wall = max(wall, self.run_state.human_floor_seconds)
        return max(wall, 0.001)

    async def _wait(self, until: date | None, *, human: bool = False, label: str) -> bool:
        """Wait for staff input or `until`; True when input is waiting."""
        delay = self._delay_until(until, human=human)
        try:
            await workflow.wait_condition(
                lambda: bool(self.run_state.inbox), timeout=delay, timeout_summary=label
            )
        except TimeoutError:
            return False
        return True

    # ---- decisions and the record --------------------------------------------------------
    async def _decide(self, command: cmd.Command, *, unless_closed: bool = False) -> list[ev.Event]:
        """Decide, append to the business record, then fold. Raises DomainError on refusal.
        `unless_closed`: a check's result that finds the case closed is dropped, not refused."""
        async with self.lock:
            if unless_closed and self.state.is_closed:
                return []
            events = decide(self.state, command, now=self.now())
            if events:
                await self._append(events)
                self.run_state.case = fold(events, self.state)
                self._publish()
                self._measure(events)
            return events

    def _measure(self, events: list[ev.Event]) -> None:
        """kosh's business metrics (the SDK's meter: nothing is counted while replaying)."""
        meter = workflow.metric_meter()
        recorded = meter.create_counter("kosh_events", "events recorded, by type")
        for e in events:
            recorded.add(1, {"type": e.type})
            if isinstance(e, ev.SupportPaid):
                meter.create_counter("kosh_support_paid_tiyn", "support paid", "tiyn").add(
                    e.amount_tiyn, {"measure": e.measure}
                )
            elif isinstance(e, ev.RepaymentDemanded):
                meter.create_counter("kosh_repayment_demanded_tiyn", "clawback", "tiyn").add(
                    e.amount_tiyn
                )
            elif isinstance(e, ev.RepaymentReceived):
                meter.create_counter("kosh_repaid_tiyn", "repayments received", "tiyn").add(
                    e.amount_tiyn
                )
            elif isinstance(e, ev.CaseClosed):
                meter.create_counter("kosh_cases_closed", "cases closed, by reason").add(
                    1, {"reason": e.reason, "track": self.state.track or ""}
                )

    async def _append(self, events: list[ev.Event]) -> None:
        pending = tuple(
            m.PendingEvent(
                event_id=str(workflow.uuid4()),
                event=e,
                idempotency_key=getattr(e, "idempotency_key", None),
            )
            for e in events
        )
        request = m.AppendInput(
            case_id=self.state.case_id or self._case_id(events),
            expected_seq=self.run_state.seq,
            events=pending,
        )
        summary = f"append {', '.join(e.type for e in events)}"
        try:
            result = await ask_store(
                EventActivities.append_events,
                request,
                summary=summary,
                local=self._follows(LOCAL_RECORD),
                local_timeout=self._timeout(LOCAL_TIMEOUT),
                store_timeout=self._timeout(STORE_TIMEOUT),
            )
        except (ActivityError, ApplicationError) as exc:
            if (reason := pause_reason(exc)) is not None:
                # Not a FailureError: fails the workflow task, so the case waits, intact.
                raise CasePausedError(reason) from None
            raise
        self.run_state.seq = result.last_seq

    @staticmethod
    def _case_id(events: list[ev.Event]) -> str:
        first = events[0]
        assert isinstance(first, ev.ApplicationSubmitted)
        return first.case_id

    def _publish(self) -> None:
        s = self.state
        pairs: list[Any] = [
            api.SA_STAGE.value_set(s.stage),
            api.SA_POLICY.value_set(s.policy_id),
        ]
        if s.track:
            pairs.append(api.SA_TRACK.value_set(s.track))
        if s.region:
            pairs.append(api.SA_REGION.value_set(s.region))
        if s.breakdown is not None:
            pairs.append(api.SA_SCORE.value_set(s.breakdown.total))
        if s.contract_ends_on is not None:
            pairs.append(api.SA_CONTRACT_END.value_set(_midnight(s.contract_ends_on)))
        if s.closed_reason:
            pairs.append(api.SA_CLOSE_REASON.value_set(s.closed_reason))
        if self._follows(DEADLINES):
            word = self._waiting_word()
            if word != self.run_state.waiting_word:
                self.run_state.waiting_word, self.run_state.waiting_since = word, self.now()
            pairs.append(api.SA_WAITING_FOR.value_set(word))
            if self.run_state.waiting_since is not None:
                pairs.append(api.SA_WAITING_SINCE.value_set(self.run_state.waiting_since))
        deadlines = self._deadlines() if self._follows(DEADLINES) else {}
        if deadlines:
            # Never unset (the time-skipping server stores an unset Datetime as null): an open
            # case always has one, except for the minutes its activities take.
            pairs.append(api.SA_NEXT_DEADLINE.value_set(_midnight(min(deadlines.values()))))
        if self._follows(CHANGED_ATTRIBUTES):
            upsert_changed(pairs)
        else:
            workflow.upsert_search_attributes(pairs)
        workflow.set_current_details(self._details())

    def _follows(self, change: str) -> bool:
        return self.run_state.rules.get(change, False)

    def _refresh(self) -> None:
        """Publish a deadline set outside a decision (cases under the old rules: details only,
        as their histories hold no upsert here)."""
        if self._follows(DEADLINES):
            self._publish()
        else:
            workflow.set_current_details(self._details())

    def _details(self) -> str:
        s = self.state
        lines = [
            f"**Stage:** {s.stage}  ",
            f"**Track:** {s.track or '-'}  **Policy:** {s.policy_id}  ",
            f"**Case date:** {self.now().date().isoformat()}  ",
            f"**Waiting for:** {self._waiting_for()}  ",
        ]
        if s.breakdown is not None:
            lines.append(f"**Score:** {s.breakdown.total} ({s.breakdown.decision})  ")
        if s.contract_ends_on is not None:
            lines.append(f"**Contract:** {s.region}, ends {s.contract_ends_on.isoformat()}  ")
        if s.closed_reason:
            # The detail may hold staff's free text (a name, say): never published in the UI.
            lines.append(f"**Closed:** {s.closed_reason}")
        return "\n".join(lines)

    def _deadlines(self) -> dict[str, date]:
        """Who owes the case what, by when (case dates): the status query and KoshNextDeadline."""
        s, rs = self.state, self.run_state
        out: dict[str, date] = {}
        if s.is_closed:
            return out
        if s.stage == "scoring":
            for request in s.authority_requests:
                if s.authority_gate(request.name) is None:
                    out[f"{request.name}_reply"] = request.due_on
            if checks_complete(s) and s.interview is None and rs.interview_deadline is not None:
                out["interview"] = rs.interview_deadline
        if s.stage == "relocation" and s.region and s.arrived_on is None and rs.arrival_deadline:
            out["arrival"] = rs.arrival_deadline
        if s.stage == "referral" and rs.referral_deadline is not None:
            out["referral_decision"] = rs.referral_deadline
        if s.stage == "monitoring":
            if s.discrepancy_confirm_on is not None:
                out["residence_confirmation"] = s.discrepancy_confirm_on
            if (check := next_residence_check(s)) is not None:
                out["residence_check"] = check
            if s.contract_ends_on is not None:
                out["contract_end"] = s.contract_ends_on
        if s.stage == "residence":
            if (due := next_rescreening(s)) is not None:
                out["rescreening"] = due
            if s.permit_valid_until is not None:
                out["permit_term_end"] = s.permit_valid_until
        if s.stage == "repayment" and s.repayment_due_on is not None:
            out["repayment"] = s.repayment_due_on
        return out

    def _waiting_word(self) -> str:
        """`_waiting_for` as one of api.WAITING_FOR (a search attribute, no free text)."""
        text = self._waiting_for()
        for word, starts in (
            ("authorities", "authority replies"),
            ("timer", "timer until"),
            ("nothing", "nothing"),
        ):
            if text.startswith(starts):
                return word
        return text if text in api.WAITING_FOR else "activities"

    def _waiting_for(self) -> str:
        s = self.state
        if s.is_closed:
            return "nothing (closed)"
        if s.stage == "scoring" and not checks_complete(s):
            awaited = [r.name for r in s.authority_requests if s.authority_gate(r.name) is None]
            if awaited:
                return f"authority replies: {', '.join(awaited)}"
        if s.stage == "scoring" and checks_complete(s) and s.interview is None:
            return "interview"
        if s.stage == "referral":
            return "referral_decision"
        if s.stage == "relocation" and s.region is not None and s.arrived_on is None:
            return "arrival"
        if s.stage == "repayment":
            return "repayment"
        wake = next_wakeup(s)
        return f"timer until {wake.isoformat()}" if wake else "activities"

    # ---- staff input ---------------------------------------------------------------------
    def _refuse(self, item: InboxItem, rule: str, reason: str) -> api.UpdateResult:
        return self._refusal(item.name, item.received_at, rule, reason)

    def _refusal(
        self, name: str, received_at: datetime, rule: str, reason: str
    ) -> api.UpdateResult:
        # The newest refusals are kept (a flood of bad signals cannot grow the state, and so
        # the history and the continue-as-new snapshot, without bound); all are counted.
        rs = self.run_state
        rs.refused.append(
            api.RefusedInput(received_at=received_at, name=name, rule=rule, reason=reason[:500])
        )
        del rs.refused[:-REFUSALS_KEPT]
        rs.refused_total += 1
        workflow.metric_meter().create_counter(
            "kosh_inputs_refused", "staff and agency input refused, by rule"
        ).add(1, {"input": name, "rule": rule})
        workflow.logger.info("staff input refused", extra={"rule": rule})
        return api.UpdateResult(accepted=False, reason=f"{rule}: {reason}")

    def _command_for(self, item: InboxItem) -> tuple[cmd.Command, str | None, Actor | None]:
        """The command an input asks for, its request id, and the actor the registry must
        confirm (None: nobody to check, under the rules this case follows)."""
        if item.name == "interview":
            outcome = inbox.parse_interview(item.raw)
            checked = inbox.interview_actor(outcome) if self._follows(DEADLINES) else None
            return inbox.interview_command(outcome), outcome.request_id, checked
        if item.name == "authority":
            reply = inbox.parse_authority_reply(item.raw)
            return inbox.authority_command(reply), None, None
        fact = inbox.parse_fact(item.raw)
        command = inbox.fact_command(fact)
        actor: Actor | None
        if self._follows(ACTORS):
            actor = inbox.fact_actor(fact)
        elif self._follows(DEADLINES) and isinstance(command, cmd.ResolveReferral):
            actor = Actor(command.officer_id, inbox.OFFICER)
        else:
            actor = None
        return command, fact.request_id, actor

    async def _settle_inbox(self) -> None:
        """Apply queued input until no handler is running and nothing is queued."""
        while True:
            await self._drain_inbox()
            await workflow.wait_condition(
                lambda: workflow.all_handlers_finished() or bool(self.run_state.inbox)
            )
            if not self.run_state.inbox:
                return

    async def _drain_inbox(self) -> None:
        while self.run_state.inbox:
            item = self.run_state.inbox.pop(0)
            result = await self._apply_input(item)
            if item.update_id is not None:
                self.run_state.request_results[item.update_id] = result

    async def _apply_input(self, item: InboxItem) -> api.UpdateResult:
        try:
            command, request_id, actor = self._command_for(item)
        except DomainError as exc:
            return self._refuse(item, exc.rule, exc.reason)
        if request_id is not None and request_id in self.run_state.request_results:
            return self._refuse(item, "duplicate_request", f"request {request_id} already applied")
        refused = await self._unauthorised(actor)
        if refused is not None:
            return self._refuse(item, "actor_not_authorised", refused)
        try:
            await self._decide(command)
        except DomainError as exc:
            return self._refuse(item, exc.rule, exc.reason)
        result = api.UpdateResult(accepted=True)
        if request_id is not None:
            self.run_state.request_results[request_id] = result
        return result

    async def _unauthorised(self, actor: Actor | None) -> str | None:
        """Why the actor may not do this (None: they may), asked of the staff registry."""
        if actor is None or self.state.is_closed:
            return None  # a closed case: the decider refuses it, with the reason that matters
        role, *others = actor.roles
        request = m.ActorCheckInput(
            case_id=self.state.case_id, staff_id=actor.staff_id, role=role, or_roles=tuple(others)
        )
        summary = f"check {' or '.join(actor.roles)}"
        check = await local_first(
            RegistryActivities.check_actor,
            request,
            summary=summary,
            timeout=self._timeout(LOCAL_TIMEOUT),
            local=self._follows(LOCAL_RECORD),
            otherwise=lambda: self._activity(
                RegistryActivities.check_actor, request, summary=summary
            ),
        )
        return None if check.authorised else check.reason

    def _dry_run(self, item: InboxItem) -> None:
        """Update validator: refuse now what the case would refuse (nothing is recorded)."""
        command, request_id, _ = self._command_for(item)
        if request_id is not None and request_id in self.run_state.request_results:
            return  # a retried update: the handler answers with the first result
        decide(self.state, command, now=self.now())

    def _receive(self, name: Any, args: tuple[Any, ...]) -> None:
        # Exactly one JSON argument is expected; anything else is kept and refused by
        # validation (a list is never a valid input), never a failed workflow task.
        raw = args[0] if len(args) == 1 else list(args)
        self.run_state.inbox.append(InboxItem(name=name, raw=raw, received_at=workflow.now()))

    @workflow.signal(name=api.SIGNAL_INTERVIEW)
    def record_interview(self, *args: Any) -> None:
        self._receive("interview", args)

    @workflow.signal(name=api.SIGNAL_FACT)
    def record_fact(self, *args: Any) -> None:
        self._receive("fact", args)

    async def _update(self, name: Any, raw: Any) -> api.UpdateResult:
        info = workflow.current_update_info()
        update_id = info.id if info else str(workflow.uuid4())
        request_id = (raw or {}).get("request_id") if isinstance(raw, dict) else None
        if request_id and request_id in self.run_state.request_results:
            return self.run_state.request_results[request_id]
        item = InboxItem(name=name, raw=raw, received_at=workflow.now(), update_id=update_id)
        self.run_state.inbox.append(item)
        await workflow.wait_condition(lambda: update_id in self.run_state.request_results)
        return self.run_state.request_results.pop(update_id)

    @workflow.signal(name=api.SIGNAL_AUTHORITY)
    def record_authority_reply(self, *args: Any) -> None:
        """An authority's reply: handed to the check awaiting it, else applied (and most
        likely refused: late, duplicate, unknown) by the main loop like any other input."""
        raw = args[0] if len(args) == 1 else list(args)
        item = InboxItem(name="authority", raw=raw, received_at=workflow.now())
        try:
            reply = inbox.parse_authority_reply(raw)
        except DomainError as exc:
            self._refuse(item, exc.rule, exc.reason)
            return
        s = self.state
        awaited = (
            s.stage == "scoring"
            and s.authority_gate(reply.authority) is None
            and reply.authority not in self.run_state.authority_replies
        )
        if awaited:
            self.run_state.authority_replies[reply.authority] = item
        else:
            self.run_state.inbox.append(item)

    @workflow.update(name=api.UPDATE_INTERVIEW)
    async def submit_interview(self, raw: Any) -> api.UpdateResult:
        return await self._update("interview", raw)

    @submit_interview.validator
    def _validate_interview(self, raw: Any) -> None:
        self._validate("interview", raw)

    @workflow.update(name=api.UPDATE_FACT)
    async def submit_fact(self, raw: Any) -> api.UpdateResult:
        return await self._update("fact", raw)

    @submit_fact.validator
    def _validate_fact(self, raw: Any) -> None:
        self._validate("fact", raw)

    def _validate(self, name: Any, raw: Any) -> None:
        try:
            self._dry_run(InboxItem(name=name, raw=raw, received_at=workflow.now()))
        except DomainError as exc:
            # str() of this error reads "rule: reason"; the type lets tools branch on the rule.
            raise ApplicationError(exc.reason, type=exc.rule, non_retryable=True) from None

    @workflow.query(name=api.QUERY_STATUS)
    def status(self) -> api.CaseStatus:
        s = self.state
        b = s.breakdown
        return api.CaseStatus(
            case_id=s.case_id,
            stage=s.stage,
            track=s.track,
            policy_id=s.policy_id,
            region=s.region,
            case_time=self.now(),
            waiting_for=self._waiting_for(),
            score_total=b.total if b else None,
            decision=b.decision if b else None,
            decision_reasons=b.reasons if b else (),
            breakdown=b,
            deadlines=self._deadlines(),
            contract_ends_on=s.contract_ends_on,
            support_paid_tiyn=s.paid_tiyn,
            outstanding_tiyn=s.outstanding_tiyn,
            payments=s.payments,
            repayment_due_on=s.repayment_due_on if s.stage == "repayment" else None,
            closed_reason=s.closed_reason,
            closed_detail=s.closed_detail,
            events=self.run_state.seq,
            refused=tuple(self.run_state.refused),
            refused_total=self.run_state.refused_total,
        )

    # ---- the path ------------------------------------------------------------------------
    def _refused_at_intake(
        self, inp: api.CaseInput, problems: list[tuple[str, str]]
    ) -> api.CaseResult:
        """Nothing is recorded (the record keeps no application it could not accept); the
        result and the status say why, field by field."""
        detail = "; ".join(f"{field}: {rule}" for field, rule in problems)
        self._refusal("application", workflow.now(), "invalid_application", detail)
        workflow.logger.info("application refused at intake")
        return api.CaseResult(
            case_id=inp.case_id,
            closed_reason="refused_at_intake",
            detail=detail,
            events=0,
            support_paid_tiyn=0,
            repaid_tiyn=0,
        )

    @workflow.run
    async def run(self, inp: api.CaseInput) -> api.CaseResult:
        for change in RULE_CHANGES:
            if change not in self.run_state.rules:
                # A first run asks (False while replaying a history from before the change);
                # a snapshot without the key comes from a case that predates it.
                first_run = inp.snapshot is None
                self.run_state.rules[change] = first_run and workflow.patched(change)
        if self.state.stage == "new":
            problems = intake_problems(inp.application, self.now().date())
            if problems and self._follows(ACTORS):
                return self._refused_at_intake(inp, problems)
            await self._decide(
                cmd.SubmitApplication(case_id=inp.case_id, application=inp.application)
            )
        stages: dict[str, Callable[[], Awaitable[None]]] = {
            "documents": self._documents,
            "scoring": self._scoring,
            "decision": self._decision,
            "referral": self._referral,
            "permit": self._permit,
            "relocation": self._relocation,
            "monitoring": self._monitoring,
            "repayment": self._repayment,
            "residence": self._residence,
        }
        while not self.state.is_closed:
            await self._drain_inbox()
            if self.state.is_closed:
                break
            await stages[self.state.stage]()
            if self._should_continue_as_new():
                await self._settle_inbox()
                if self.state.is_closed:
                    break
                self.run_state.run_year = None
                workflow.continue_as_new(
                    api.CaseInput(
                        case_id=inp.case_id,
                        application=inp.application,
                        snapshot=self.run_state.model_dump(mode="json"),
                    )
                )
        # Input that arrives as the case closes is answered (refused: the case is closed).
        await self._settle_inbox()
        s = self.state
        return api.CaseResult(
            case_id=s.case_id,
            closed_reason=s.closed_reason or "",
            detail=s.closed_detail,
            events=self.run_state.seq,
            support_paid_tiyn=s.paid_tiyn,
            repaid_tiyn=s.repaid_tiyn,
        )

    def _should_continue_as_new(self) -> bool:
        """Hand over at each case-year boundary of a long-lived stage (or when told to)."""
        if self.state.is_closed or self.state.stage not in ("monitoring", "repayment", "residence"):
            return False
        year = self.now().year
        if self.run_state.run_year is None:
            self.run_state.run_year = year
            return workflow.info().is_continue_as_new_suggested()
        return year != self.run_state.run_year or workflow.info().is_continue_as_new_suggested()

    def _adapter_retry(self) -> RetryPolicy:
        """Temporal's backoff, on the case's clock: with a compressed demo clock, a retry a
        second later would cost the case weeks, so the waits shrink with it (never below
        50 ms; real-time cases use ADAPTER_RETRY as it is)."""
        clock = self.run_state.clock
        if clock.speedup <= 1:
            return ADAPTER_RETRY
        first = min(ADAPTER_RETRY.initial_interval, clock.wall_delay(timedelta(hours=6)))
        first = max(first, timedelta(milliseconds=50))
        return dataclasses.replace(
            ADAPTER_RETRY,
            initial_interval=first,
            maximum_interval=max(clock.wall_delay(timedelta(days=2)), first * 4),
        )

    def _timeout(self, normal: timedelta) -> timedelta:
        """How long an attempt may take before Temporal retries it elsewhere (a worker that
        died mid-call is noticed only then). On a compressed demo clock every second is
        weeks of case time, so attempts are cut at 5 s (the demo's agencies answer in 2)."""
        return normal if self.run_state.clock.speedup <= 1 else min(normal, DEMO_TIMEOUT)

    async def _activity(self, method: Any, arg: Any, *, summary: str) -> Any:
        return await workflow.execute_activity_method(
            method,
            arg,
            start_to_close_timeout=self._timeout(ADAPTER_TIMEOUT),
            retry_policy=self._adapter_retry(),
            # A call to another agency is never abandoned mid-flight: when the checks stop
            # (the case closed meanwhile), the workflow waits for the call's outcome.
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=summary,
        )

    async def _notify(self, kind: Any, message: str, *, once_key: str | None = None) -> None:
        if once_key is not None:
            if once_key in self.run_state.notified:
                return
            self.run_state.notified.append(once_key)
        notice = StaffNotice(case_id=self.state.case_id, kind=kind, message=message)
        await workflow.execute_activity_method(
            StaffActivities.notify_staff,
            m.NotifyInput(notice=notice),
            start_to_close_timeout=self._timeout(ADAPTER_TIMEOUT),
            retry_policy=self._adapter_retry(),
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=f"notify staff: {kind}",
        )

    def _ref(self) -> m.CaseRef:
        assert self.state.application is not None
        return m.CaseRef(case_id=self.state.case_id, application=self.state.application)

    async def _documents(self) -> None:
        result = await self._activity(
            VerificationActivities.verify_documents, self._ref(), summary="verify documents"
        )
        await self._decide(
            cmd.RecordDocumentCheck(authentic=result.authentic, reasons=result.reasons)
        )

    async def _scoring(self) -> None:
        if not checks_complete(self.state):
            checks = asyncio.gather(
                self._language_test(),
                self._decide(cmd.ScoreQuestionnaire(), unless_closed=True),
                *(
                    self._authority(a)
                    for a in AUTHORITIES
                    if a not in {g.name for g in self.state.authority}
                ),
            )
            if self._follows(DEADLINES):
                await self._while_checks_run(checks)
            else:
                await checks
            return
        if early_rejection(self.state):
            await self._decide(cmd.ComputeScore())
            return
        await self._interview()

    async def _while_checks_run(self, checks: asyncio.Future[Any]) -> None:
        """The checks take weeks (retakes, authorities): staff input is applied as it comes.
        A case closed meanwhile (withdrawn, departed, deceased) ends its checks' waits at
        once; a call already made to an agency is let finish, its answer no longer recorded
        (nothing is cancelled mid-flight, so no call outlives the workflow)."""
        while not checks.done():
            await workflow.wait_condition(lambda: checks.done() or bool(self.run_state.inbox))
            await self._drain_inbox()
        await checks

    def _closed(self) -> bool:
        return bool(self.state.is_closed)

    async def _language_test(self) -> None:
        while not self._closed() and (attempt := next_language_attempt(self.state)) is not None:
            if attempt > 1:
                retake = language_retake_on(self.state, self.now().date())
                delay = self._delay_until(retake) or 0.001
                if self._follows(DEADLINES):
                    with contextlib.suppress(TimeoutError):
                        await workflow.wait_condition(
                            self._closed, timeout=delay, timeout_summary="KAZTEST retake wait"
                        )
                else:
                    await workflow.sleep(delay, summary="KAZTEST retake wait")
                if self._closed():
                    return
            result = await self._activity(
                VerificationActivities.sit_language_test,
                m.LanguageTestInput(
                    case_id=self.state.case_id, application=self.state.application, attempt=attempt
                ),
                summary=f"KAZTEST attempt {attempt}",
            )
            await self._decide(
                cmd.RecordLanguageAttempt(attempt=attempt, section_percent=result.section_percent),
                unless_closed=True,
            )

    async def _authority(self, authority: Any) -> None:
        if self._follows(DEADLINES):
            await self._authority_by_reply(authority)
            return
        assert self.state.application is not None
        reply = await self._activity(
            VerificationActivities.check_authority,
            m.AuthorityCheckInput(
                case_id=self.state.case_id, application=self.state.application, authority=authority
            ),
            summary=f"authority check: {authority}",
        )
        await self._decide(
            cmd.RecordAuthorityCheck(
                authority=reply.authority, outcome=reply.outcome, reason=reply.reason
            )
        )

    async def _authority_by_reply(self, authority: Any) -> None:
        """Lodge the check, then wait for the authority's reply until its due date; with no
        reply by then, the check counts as a referral to an officer (never a hang)."""
        s = self.state
        assert s.application is not None
        if s.authority_request(authority) is None:
            ack = await self._activity(
                VerificationActivities.request_authority_check,
                m.AuthorityRequestInput(
                    case_id=s.case_id,
                    application=s.application,
                    authority=authority,
                    request_key=f"{s.case_id}:authority:{authority}",
                ),
                summary=f"ask {authority} for a check",
            )
            await self._decide(
                cmd.RequestAuthorityCheck(authority=authority, reference=ack.reference),
                unless_closed=True,
            )
        replies = self.run_state.authority_replies
        while self.state.authority_gate(authority) is None and not self._closed():
            request = self.state.authority_request(authority)
            assert request is not None
            if authority not in replies:
                try:
                    await workflow.wait_condition(
                        lambda: authority in replies or self._closed(),
                        timeout=self._delay_until(request.due_on, human=True),
                        timeout_summary=f"{authority} reply due {request.due_on.isoformat()}",
                    )
                except TimeoutError:
                    await self._decide(
                        cmd.MarkAuthorityOverdue(authority=authority), unless_closed=True
                    )
                    if self._closed():
                        return
                    await self._notify(
                        "authority_overdue",
                        f"{authority} did not reply by {request.due_on.isoformat()}; referred",
                    )
                    return
                if self._closed():
                    return
            item = replies.pop(authority)
            try:
                command, _, _ = self._command_for(item)
                await self._decide(command)
            except DomainError as exc:
                self._refuse(item, exc.rule, exc.reason)

    async def _interview(self) -> None:
        rs = self.run_state
        if rs.interview_deadline is None or rs.next_reminder is None:
            today = self.now().date()
            rs.interview_deadline = interview_deadline(self.state, today)
            rs.next_reminder = interview_reminder_after(self.state, today)
            self._refresh()
            await self._notify("interview_due", f"interview due by {rs.interview_deadline}")
            return
        until = min(rs.next_reminder, rs.interview_deadline)
        if await self._wait(until, human=True, label="interview deadline"):
            return
        today = self.now().date()
        if today >= rs.interview_deadline:
            escalate = self._follows(DEADLINES)
            if escalate and self.state.interview_escalated_until is None:
                await self._decide(cmd.EscalateInterview(deadline=rs.interview_deadline))
                rs.interview_deadline = self.state.interview_escalated_until
                rs.next_reminder = interview_reminder_after(self.state, today)
                self._refresh()
                await self._notify(
                    "interview_escalated",
                    f"interview deadline passed; a supervisor has until {rs.interview_deadline}",
                )
                return
            await self._notify("interview_overdue", "interview deadline passed")
            await self._decide(cmd.MarkInterviewMissed(deadline=_midnight(rs.interview_deadline)))
        elif today >= rs.next_reminder:
            rs.next_reminder = interview_reminder_after(self.state, today)
            await self._notify("interview_reminder", f"interview due by {rs.interview_deadline}")

    async def _decision(self) -> None:
        await self._decide(cmd.ComputeScore())

    async def _referral(self) -> None:
        if not self._follows(DEADLINES):
            await self._notify(
                "referral_due", "a gate referred this case to an officer", once_key="referral_due"
            )
            await self._wait(None, label="referral decision")
            await self._drain_inbox()
            return
        await self._referral_with_reminders()

    async def _referral_with_reminders(self) -> None:
        """Wait for an officer's decision; remind staff each time the decision window passes
        (a referral is never decided by the clock)."""
        rs = self.run_state
        if rs.referral_deadline is None:
            days = policy_by_id(self.state.policy_id).deadlines.referral_decision_days
            rs.referral_deadline = self.now().date() + timedelta(days=days)
            self._refresh()
            reasons = "; ".join(self.state.breakdown.reasons) if self.state.breakdown else ""
            await self._notify("referral_due", f"referred to an officer: {reasons}")
            return
        if await self._wait(rs.referral_deadline, human=True, label="referral decision due"):
            return
        days = policy_by_id(self.state.policy_id).deadlines.referral_decision_days
        rs.referral_deadline = self.now().date() + timedelta(days=days)
        self._refresh()
        await self._notify(
            "referral_overdue", f"referral still undecided; next {rs.referral_deadline}"
        )

    async def _permit(self) -> None:
        result = await self._activity(
            VerificationActivities.issue_permit,
            m.IssueInput(case_id=self.state.case_id),
            summary="issue residence permit",
        )
        await self._decide(cmd.IssuePermit(permit_number=result.number))

    async def _relocation(self) -> None:
        s = self.state
        if s.kandas_certificate is None:
            result = await self._activity(
                VerificationActivities.grant_kandas_status,
                m.IssueInput(case_id=s.case_id),
                summary="grant kandas status",
            )
            await self._decide(cmd.GrantKandasStatus(certificate_number=result.number))
            return
        if s.region is None:
            await self._reserve_place()
            return
        if s.arrived_on is None:
            await self._await_arrival()
            return
        await self._decide(cmd.SignSocialContract())

    async def _reserve_place(self) -> None:
        assert self.state.application is not None
        year = self.now().year
        tried = []
        for region in self.state.application.preferred_regions:
            tried.append(region)
            try:
                await self._decide(cmd.ReserveQuotaPlace(region=region, year=year))
                return
            except DomainError:
                continue
            except (ActivityError, ApplicationError) as exc:
                refusal = refusal_of(exc)
                if refusal is not None and refusal.type == "QuotaExhausted":
                    continue
                raise
        await self._decide(cmd.GiveUpSupport(regions_tried=tuple(tried)))

    async def _await_arrival(self) -> None:
        rs = self.run_state
        if rs.arrival_deadline is None:
            rs.arrival_deadline = arrival_deadline(self.state, self.now().date())
            self._refresh()
            if self._follows(DEADLINES):
                assert self.state.region is not None
                await self._activity(
                    VerificationActivities.watch_registration,
                    m.WatchInput(
                        case_id=self.state.case_id,
                        region=self.state.region,
                        request_key=f"{self.state.case_id}:registration:{self.state.region}",
                    ),
                    summary=f"watch address registry for {self.state.region}",
                )
            await self._notify("arrival_due", f"arrival in {self.state.region} awaited")
            return
        if not await self._wait(rs.arrival_deadline, human=True, label="arrival deadline"):
            await self._decide(cmd.LapseRelocation())

    async def _monitoring(self) -> None:
        s = self.state
        today = self.now().date()
        for due in support_due(s, today):
            receipt = await self._activity(
                PaymentActivities.disburse_support,
                m.DisburseInput(
                    case_id=s.case_id,
                    idempotency_key=due.idempotency_key,
                    amount_tiyn=due.amount_tiyn,
                    purpose=due.measure,
                ),
                summary=f"pay {due.measure} {due.period}",
            )
            await self._decide(
                cmd.RecordSupportPayment(
                    measure=due.measure,
                    period=due.period,
                    amount_tiyn=due.amount_tiyn,
                    idempotency_key=due.idempotency_key,
                    payment_reference=receipt.reference,
                )
            )
        check = next_residence_check(self.state)
        if check is not None and check <= today:
            # As of the day it was due: a check caught up late (workers or the record away
            # for a while) asks where the family was then, not where it is now.
            await self._residence_check(check if self._follows(ACTORS) else today)
            return
        ends = self.state.contract_ends_on
        if ends is not None and today >= ends and self.state.stage == "monitoring":
            await self._decide(cmd.FulfilContract())
            return
        await self._wait(next_wakeup(self.state), label="next contract obligation")

    async def _residence_check(self, as_of: date) -> None:
        s = self.state
        assert s.region is not None and s.contract_starts_on is not None
        result = await self._activity(
            VerificationActivities.check_residence,
            m.ResidenceCheckInput(
                case_id=s.case_id,
                settled_region=s.region,
                settled_on=s.contract_starts_on,
                on=as_of,
            ),
            summary="verify residence in region",
        )
        events = await self._decide(
            cmd.RecordResidenceCheck(reported_region=result.region, checked_on=as_of)
        )
        if any(isinstance(e, ev.ResidenceDiscrepancyFound) for e in events):
            await self._notify("discrepancy_found", "registered address outside the region")

    async def _repayment(self) -> None:
        s = self.state
        if self._follows(DEADLINES) and s.repayment_invoice is None:
            assert s.repayment_due_on is not None
            issued = await self._activity(
                PaymentActivities.issue_repayment_invoice,
                m.InvoiceInput(
                    case_id=s.case_id,
                    idempotency_key=f"{s.case_id}:repayment:invoice",
                    amount_tiyn=s.outstanding_tiyn,
                    due_on=s.repayment_due_on,
                ),
                summary="invoice the repayment",
            )
            await self._decide(cmd.RecordInvoice(invoice=issued.invoice))
            return
        await self._notify(
            "repayment_due", f"repayment due by {s.repayment_due_on}", once_key="repayment_due"
        )
        if await self._wait(repayment_referral_on(s), human=True, label="repayment due date"):
            return
        if self.state.stage == "repayment":
            await self._decide(cmd.ReferRepayment())

    async def _residence(self) -> None:
        s = self.state
        today = self.now().date()
        if s.permit_valid_until is not None and today >= s.permit_valid_until:
            await self._decide(cmd.EndPermitTerm())
            return
        due = next_rescreening(s)
        if due is not None and due <= today:
            assert s.permit_issued_on is not None
            departed = await self._activity(
                VerificationActivities.check_departure,
                m.DepartureCheckInput(case_id=s.case_id, since=s.permit_issued_on, until=today),
                summary="border crossings",
            )
            if departed.departed_on is not None:
                await self._decide(
                    cmd.RecordDeparture(departed_on=departed.departed_on, source="border")
                )
                return
            await self._authority_rescreen()
            return
        await self._wait(next_wakeup(s), label="next re-screening")

    async def _authority_rescreen(self) -> None:
        reply = await self._activity(
            VerificationActivities.check_authority,
            m.AuthorityCheckInput(
                case_id=self.state.case_id, application=self.state.application, authority="security"
            ),
            summary="periodic re-screening",
        )
        await self._decide(cmd.RecordRescreening(outcome=reply.outcome, reason=reply.reason))
