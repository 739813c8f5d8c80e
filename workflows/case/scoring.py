"""The scoring stage: the KAZTEST (with retakes), the questionnaire and the competent
authorities' checks in parallel, then the interview by staff, with its deadline, reminders and
escalation. Every rule is asked of domain/; this module only orchestrates."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.verification import VerificationActivities
    from domain import commands as cmd
    from domain.agenda import (
        interview_deadline,
        interview_reminder_after,
        language_retake_on,
        next_language_attempt,
    )
    from domain.checks import AUTHORITIES, checks_complete, early_rejection
    from domain.errors import DomainError
    from domain.events import Authority
    from workflows.case.inputs import authority_command

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.case.core import Case
from workflows.decision_lock import CHECK, as_branch
from workflows.runtime import midnight


async def scoring(case: Case) -> None:
    if not checks_complete(case.state):
        await case.rt.unlocked(checks(case))  # weeks: staff input is applied meanwhile
    elif early_rejection(case.state):
        await case.record(cmd.ComputeScore())
    else:
        await interview(case)


async def checks(case: Case) -> None:
    """The checks in parallel. A case closed meanwhile (withdrawn, departed, deceased) ends
    their waits at once; a call already made to an agency is let finish, its answer no longer
    recorded (nothing is cancelled mid-flight, so no call outlives the workflow)."""
    answered = {g.name for g in case.state.authority}
    await asyncio.gather(
        as_branch(CHECK, "language", language_test(case)),
        as_branch(CHECK, "questionnaire", case.record_unless_closed(cmd.ScoreQuestionnaire())),
        *(
            as_branch(CHECK, f"authority:{a}", authority(case, a))
            for a in AUTHORITIES
            if a not in answered
        ),
    )


async def language_test(case: Case) -> None:
    rt = case.rt
    while not case.closed and (attempt := next_language_attempt(case.state)) is not None:
        if attempt > 1:
            retake = language_retake_on(case.state, rt.today())
            await rt.wait_for(lambda: case.closed, retake, label="KAZTEST retake wait")
            if case.closed:
                return
        result = await rt.call(
            VerificationActivities.sit_language_test,
            m.LanguageTestInput(
                case_id=case.state.case_id, application=case.state.application, attempt=attempt
            ),
            summary=f"KAZTEST attempt {attempt}",
        )
        await case.record_unless_closed(
            cmd.RecordLanguageAttempt(
                attempt=attempt,
                section_percent=result.section_percent,
                rules_broken=result.rules_broken,
            )
        )


async def authority(case: Case, name: Authority) -> None:
    """Lodge the check, then wait for the authority's reply (a signal, applied by the case's
    handler) until its due date; with no reply by then, the check counts as a referral to an
    officer (never a hang)."""
    rt, s = case.rt, case.state
    assert s.application is not None
    if s.authority_request(name) is None:
        ack = await rt.call(
            VerificationActivities.request_authority_check,
            m.AuthorityRequestInput(
                case_id=s.case_id,
                application=s.application,
                authority=name,
                request_key=f"{s.case_id}:authority:{name}",
            ),
            summary=f"ask {name} for a check",
        )
        async with rt.lock:
            if case.closed:
                return
            await case.record_unless_held(
                cmd.RequestAuthorityCheck(authority=name, reference=ack.reference)
            )
            await early_reply(case, name)
    request = case.state.authority_request(name)
    assert request is not None
    replied = await rt.wait_for(
        lambda: case.state.authority_gate(name) is not None or case.closed,
        request.due_on,
        label=f"{name} reply due {request.due_on.isoformat()}",
        human=True,
    )
    if replied:
        return
    async with rt.lock:
        if case.closed or case.state.authority_gate(name) is not None:
            return
        await case.record_unless_held(cmd.MarkAuthorityOverdue(authority=name))
        await case.notify(
            "authority_overdue", f"{name} did not reply by {request.due_on.isoformat()}; referred"
        )


async def early_reply(case: Case, name: Authority) -> None:
    """A reply that came before its request was recorded, applied now (under the lock)."""
    reply = case.run.early_replies.pop(name, None)
    if reply is None:
        return
    try:
        await case.record(authority_command(reply))
    except DomainError as exc:
        case.run.inputs.refuse("authority", exc.rule, exc.reason)


async def interview(case: Case) -> None:
    """Ask staff for the interview; remind them; when the deadline passes, a supervisor gets
    `interview_escalation_days` more before the case is rejected for a missed interview."""
    rt, run = case.rt, case.run
    t = run.timers
    if t.interview_due is None or t.next_reminder is None:
        today = rt.today()
        run.timers = t.model_copy(
            update={
                "interview_due": interview_deadline(case.state, today),
                "next_reminder": interview_reminder_after(case.state, today),
            }
        )
        case.publish()
        await case.notify("interview_due", f"interview due by {run.timers.interview_due}")
        return
    if await case.rt.wait(
        min(t.next_reminder, t.interview_due), label="interview deadline", human=True
    ):
        return
    today, t = rt.today(), run.timers
    assert t.interview_due is not None and t.next_reminder is not None
    if today >= t.interview_due:
        if case.state.interview_escalated_until is None:
            await case.record(cmd.EscalateInterview(deadline=t.interview_due))
            run.timers = t.model_copy(
                update={
                    "interview_due": case.state.interview_escalated_until,
                    "next_reminder": interview_reminder_after(case.state, today),
                }
            )
            case.publish()
            await case.notify(
                "interview_escalated",
                f"interview deadline passed; a supervisor has until {run.timers.interview_due}",
            )
            return
        await case.notify("interview_overdue", "interview deadline passed")
        await case.record(cmd.MarkInterviewMissed(deadline=midnight(t.interview_due)))
    elif today >= t.next_reminder:
        run.timers = t.model_copy(
            update={"next_reminder": interview_reminder_after(case.state, today)}
        )
        await case.notify("interview_reminder", f"interview due by {t.interview_due}")
