"""One running case as its steps and handlers see it: the state, the decision (decide, record,
fold, publish) and the lock that serialises every decision, waits that let staff input in,
notices to staff, and a staff input applied or refused.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.events import EventActivities
    from activities.staff import RegistryActivities, StaffActivities
    from adapters.ports import StaffNotice
    from domain import commands as cmd
    from domain import events as ev
    from domain.case import CaseState, fold
    from domain.decider import decide
    from domain.errors import DomainError
    from workflows import api
    from workflows.case.inputs import Input, command_for
    from workflows.case.state import RunState
    from workflows.inputs import Actor

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.case import publish
from workflows.runtime import Runtime


class Case:
    def __init__(self, run_state: RunState) -> None:
        self.run = run_state
        self.rt = Runtime(run_state.clock, human_floor_seconds=run_state.human_floor_seconds)

    @property
    def state(self) -> CaseState:
        return self.run.case

    @property
    def closed(self) -> bool:
        return self.state.is_closed

    # ---- decisions -----------------------------------------------------------------------
    async def record(self, command: cmd.Command) -> list[ev.Event]:
        """Decide, append to the business record, fold, publish (the caller holds the lock).
        Raises DomainError on a refusal; nothing is recorded then."""
        assert self.rt.lock.locked(), "a decision is taken under the case's lock"
        events = decide(self.state, command, now=self.rt.now())
        if events:
            await self._append(events)
            self.run.case = fold(events, self.state)
            self.rt.decisions += 1
            self.publish()
            publish.measure(events, self.state.track)
        return events

    def publish(self) -> None:
        """Search attributes and details after a decision or a new deadline."""
        publish.publish(self.run, self.rt.now())

    async def record_unless_closed(self, command: cmd.Command) -> list[ev.Event]:
        """A check's result, taken under the lock; dropped when the case closed meanwhile."""
        async with self.rt.lock:
            return [] if self.closed else await self.record(command)

    async def _append(self, events: list[ev.Event]) -> None:
        pending = tuple(
            m.PendingEvent(
                event_id=str(workflow.uuid4()),
                event=e,
                idempotency_key=getattr(e, "idempotency_key", None),
            )
            for e in events
        )
        first = events[0]
        case_id = self.state.case_id or (
            first.case_id if isinstance(first, ev.ApplicationSubmitted) else ""
        )
        request = m.AppendInput(case_id=case_id, expected_seq=self.run.seq, events=pending)
        summary = f"append {', '.join(e.type for e in events)}"
        result = await self.rt.append(EventActivities.append_events, request, summary=summary)
        self.run.seq = result.last_seq

    # ---- staff ---------------------------------------------------------------------------
    async def notify(self, kind: Any, message: str, *, once_key: str | None = None) -> None:
        if once_key is not None:
            if once_key in self.run.notified:
                return
            self.run.notified.append(once_key)
        notice = StaffNotice(case_id=self.state.case_id, kind=kind, message=message)
        await self.rt.call(
            StaffActivities.notify_staff,
            m.NotifyInput(notice=notice),
            summary=f"notify staff: {kind}",
        )

    async def unauthorised(self, actor: Actor | None) -> str | None:
        """Why the actor may not do this (None: they may), asked of the staff registry."""
        if actor is None or self.closed:
            return None  # a closed case: the decider refuses it, with the reason that matters
        role, *others = actor.roles
        request = m.ActorCheckInput(
            case_id=self.state.case_id, staff_id=actor.staff_id, role=role, or_roles=tuple(others)
        )
        summary = f"check {' or '.join(actor.roles)}"
        check = await self.rt.ask_store(RegistryActivities.check_actor, request, summary=summary)
        return None if check.authorised else check.reason

    async def apply(self, item: Input, *, update: bool) -> api.UpdateResult:
        """A staff input, under the lock: the registry asked about its actor, then decided and
        recorded, or refused (listed in the status) with the case unchanged."""
        log, request_id = self.run.inputs, item.request_id
        if request_id is not None and request_id in log.applied:
            if update:  # a retried update: the same answer, applied once
                return log.applied[request_id]
            return log.refuse(
                item.kind, "duplicate_request", f"request {request_id} already applied"
            )
        try:
            command, actor = command_for(item)
        except DomainError as exc:
            return log.refuse(item.kind, exc.rule, exc.reason)
        refused = await self.unauthorised(actor)
        if refused is not None:
            return log.refuse(item.kind, "actor_not_authorised", refused)
        try:
            await self.record(command)
        except DomainError as exc:
            return log.refuse(item.kind, exc.rule, exc.reason)
        result = api.UpdateResult(accepted=True)
        if request_id is not None:
            log.applied[request_id] = result
        return result

    def dry_run(self, item: Input) -> None:
        """What `apply` would refuse, without recording anything (an update's validator)."""
        if item.request_id is not None and item.request_id in self.run.inputs.applied:
            return  # a retried update: the handler answers with the first result
        command, _ = command_for(item)
        decide(self.state, command, now=self.rt.now())
