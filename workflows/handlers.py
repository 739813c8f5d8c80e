"""The one way input reaches a kosh workflow, written once for a case and a labour request.

Every signal and every update arrives through one dynamic handler as raw payloads (a name the
workflow does not take included): parsed once into a typed input or refused (workflows/
inputs.py), then applied under the workflow's lock, which also serialises the main loop's
steps (samples-python's safe_message_handlers): the registry confirms the actor, the decider
decides, the record records. An update's validator refuses beforehand, with nothing recorded,
what applying it would refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import models as m
    from activities.staff import RegistryActivities
    from domain.errors import DomainError
    from workflows.api import UpdateResult
    from workflows.inputs import Actor, Input, InputLog

from workflows.runtime import Runtime


class Subject(Protocol):
    """A case or a labour request, as its input handlers see it."""

    rt: Runtime
    updates: tuple[str, ...]  # the update names it takes

    @property
    def inputs(self) -> InputLog: ...
    @property
    def subject_id(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    @property
    def opened(self) -> bool: ...
    @property
    def recorded(self) -> bool: ...
    def parse(self, name: str, args: Sequence[RawValue]) -> Input: ...
    def kind_of(self, name: str) -> str: ...
    def command_for(self, item: Input) -> tuple[Any, Actor | None]: ...
    async def take(self, item: Input, *, update: bool) -> UpdateResult: ...
    async def record(self, command: Any) -> list[Any]: ...
    def dry_run(self, command: Any) -> None: ...


class TakesInput:
    """Mixed into a workflow class whose `subject` is its Case or Request."""

    subject: Subject

    @workflow.signal(dynamic=True)
    async def receive(self, name: str, args: Sequence[RawValue]) -> None:
        """Every signal, a name the workflow does not take included (refused, listed)."""
        await self._take(name, args, update=False)

    @workflow.update(dynamic=True)
    async def submit(self, name: str, args: Sequence[RawValue]) -> UpdateResult:
        """A staff input whose sender waits for `accepted` or the refusal and its rule."""
        return await self._take(name, args, update=True)

    @submit.validator
    def _validate(self, name: str, args: Sequence[RawValue]) -> None:
        """Refuse now what applying would refuse (nothing is recorded, nothing listed)."""
        s = self.subject
        try:
            if name not in s.updates:
                raise DomainError("unknown_input", f"no update named {name[:100]!r} is taken here")
            item = s.parse(name, args)
            if item.request_id is not None and item.request_id in s.inputs.applied:
                return  # a retried update: the handler answers with the first result
            command, _ = s.command_for(item)
            s.dry_run(command)
        except DomainError as exc:
            # str() of this error reads "rule: reason"; the type lets tools branch on the rule.
            raise ApplicationError(exc.reason, type=exc.rule, non_retryable=True) from None

    async def _take(self, name: str, args: Sequence[RawValue], *, update: bool) -> UpdateResult:
        s = self.subject
        try:
            item = s.parse(name, args)
        except DomainError as exc:
            return s.inputs.refuse(s.kind_of(name), exc.rule, exc.reason)
        # Input that comes with the start waits for the application (or the request) to be
        # recorded, or refused, first: it is about a case, not about nothing yet.
        await workflow.wait_condition(lambda: s.opened)
        async with s.rt.lock:
            return await s.take(item, update=update)


async def apply(s: Subject, item: Input, *, update: bool) -> UpdateResult:
    """An input under the lock: a retry answered once, the actor confirmed by the staff
    registry, then decided and recorded, or refused (listed in the status), nothing changed."""
    log, key = s.inputs, item.request_id
    if key is not None and key in log.applied:
        if update:  # a retried update: the same answer, applied once
            return log.applied[key]
        return log.refuse(item.kind, "duplicate_request", f"request {key} already applied")
    try:
        command, actor = s.command_for(item)
    except DomainError as exc:
        return log.refuse(item.kind, exc.rule, exc.reason)
    refused = await unauthorised(s, actor)
    if refused is not None:
        return log.refuse(item.kind, "actor_not_authorised", refused)
    try:
        await s.record(command)
    except DomainError as exc:
        return log.refuse(item.kind, exc.rule, exc.reason)
    result = UpdateResult(accepted=True)
    if key is not None:
        log.applied[key] = result
    return result


async def unauthorised(s: Subject, actor: Actor | None) -> str | None:
    """Why the actor may not do this (None: they may), asked of the staff registry from the
    worker itself (never on the sender's word)."""
    if actor is None or s.closed or not s.recorded:
        return None  # closed, or nothing recorded: the decider refuses it, saying so
    role, *others = actor.roles
    request = m.ActorCheckInput(
        case_id=s.subject_id, staff_id=actor.staff_id, role=role, or_roles=tuple(others)
    )
    summary = f"check {' or '.join(actor.roles)}"
    check = await s.rt.ask_store(RegistryActivities.check_actor, request, summary=summary)
    return None if check.authorised else check.reason
