"""One running case as its steps and handlers see it: the state, the decision (decide, record,
fold, publish) and the lock that serialises every decision, waits that let staff input in,
notices to staff, and a staff input applied or refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.allocation import AllocationActivities, WordInput
    from activities.events import EventActivities
    from activities.staff import StaffActivities
    from adapters.ports import StaffNotice
    from domain import commands as cmd
    from domain import events as ev
    from domain.case import CaseState, fold
    from domain.decider import decide
    from domain.errors import DomainError
    from domain.record import event_id, fingerprints
    from workflows import api
    from workflows.api import AllocationWord, AuthorityReplyInput
    from workflows.case.inputs import UPDATES, command_for, kind_of, parse, roles_for
    from workflows.case.state import RunState
    from workflows.inputs import Input, InputLog

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.case import publish
from workflows.handlers import apply
from workflows.runtime import Runtime, refusal


class Case:
    def __init__(self, run_state: RunState) -> None:
        self.run = run_state
        self.rt = Runtime(run_state.clock, human_floor_seconds=run_state.human_floor_seconds)
        self.refused_at_intake = False
        self.adopted = False  # this run took over what an earlier attempt of a task recorded

    @property
    def state(self) -> CaseState:
        return self.run.case

    @property
    def closed(self) -> bool:
        return self.state.is_closed

    @property
    def recorded(self) -> bool:
        return self.state.stage != "new"

    @property
    def opened(self) -> bool:
        """The application is decided: recorded (a stage past "new"), or refused at intake."""
        return self.state.stage != "new" or self.refused_at_intake

    # ---- decisions -----------------------------------------------------------------------
    async def record(self, command: cmd.Command) -> list[ev.Event]:
        """Decide, append to the business record, fold, publish (the caller holds the lock).
        Raises DomainError on a refusal; nothing is recorded then. Returns the events recorded.
        When this workflow task is a retry whose earlier attempt recorded first (with a later
        clock, or other decisions), the record's events are adopted, and the command is
        decided again on top of them: what it still adds is recorded, and if the record
        already decided it, the record's decision stands."""
        assert self.rt.lock.locked(), "a decision is taken under the case's lock"
        done: list[ev.Event] = []
        events = decide(self.state, command, now=self.rt.now())
        while events:
            recorded, adopted = await self._append(events)
            self.run.case = fold(recorded, self.state)
            self.run.fingerprints += fingerprints(recorded)
            self.rt.decisions += 1
            self.publish()
            publish.measure(recorded, self.state.track)
            done += recorded
            if not adopted:
                break
            try:
                events = decide(self.state, command, now=self.rt.now())
            except DomainError:
                break
        return done

    def publish(self) -> None:
        """Search attributes and details after a decision or a new deadline."""
        publish.publish(self.run, self.rt.now())

    async def record_unless_closed(self, command: cmd.Command) -> list[ev.Event]:
        """A check's result, taken under the lock; dropped when the case closed meanwhile."""
        async with self.rt.lock:
            return [] if self.closed else await self.record_unless_held(command)

    async def record_unless_held(self, command: cmd.Command) -> list[ev.Event]:
        """A parallel branch's decision (the caller holds the lock), dropped when the record
        already holds one that stands in its way: after this run adopted what an earlier
        attempt of a task recorded, another branch's answer still in flight may arrive for a
        decision the record already took (a language test, a lodged check)."""
        try:
            return await self.record(command)
        except DomainError as exc:
            if not self.adopted:
                raise
            workflow.logger.warning(
                "%s dropped: the record already decided it (%s)", type(command).__name__, exc
            )
            return []

    async def _append(self, events: list[ev.Event]) -> tuple[list[ev.Event], bool]:
        """The events recorded, and whether they are an earlier attempt's, adopted."""
        writer, seq = self.run.writer, self.run.seq
        pending = tuple(
            m.PendingEvent(
                event_id=event_id(writer, seq + i),
                event=e,
                idempotency_key=getattr(e, "idempotency_key", None),
            )
            for i, e in enumerate(events, 1)
        )
        first = events[0]
        case_id = self.state.case_id or (
            first.case_id if isinstance(first, ev.ApplicationSubmitted) else ""
        )
        request = m.AppendInput(case_id=case_id, expected_seq=seq, writer=writer, events=pending)
        summary = f"append {', '.join(e.type for e in events)}"
        result = await self.rt.append(EventActivities.append_events, request, summary=summary)
        self.run.seq = result.last_seq
        if not result.adopted:  # the record's copy (activities.models.AppendResult.recorded)
            return as_recorded(events, result.recorded), False
        self.adopted = True
        adopted = [p.event for p in result.adopted]
        workflow.logger.warning(
            "an earlier attempt of this decision recorded %s: adopted",
            ", ".join(e.type for e in adopted),
        )
        return adopted, True

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

    # ---- input (workflows/handlers.py) ----------------------------------------------------
    updates: tuple[str, ...] = UPDATES

    @property
    def inputs(self) -> InputLog:
        return self.run.inputs

    @property
    def subject_id(self) -> str:
        """The workflow an assertion must name (one case, one workflow id for life)."""
        return workflow.info().workflow_id

    def parse(self, name: str, args: Sequence[RawValue]) -> Input:
        return parse(name, args)

    def kind_of(self, name: str) -> str:
        return kind_of(name)

    def roles_for(self, item: Input) -> tuple[str, ...] | None:
        return roles_for(item)

    def command_for(self, item: Input, actor: str) -> cmd.Command:
        return command_for(item, actor)

    def dry_run(self, command: cmd.Command) -> None:
        decide(self.state, command, now=self.rt.now())

    async def take(self, item: Input, *, update: bool) -> api.UpdateResult:
        """An authority's reply that came before the case recorded asking it (the authority
        answered before its acknowledgement reached the case) is kept, and applied right after
        the request is recorded (workflows/case/scoring.py); any other input is applied."""
        reply, s = item.value, self.state
        if isinstance(reply, AllocationWord):
            return await self.take_allocation(item)
        ahead = (
            isinstance(reply, AuthorityReplyInput)
            and s.stage == "scoring"
            and s.authority_request(reply.authority) is None
            and s.authority_gate(reply.authority) is None
        )
        if not ahead:
            return await apply(self, item, update=update)
        if reply.authority in self.run.early_replies:
            reason = f"{reply.authority} has already answered"
            return self.inputs.refuse(item.kind, "authority_answered", reason)
        self.run.early_replies[reply.authority] = reply
        return api.UpdateResult(accepted=True)

    async def take_allocation(self, item: Input) -> api.UpdateResult:
        """A round's word, as the round's record holds it: a place offered is reserved (the
        ledger refuses one beyond the quota: the place went to another round first, and this
        round did not reach the family), not reached is recorded and staff told; the family
        that runs out of rounds takes the general track, and staff are told why."""
        log, key = self.inputs, item.request_id
        if key is not None and key in log.applied:
            return log.applied[key]
        word = await self.rt.ask_store(
            AllocationActivities.round_word,
            WordInput(round_id=item.value.round_id, case_id=self.state.case_id),
            summary="read the round's word",
        )
        command = word.command
        if command is None:
            reason = f"round {item.value.round_id} holds no word for this case"
            return log.refuse(item.kind, "not_in_round", reason)
        if word.at is not None:
            self.rt.time.reach(word.at)  # the family has waited until the round (decision 021)
        result = api.UpdateResult(accepted=True)
        try:
            events = await self.record(command)
        except DomainError as exc:
            return log.refuse(item.kind, exc.rule, exc.reason)
        except (ActivityError, ApplicationError) as exc:
            found = refusal(exc)
            if found is None or found.type != "QuotaExhausted":
                raise
            events = await self.record(command.model_copy(update={"offered": False}))
            result = log.refuse(item.kind, "QuotaExhausted", f"no place left in {command.region}")
        if key is not None:
            log.applied[key] = result
        for e in events:
            if isinstance(e, ev.AllocationNotReached):
                await self.notify(
                    "allocation_not_reached",
                    f"round {e.number} of {e.region}: rank {e.rank}, cut-off {e.cut_off}; "
                    "the family waits for the next round",
                )
            if isinstance(e, ev.MovedToGeneralTrack):
                await self.notify("general_track", e.detail)
        return result


def as_recorded(decided: list[ev.Event], recorded: tuple[m.RecordedEvent, ...]) -> list[ev.Event]:
    """The events as the record holds them (docs/decisions/020); the application, left out of
    the append's answer, from the case's own decision (its input, the same in every attempt)."""
    if not recorded:
        return decided
    mine = next((e for e in decided if isinstance(e, ev.ApplicationSubmitted)), None)
    out: list[ev.Event] = []
    for held in recorded:
        if held.event is not None:
            out.append(held.event)
        else:
            assert mine is not None, "an application comes back only for one decided"
            out.append(mine.model_copy(update={"at": held.at, "policy_id": held.policy_id}))
    return out
