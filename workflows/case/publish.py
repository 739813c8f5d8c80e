"""What a case shows operators in Temporal: its search attributes (never personal data), its
current details, and kosh's business metrics. The words come from domain/agenda.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import agenda
    from domain import events as ev
    from domain.case import CaseState
    from workflows import api
    from workflows.case.state import RunState

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.runtime import midnight, upsert_changed


def publish(run: RunState, now: datetime) -> None:
    """Upsert the search attributes whose values changed, and the current details."""
    s = run.case
    pairs: list[Any] = [api.SA_STAGE.value_set(s.stage), api.SA_POLICY.value_set(s.policy_id)]
    if s.track:
        pairs.append(api.SA_TRACK.value_set(s.track))
    if s.region:
        pairs.append(api.SA_REGION.value_set(s.region))
    if s.breakdown is not None:
        pairs.append(api.SA_SCORE.value_set(s.breakdown.total))
    if s.contract_ends_on is not None:
        pairs.append(api.SA_CONTRACT_END.value_set(midnight(s.contract_ends_on)))
    if s.closed_reason:
        pairs.append(api.SA_CLOSE_REASON.value_set(s.closed_reason))
    word = agenda.waiting_word(s)
    if word != run.waiting_word:
        run.waiting_word, run.waiting_since = word, now
    pairs.append(api.SA_WAITING_FOR.value_set(word))
    if run.waiting_since is not None:
        pairs.append(api.SA_WAITING_SINCE.value_set(run.waiting_since))
    due = agenda.deadlines(s, run.timers)
    if due:
        # Never unset (the time-skipping server stores an unset Datetime as null): an open
        # case always has one, except for the minutes its activities take.
        pairs.append(api.SA_NEXT_DEADLINE.value_set(midnight(min(due.values()))))
    upsert_changed(pairs)
    workflow.set_current_details(details(s, now))


def details(s: CaseState, now: datetime) -> str:
    lines = [
        f"**Stage:** {s.stage}  ",
        f"**Track:** {s.track or '-'}  **Policy:** {s.policy_id}  ",
        f"**Case date:** {now.date().isoformat()}  ",
        f"**Waiting for:** {agenda.waiting_for(s)}  ",
    ]
    if s.breakdown is not None:
        lines.append(f"**Score:** {s.breakdown.total} ({s.breakdown.decision})  ")
    if s.contract_ends_on is not None:
        lines.append(f"**Contract:** {s.region}, ends {s.contract_ends_on.isoformat()}  ")
    if s.closed_reason:
        # The detail may hold staff's free text (a name, say): never published in the UI.
        lines.append(f"**Closed:** {s.closed_reason}")
    return "\n".join(lines)


def measure(events: list[ev.Event], track: str | None) -> None:
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
                1, {"reason": e.reason, "track": track or ""}
            )
