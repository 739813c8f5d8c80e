"""EmployerPermitWorkflow: one employer's request for one foreign worker's permit, durable
from the request to its end.

request -> shortage proven on the domestic labour market -> a quota place reserved (the
record's atomic ledger, as for kandas places) -> the worker's competent-authority checks ->
permit for the term -> a review of the employer's obligations at the policy's interval ->
the end: the term completed; employment ended early (the place returned to the quota); or a
violation (the employer fined and its quota rights suspended, the worker's permit revoked
and exit ordered, the departure checked at the exit date). Every fact is in the record
(stream labour-<request id>) before the workflow acts on it. Refusals name their rule.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities import models as m
    from activities.labour import (
        EmploymentInput,
        LabourActivities,
        LabourAppendInput,
        PendingLabourEvent,
        ScreeningInput,
        VacancyInput,
    )
    from activities.staff import RegistryActivities
    from activities.verification import VerificationActivities
    from domain import labour as lab
    from domain.clock import SECONDS_PER_YEAR, CaseClock
    from domain.model import tenge
    from domain.policy import Policy, policy_by_id, policy_in_force
    from workflows import api
    from workflows import employer_api as eapi
    from workflows.options import (
        ADAPTER_RETRY,
        ADAPTER_TIMEOUT,
        DEMO_TIMEOUT,
        LOCAL_TIMEOUT,
        STORE_TIMEOUT,
    )
    from workflows.shared import ask_store, pause_reason, upsert_changed
    from workflows.shared import refusal as refusal_of

# Rule change (workflow.patched, decided once per request, see docs/decisions/005): the record
# and the staff registry are asked from the worker (local activities) and a step upserts only
# the search attributes it changed, as a case does from 2026-11-local-record and
# 2026-11-changed-attributes. A request started before it keeps its activities and upserts.
FEWER_EVENTS = "2026-11-employer-fewer-events"

REFUSALS_KEPT = 50
# Refusals of the record that end the request (not a pause): no place, no quota rights.
RECORD_REFUSALS = {
    "LabourQuotaExhausted": "quota_exhausted",
    "EmployerSuspended": "employer_suspended",
}


class RequestPausedError(RuntimeError):
    """The record refused an append for a reason retrying cannot cure: the workflow task
    fails (visible in the UI) and the request waits, intact, until it is mended."""


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@workflow.defn(name=eapi.WORKFLOW_NAME)
class EmployerPermitWorkflow:
    @workflow.init
    def __init__(self, inp: eapi.LabourInput) -> None:
        self.inp = inp
        self.clock = CaseClock(
            origin=workflow.now(), seconds_per_year=inp.seconds_per_year or SECONDS_PER_YEAR
        )
        self.state = lab.LabourState()
        self.seq = 0
        self.inbox: list[tuple[int, eapi.LabourFact]] = []
        self.taken = 0
        self.handled: dict[int, eapi.LabourUpdateResult] = {}
        self.exit_by: date | None = None  # a violation ordered the worker out by then
        self.violation_note = ""
        self.waiting_word = ""
        self.seen: list[str] = []  # request ids of staff facts taken (a retry is not re-applied)
        self.waiting_since: datetime | None = None
        self.refused: list[api.RefusedInput] = []
        self.next_review: date | None = None
        self.rules: dict[str, bool] = {}
        self.lock = asyncio.Lock()

    def _follows(self, change: str) -> bool:
        """Asked of `workflow.patched` the first time (whichever runs first, the request or a
        staff update), then remembered: a request's rules do not change under it."""
        if change not in self.rules:
            self.rules[change] = workflow.patched(change)
        return self.rules[change]

    # ---- time ----------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.case_time(workflow.now())

    def today(self) -> date:
        return self.now().date()

    def _wall(self, until: date) -> float:
        delta = _midnight(until) - self.now() + timedelta(seconds=1)
        return max(self.clock.wall_delay(delta).total_seconds(), 0.001)

    def _timeout(self, normal: timedelta) -> timedelta:
        return normal if self.clock.speedup <= 1 else min(normal, DEMO_TIMEOUT)

    @property
    def policy(self) -> Policy:
        return policy_by_id(self.state.policy_id) if self.state.policy_id else self._in_force()

    def _in_force(self) -> Policy:
        return policy_in_force(self.today())

    # ---- the record ----------------------------------------------------------------------
    async def _record(self, *events: lab.LabourEvent) -> None:
        pending = tuple(PendingLabourEvent(event_id=str(workflow.uuid4()), event=e) for e in events)
        request = LabourAppendInput(
            request_id=self.inp.request_id, expected_seq=self.seq, events=pending
        )
        summary = f"append {', '.join(e.type for e in events)}"
        try:
            result = await ask_store(
                LabourActivities.append_labour_events,
                request,
                summary=summary,
                local=self._follows(FEWER_EVENTS),
                local_timeout=self._timeout(LOCAL_TIMEOUT),
                store_timeout=self._timeout(STORE_TIMEOUT),
            )
        except (ActivityError, ApplicationError) as exc:
            if (reason := pause_reason(exc)) is not None:
                raise RequestPausedError(reason) from None
            raise
        self.seq = result.last_seq
        self.state = lab.fold_labour(events, self.state)
        self._publish()
        counter = workflow.metric_meter().create_counter("kosh_events", "events recorded")
        for e in events:
            counter.add(1, {"type": e.type})

    def _base(self) -> dict[str, Any]:
        return {"policy_id": self.state.policy_id or self._in_force().id, "at": self.now()}

    def _publish(self) -> None:
        r, s = self.inp.request, self.state
        pairs: list[Any] = [
            api.SA_STAGE.value_set(s.stage),
            api.SA_TRACK.value_set(eapi.TRACK),
            api.SA_REGION.value_set(r.region),
            api.SA_POLICY.value_set(s.policy_id or ""),
            eapi.SA_INDUSTRY.value_set(r.industry),
            eapi.SA_EMPLOYER.value_set(lab.employer_key(r.employer_id)),
        ]
        word = self._waiting_word()
        if word != self.waiting_word:
            self.waiting_word, self.waiting_since = word, self.now()
        pairs += [
            api.SA_WAITING_FOR.value_set(word),
            api.SA_WAITING_SINCE.value_set(self.waiting_since or self.now()),
        ]
        if r.project:
            pairs.append(eapi.SA_PROJECT.value_set(r.project))
        if s.closed_reason:
            pairs.append(api.SA_CLOSE_REASON.value_set(s.closed_reason))
        deadline = self._next_deadline()
        if deadline is not None:
            pairs.append(api.SA_NEXT_DEADLINE.value_set(_midnight(deadline)))
        if self._follows(FEWER_EVENTS):
            upsert_changed(pairs)
        else:
            workflow.upsert_search_attributes(pairs)
        workflow.set_current_details(self._details())

    def _next_deadline(self) -> date | None:
        s = self.state
        if s.stage == "closed":
            return None
        return self.exit_by or self.next_review

    def _waiting_word(self) -> str:
        s = self.state
        if s.stage == "closed":
            return "nothing"
        if s.stage == "permit" or self.exit_by is not None:
            return "timer"
        return "activities"

    def _details(self) -> str:
        r, s = self.inp.request, self.state
        lines = [
            f"**Stage:** {s.stage}  ",
            f"**Labour request:** {r.industry} in {r.region}"
            + (f", project {r.project}" if r.project else "")
            + "  ",
            f"**Case date:** {self.today().isoformat()}  ",
        ]
        if s.valid_until is not None:
            lines.append(f"**Permit until:** {s.valid_until.isoformat()}  ")
        if s.violations:
            lines.append(f"**Violations:** {', '.join(s.violations)}  ")
        if s.closed_reason:
            lines.append(f"**Closed:** {s.closed_reason}")
        return "\n".join(lines)

    # ---- adapters --------------------------------------------------------------------------
    async def _call(self, method: Any, arg: Any, *, summary: str) -> Any:
        return await workflow.execute_activity_method(
            method,
            arg,
            start_to_close_timeout=self._timeout(ADAPTER_TIMEOUT),
            retry_policy=ADAPTER_RETRY,
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=summary,
        )

    # ---- the path --------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: eapi.LabourInput) -> eapi.LabourResult:
        r = inp.request
        problems = lab.request_problems(r, self.today())
        if problems:  # nothing is recorded for a request that is not one
            field, rule = problems[0]
            return self._result("refused", f"{field}: {rule}")
        policy = self._in_force()
        await self._record(
            lab.LabourRequestSubmitted(
                policy_id=policy.id, at=self.now(), request_id=inp.request_id, request=r
            )
        )
        if not await self._shortage():
            return await self._finish()
        if not await self._reserve():
            return await self._finish()
        if not await self._checks():
            return await self._finish()
        number = await self._call(
            VerificationActivities.issue_permit,
            m.IssueInput(case_id=eapi.request_workflow_id(inp.request_id)),
            summary="issue work permit",
        )
        start = self.today()
        await self._record(
            lab.WorkPermitIssued(
                **self._base(),
                number=number.number,
                valid_from=start,
                valid_until=lab.add_months(start, r.months),
            )
        )
        await self._monitor()
        return await self._finish()

    async def _refuse(self, rule: str, reason: str, close: lab.LabourCloseReason) -> None:
        await self._record(
            lab.LabourRequestRefused(**self._base(), rule=rule, reason=reason),
            lab.LabourRequestClosed(**self._base(), reason=close, detail=f"{rule}: {reason}"),
        )

    async def _shortage(self) -> bool:
        r = self.inp.request
        on = self.today()  # the day asked about: the answer is as of then, however late it comes
        answer = await self._call(
            LabourActivities.check_vacancy,
            VacancyInput(
                request_id=self.inp.request_id,
                reference=r.vacancy_reference,
                employer_id=r.employer_id,
                industry=r.industry,
                region=r.region,
                on=on,
            ),
            summary="vacancy on the domestic labour market",
        )
        vacancy = answer.vacancy
        refusal = lab.shortage_refusal(r, vacancy, self.policy.labour, on)
        if refusal is not None:
            await self._refuse(refusal.rule, refusal.reason, "refused")
            return False
        assert vacancy is not None
        end = vacancy.closed_on or on
        await self._record(
            lab.ShortageConfirmed(
                **self._base(),
                vacancy_reference=vacancy.reference,
                days_on_market=(end - vacancy.posted_on).days,
                regional_average_wage_tiyn=vacancy.regional_average_wage_tiyn,
            )
        )
        return True

    async def _reserve(self) -> bool:
        r = self.inp.request
        year = self.today().year
        line = lab.quota_line(
            self.policy.labour, year=year, industry=r.industry, region=r.region, project=r.project
        )
        if line is None or line.places == 0:
            where = f"{r.industry} in {r.region}" + (f", project {r.project}" if r.project else "")
            await self._refuse(
                "no_quota", f"policy {self.policy.id} sets no {year} quota for {where}", "refused"
            )
            return False
        reserved = lab.LabourPlaceReserved(
            **self._base(),
            employer_id=r.employer_id,
            industry=r.industry,
            region=r.region,
            project=r.project,
            year=year,
            capacity=line.places,
        )
        try:
            await self._record(reserved)
        except (ActivityError, ApplicationError) as exc:
            refusal = refusal_of(exc)
            if refusal is not None and refusal.type in RECORD_REFUSALS:
                await self._refuse(RECORD_REFUSALS[refusal.type], refusal.message, "refused")
                return False
            raise
        return True

    async def _checks(self) -> bool:
        results = await asyncio.gather(
            *(
                self._call(
                    LabourActivities.screen_worker,
                    ScreeningInput(
                        request_id=self.inp.request_id,
                        worker=self.inp.request.worker,
                        authority=authority,
                    ),
                    summary=f"{authority} screening of the worker",
                )
                for authority in lab.LABOUR_AUTHORITIES
            )
        )
        await self._record(
            *(
                lab.WorkerCheckCompleted(
                    **self._base(), authority=x.authority, outcome=x.outcome, reason=x.reason
                )
                for x in results
            )
        )
        failed = [x for x in results if x.outcome != "clear"]
        if not failed:
            return True
        reason = "; ".join(f"{x.authority}: {x.outcome} ({x.reason})" for x in failed)
        await self._record(
            self._release("the worker did not pass the checks"),
            lab.LabourRequestClosed(**self._base(), reason="worker_failed_checks", detail=reason),
        )
        return False

    def _release(self, reason: str) -> lab.LabourPlaceReleased:
        r = self.inp.request
        assert self.state.quota_year is not None
        return lab.LabourPlaceReleased(
            **self._base(),
            industry=r.industry,
            region=r.region,
            project=r.project,
            year=self.state.quota_year,
            reason=reason,
        )

    async def _monitor(self) -> None:
        """Reviews at the policy's interval until the permit ends, staff facts between them;
        then, after a violation, the worker's exit."""
        interval = timedelta(days=self.policy.labour.monitoring_interval_days)
        s = self.state
        assert s.valid_from is not None and s.valid_until is not None
        review = min(s.valid_from + interval, s.valid_until)
        while self.state.stage != "closed" and self.exit_by is None:
            self.next_review = review
            self._publish()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: bool(self.inbox),
                    timeout=self._wall(review),
                    timeout_summary=f"obligations review {review.isoformat()}",
                )
            if self.inbox:
                await self._take_up(*self.inbox.pop(0))
                continue
            await self._review(final=review >= s.valid_until)
            review = min(review + interval, s.valid_until)
        self.next_review = None
        if self.exit_by is not None:
            await self._exit(self.exit_by)

    async def _review(self, *, final: bool) -> None:
        s, r = self.state, self.inp.request
        assert s.valid_from is not None and s.regional_average_wage_tiyn is not None
        report = await self._call(
            LabourActivities.employment_report,
            EmploymentInput(
                request_id=self.inp.request_id,
                permit_from=s.valid_from,
                offered_wage_tiyn=r.monthly_wage_tiyn,
                on=self.today(),
            ),
            summary="employment review",
        )
        events: list[lab.LabourEvent] = [
            lab.ObligationsReviewed(
                **self._base(),
                on=report.on,
                paid_monthly_wage_tiyn=report.paid_monthly_wage_tiyn,
                address_registered=report.address_registered_on is not None,
            )
        ]
        if report.ended_on is not None:
            events.append(
                lab.EmploymentEnded(
                    **self._base(),
                    ended_on=report.ended_on,
                    notified_on=report.end_notified_on,
                    source="registry",
                )
            )
        await self._record(*events)
        found = lab.violations_in(
            report,
            permit_from=s.valid_from,
            wage_floor_tiyn=lab.wage_floor(s.regional_average_wage_tiyn, self.policy.labour),
            rules=self.policy.labour,
        )
        if found:
            await self._violation(found, "found on the obligations review", "review")
        elif report.ended_on is not None:
            await self._ended_early(report.ended_on)
        elif final:
            await self._record(
                lab.LabourRequestClosed(
                    **self._base(),
                    reason="term_completed",
                    detail=f"permit served to {s.valid_until}; obligations kept",
                )
            )

    async def _ended_early(self, on: date) -> None:
        await self._record(
            self._release(f"employment ended on {on.isoformat()}"),
            lab.LabourRequestClosed(
                **self._base(),
                reason="ended_early",
                detail=f"employment ended on {on.isoformat()}; the place returned to the quota",
            ),
        )

    async def _violation(
        self, found: tuple[lab.Violation, ...], detail: str, found_by: str
    ) -> None:
        rules, s = self.policy.labour, self.state
        owed = lab.liability(
            found, on=self.today(), rules=rules, mrp_tenge=self.policy.mrp(self.today().year)
        )
        await self._record(
            lab.ViolationFound(**self._base(), violations=found, detail=detail, found_by=found_by),
            lab.EmployerLiabilityImposed(
                **self._base(),
                employer_id=self.inp.request.employer_id,
                fine_tiyn=owed.employer_fine_tiyn,
                quota_rights_suspended_until=owed.quota_rights_suspended_until,
                violations=found,
            ),
            lab.WorkerLiabilityImposed(
                **self._base(),
                permit_number=s.permit_number or "",
                permit_revoked=True,
                exit_by=owed.worker_exit_by,
            ),
            self._release(f"permit revoked for {', '.join(found)}"),
        )
        self.exit_by = owed.worker_exit_by
        self.violation_note = (
            f"{', '.join(found)}: employer fined {tenge(owed.employer_fine_tiyn)}, quota rights "
            f"suspended until {owed.quota_rights_suspended_until}; permit revoked"
        )
        self._publish()

    async def _exit(self, exit_by: date) -> None:
        """The worker's exit, checked at the date it was ordered for."""
        await workflow.sleep(self._wall(exit_by), summary="exit ordered by")
        departure = await self._call(
            VerificationActivities.check_departure,
            m.DepartureCheckInput(
                case_id=eapi.request_workflow_id(self.inp.request_id),
                since=exit_by - timedelta(days=self.policy.labour.exit_days + 1),
                until=self.today(),
            ),
            summary="border: did the worker leave",
        )
        left = departure.departed_on
        exit_note = (
            f"the worker left on {left.isoformat()}"
            if left is not None
            else "no departure recorded by the exit date: referred to the migration police"
        )
        await self._record(
            lab.LabourRequestClosed(
                **self._base(), reason="violation", detail=f"{self.violation_note}, {exit_note}"
            )
        )

    # ---- staff facts -----------------------------------------------------------------------
    async def _take_up(self, token: int, fact: eapi.LabourFact) -> None:
        self.handled[token] = await self._apply_fact(fact)

    async def _apply_fact(self, fact: eapi.LabourFact) -> eapi.LabourUpdateResult:
        s = self.state
        if s.stage == "closed":
            return eapi.LabourUpdateResult(accepted=False, reason="the request is closed")
        if fact.kind == "violation":
            if s.stage != "permit":
                return eapi.LabourUpdateResult(
                    accepted=False, reason="violation: no permit is running"
                )
            await self._violation(
                fact.violations, fact.reason or "found by inspection", fact.actor_id
            )
        elif fact.kind == "employment_ended":
            assert fact.on is not None
            await self._record(
                lab.EmploymentEnded(
                    **self._base(), ended_on=fact.on, notified_on=fact.notified_on, source="staff"
                )
            )
            notice_due = fact.on + timedelta(days=self.policy.labour.end_notice_days)
            if fact.notified_on is None or fact.notified_on > notice_due:
                await self._violation(
                    ("end_not_notified",), "the end was not notified in time", fact.actor_id
                )
            else:
                await self._ended_early(fact.on)
        return eapi.LabourUpdateResult(accepted=True)

    def _validate_fact(self, raw: Any) -> eapi.LabourFact:
        """Shape and stage, before anything is recorded: ValueError names field and rule."""
        try:
            fact = eapi.LabourFact.model_validate(raw)
        except ValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(input)'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ValueError(f"invalid_input: {reasons}") from None
        s = self.state
        if s.stage == "closed":
            raise ValueError("request_closed: the request is closed")
        if self.exit_by is not None:
            raise ValueError("wrong_stage: the permit is revoked; the worker's exit is pending")
        if fact.kind == "violation":
            if not fact.violations:
                raise ValueError("missing_field: violations: name at least one")
            if s.stage != "permit":
                raise ValueError("wrong_stage: a violation needs a running permit")
        if fact.kind == "employment_ended":
            if fact.on is None:
                raise ValueError("missing_field: on: the day the employment ended")
            if s.stage != "permit":
                raise ValueError("wrong_stage: no employment under a permit yet")
            if fact.on > self.today():
                raise ValueError("invalid_input: on: cannot be after the case date")
        return fact

    async def _accept(self, raw: Any, name: str) -> eapi.LabourUpdateResult:
        key = raw.get("request_id") if isinstance(raw, dict) else None
        if key is not None and key in self.seen:  # a retried submit: taken once already
            return eapi.LabourUpdateResult(accepted=True, reason="already recorded")
        try:
            fact = self._validate_fact(raw)
        except ValueError as exc:
            return self._refuse_input(name, str(exc))
        if fact.request_id is not None:
            self.seen.append(fact.request_id)
        who = m.ActorCheckInput(
            case_id=eapi.request_workflow_id(self.inp.request_id),
            staff_id=fact.actor_id,
            role="case_officer",
        )
        check = await ask_store(
            RegistryActivities.check_actor,
            who,
            summary=f"who is {fact.actor_id}",
            local=self._follows(FEWER_EVENTS),
            local_timeout=self._timeout(LOCAL_TIMEOUT),
            store_timeout=self._timeout(STORE_TIMEOUT),
        )
        if not check.authorised:
            return self._refuse_input(name, f"not_authorised: {check.reason}")
        self.taken += 1
        token = self.taken
        self.inbox.append((token, fact))
        await workflow.wait_condition(lambda: token in self.handled)
        return self.handled.pop(token)

    def _refuse_input(self, name: str, text: str) -> eapi.LabourUpdateResult:
        rule, _, reason = text.partition(": ")
        self.refused.append(
            api.RefusedInput(received_at=self.now(), name=name, rule=rule, reason=reason)
        )
        del self.refused[:-REFUSALS_KEPT]
        return eapi.LabourUpdateResult(accepted=False, reason=text)

    @workflow.signal(name=eapi.SIGNAL_FACT)
    async def record_fact(self, raw: Any) -> None:
        await self._accept(raw, eapi.SIGNAL_FACT)

    @workflow.update(name=eapi.UPDATE_FACT)
    async def submit_fact(self, raw: Any) -> eapi.LabourUpdateResult:
        return await self._accept(raw, eapi.UPDATE_FACT)

    @submit_fact.validator
    def _check_fact(self, raw: Any) -> None:
        if isinstance(raw, dict) and raw.get("request_id") in self.seen:
            return  # a retry: the handler answers "already recorded"
        self._validate_fact(raw)  # refused before the history records anything

    @workflow.query(name=eapi.QUERY_STATUS)
    def status(self) -> eapi.LabourStatus:
        r, s = self.inp.request, self.state
        return eapi.LabourStatus(
            request_id=self.inp.request_id,
            stage=s.stage,
            industry=r.industry,
            region=r.region,
            project=r.project,
            employer_key=lab.employer_key(r.employer_id),
            policy_id=s.policy_id or "",
            case_time=self.now(),
            waiting_for=self._waiting_word(),
            checks=s.checks,
            permit_number=s.permit_number,
            valid_until=s.valid_until,
            next_review=self.next_review if s.stage == "permit" else None,
            reviews=s.reviews,
            violations=s.violations,
            employer_fine_tiyn=s.fine_tiyn,
            quota_rights_suspended_until=s.quota_rights_suspended_until,
            worker_exit_by=s.exit_by,
            refused_rule=s.refused_rule,
            closed_reason=s.closed_reason,
            closed_detail=s.closed_detail,
            events=self.seq,
            refused=tuple(self.refused),
        )

    async def _finish(self) -> eapi.LabourResult:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result(self.state.closed_reason or "refused", self.state.closed_detail)

    def _result(self, reason: str, detail: str) -> eapi.LabourResult:
        return eapi.LabourResult(
            request_id=self.inp.request_id, closed_reason=reason, detail=detail, events=self.seq
        )
