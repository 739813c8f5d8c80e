"""One running labour request as its steps and handlers see it: the state, the decision
(decide, record, fold, publish) under the request's lock, a staff fact applied or refused, and
what operators see in Temporal (search attributes without the BIN, details, metrics).
Input reaches it as it reaches a case (workflows/handlers.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from activities.labour import LabourActivities, LabourAppendInput, PendingLabourEvent
    from domain.errors import DomainError
    from domain.labour import LabourEvent, LabourState, fold_labour
    from domain.labour import agenda as labour_agenda
    from domain.labour.commands import LabourCommand
    from domain.labour.decider import decide_labour
    from domain.policy import policy_by_id, policy_in_force
    from domain.record import event_id, fingerprints
    from workflows import api
    from workflows import employer_api as eapi
    from workflows.inputs import Input, InputLog
    from workflows.labour.inputs import KIND, NAMES, OFFICER, command_for, parse
    from workflows.labour.state import RequestRun

# The workflow's own code: imported in the sandbox, which guards it (no clock, no I/O).
from workflows.handlers import apply
from workflows.runtime import Runtime, midnight, upsert_changed


class Request:
    def __init__(self, inp: eapi.LabourInput, run: RequestRun) -> None:
        self.inp, self.run = inp, run
        self.rt = Runtime(run.clock)
        self.refused_at_submission = False

    @property
    def state(self) -> LabourState:
        return self.run.request

    @property
    def closed(self) -> bool:
        return self.state.stage == "closed"

    @property
    def recorded(self) -> bool:
        return self.state.stage != "new"

    @property
    def opened(self) -> bool:
        """The request is decided: recorded, or refused before anything was recorded."""
        return self.state.stage != "new" or self.refused_at_submission

    @property
    def workflow_id(self) -> str:
        return eapi.request_workflow_id(self.inp.request_id)

    async def record(self, command: LabourCommand) -> list[LabourEvent]:
        """Decide, append to the record (stream labour-<id>), fold, publish; the caller holds
        the lock. Raises DomainError on a refusal; nothing is recorded then. A retried task
        adopts what its earlier attempt recorded and decides the command again on top of it,
        as a case does (workflows/case/core.py)."""
        assert self.rt.lock.locked(), "a decision is taken under the request's lock"
        done: list[LabourEvent] = []
        events = decide_labour(self.state, command, now=self.rt.now())
        while events:
            recorded, adopted = await self._append(events)
            self.run.request = fold_labour(recorded, self.state)
            self.run.fingerprints += fingerprints(recorded)
            self.rt.decisions += 1
            self.publish()
            counter = workflow.metric_meter().create_counter("kosh_events", "events recorded")
            for e in recorded:
                counter.add(1, {"type": e.type})
            done += recorded
            if not adopted:
                break
            try:
                events = decide_labour(self.state, command, now=self.rt.now())
            except DomainError:
                break
        return done

    async def _append(self, events: list[LabourEvent]) -> tuple[list[LabourEvent], bool]:
        """The events recorded, and whether they are an earlier attempt's, adopted."""
        writer, seq = self.run.writer, self.run.seq
        pending = tuple(
            PendingLabourEvent(event_id=event_id(writer, seq + i), event=e)
            for i, e in enumerate(events, 1)
        )
        request = LabourAppendInput(
            request_id=self.inp.request_id, expected_seq=seq, writer=writer, events=pending
        )
        summary = f"append {', '.join(e.type for e in events)}"
        result = await self.rt.append(
            LabourActivities.append_labour_events, request, summary=summary
        )
        self.run.seq = result.last_seq
        if not result.adopted:  # the record's copy, as workflows/case/core.py
            return [p.event for p in result.recorded] or events, False
        adopted = [p.event for p in result.adopted]
        workflow.logger.warning(
            "an earlier attempt of this decision recorded %s: adopted",
            ", ".join(e.type for e in adopted),
        )
        return adopted, True

    # ---- input (workflows/handlers.py) ----------------------------------------------------
    updates: tuple[str, ...] = (eapi.UPDATE_FACT,)

    @property
    def inputs(self) -> InputLog:
        return self.run.inputs

    @property
    def subject_id(self) -> str:
        return self.workflow_id

    def parse(self, name: str, args: Sequence[RawValue]) -> Input:
        return Input(KIND, parse(name, args))

    def kind_of(self, name: str) -> str:
        return KIND if name in NAMES else name[:100]

    def roles_for(self, item: Input) -> tuple[str, ...] | None:
        return OFFICER

    def command_for(self, item: Input, actor: str) -> LabourCommand:
        return command_for(item.value, actor)

    def dry_run(self, command: LabourCommand) -> None:
        decide_labour(self.state, command, now=self.rt.now())

    async def take(self, item: Input, *, update: bool) -> api.UpdateResult:
        return await apply(self, item, update=update)

    # ---- what operators see ----------------------------------------------------------------
    def rules(self) -> Any:
        policy_id = self.state.policy_id
        policy = policy_by_id(policy_id) if policy_id else policy_in_force(self.rt.today())
        return policy.labour

    def publish(self) -> None:
        r, s, run = self.inp.request, self.state, self.run
        pairs: list[Any] = [
            api.SA_STAGE.value_set(s.stage),
            api.SA_TRACK.value_set(eapi.TRACK),
            api.SA_REGION.value_set(r.region),
            api.SA_POLICY.value_set(s.policy_id or ""),
            eapi.SA_INDUSTRY.value_set(r.industry),
            eapi.SA_EMPLOYER.value_set(s.employer_key),
        ]
        word = labour_agenda.waiting_for(s)
        if word != run.waiting_word:
            run.waiting_word, run.waiting_since = word, self.rt.now()
        pairs.append(api.SA_WAITING_FOR.value_set(word))
        pairs.append(api.SA_WAITING_SINCE.value_set(run.waiting_since or self.rt.now()))
        if r.project:
            pairs.append(eapi.SA_PROJECT.value_set(r.project))
        if s.closed_reason:
            pairs.append(api.SA_CLOSE_REASON.value_set(s.closed_reason))
        deadline = labour_agenda.next_deadline(s, self.rules())
        if deadline is not None:
            pairs.append(api.SA_NEXT_DEADLINE.value_set(midnight(deadline)))
        upsert_changed(pairs)
        workflow.set_current_details(self.details())

    def details(self) -> str:
        r, s = self.inp.request, self.state
        project = f", project {r.project}" if r.project else ""
        lines = [
            f"**Stage:** {s.stage}  ",
            f"**Labour request:** {r.industry} in {r.region}{project}  ",
            f"**Case date:** {self.rt.today().isoformat()}  ",
        ]
        if s.valid_until is not None:
            lines.append(f"**Permit until:** {s.valid_until.isoformat()}  ")
        if s.violations:
            lines.append(f"**Violations:** {', '.join(s.violations)}  ")
        if s.closed_reason:
            lines.append(f"**Closed:** {s.closed_reason}")
        return "\n".join(lines)
