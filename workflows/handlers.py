"""The one way input reaches a kosh workflow, written once for a case and a labour request.

Every signal and every update arrives through one dynamic handler as raw payloads (a name the
workflow does not take included): parsed once into a typed input or refused (workflows/
inputs.py), then applied under the workflow's lock, which also serialises the main loop's
steps (samples-python's safe_message_handlers): a staff input's sender is proved by the
assertion it carries (adapters/assertions.py), verified from the worker with the staff
registry, and the actor taken from it; the decider decides; the record records. An update's
validator refuses beforehand, with nothing recorded, what applying it would refuse.
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
    from adapters.ports import AssertionClaims, peek_assertion
    from domain.errors import DomainError
    from workflows.api import QUERY_ANSWER, UpdateResult
    from workflows.inputs import Input, InputLog, request_id_of

from workflows.runtime import Runtime


class Subject(Protocol):
    """A case or a labour request, as its input handlers see it."""

    rt: Runtime
    updates: tuple[str, ...]  # the update names it takes

    @property
    def inputs(self) -> InputLog: ...
    @property
    def subject_id(self) -> str: ...  # the workflow id its staff input is bound to
    @property
    def closed(self) -> bool: ...
    @property
    def opened(self) -> bool: ...
    @property
    def recorded(self) -> bool: ...
    def parse(self, name: str, args: Sequence[RawValue]) -> Input: ...
    def kind_of(self, name: str) -> str: ...
    def roles_for(self, item: Input) -> tuple[str, ...] | None: ...
    def command_for(self, item: Input, actor: str) -> Any: ...
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
        """Refuse now what applying would refuse (nothing is recorded, nothing listed); the
        assertion's signature is checked when the update is applied (an activity)."""
        s = self.subject
        try:
            if name not in s.updates:
                raise DomainError("unknown_input", f"no update named {name[:100]!r} is taken here")
            item = s.parse(name, args)
            if item.request_id is not None and item.request_id in s.inputs.applied:
                return  # a retried update: the handler answers with the first result
            if s.roles_for(item) is None:
                return  # bound to its request or its record, checked when it is applied
            claims = unverified(item, s.subject_id)
            s.dry_run(s.command_for(item, claims.sub))
        except DomainError as exc:
            # str() of this error reads "rule: reason"; the type lets tools branch on the rule.
            raise ApplicationError(exc.reason, type=exc.rule, non_retryable=True) from None

    @workflow.query(name=QUERY_ANSWER)
    def answer(self, request_id: str) -> UpdateResult | None:
        """The answer an input with this request id got (docs/decisions/023): a sender that
        signalled reads it here; None while the input waits (or was never received)."""
        return self.subject.inputs.answer(request_id)

    async def _take(self, name: str, args: Sequence[RawValue], *, update: bool) -> UpdateResult:
        s = self.subject
        try:
            item = s.parse(name, args)
        except DomainError as exc:
            refused = s.inputs.refuse(s.kind_of(name), exc.rule, exc.reason)
            s.inputs.answered(request_id_of(args), refused)
            return refused
        s.inputs.awaited(item.request_id)
        # Input that comes with the start waits for the application (or the request) to be
        # recorded, or refused, first: it is about a case, not about nothing yet.
        await workflow.wait_condition(lambda: s.opened)
        async with s.rt.lock.for_input():
            result = await s.take(item, update=update)
        s.inputs.answered(item.request_id, result)
        return result


async def apply(s: Subject, item: Input, *, update: bool) -> UpdateResult:
    """An input under the lock: a retry answered once; its sender proved and allowed (a staff
    input), then decided and recorded, or refused (listed in the status), nothing changed."""
    log, key = s.inputs, item.request_id
    if key is not None and key in log.applied:
        if update:  # a retried update: the same answer, applied once
            return log.applied[key]
        return log.refuse(item.kind, "duplicate_request", f"request {key} already applied")
    actor, refused = await sender(s, item)
    if refused is not None:
        return log.refuse(item.kind, refused.rule or "unauthenticated", refused.reason)
    try:
        await s.record(s.command_for(item, actor))
    except DomainError as exc:
        return log.refuse(item.kind, exc.rule, exc.reason)
    result = UpdateResult(accepted=True)
    if key is not None:
        log.applied[key] = result
    return result


async def sender(s: Subject, item: Input) -> tuple[str, m.ActorVerdict | None]:
    """Who sent a staff input, proved by its assertion and allowed by the staff registry, both
    asked from the worker (never the sender's word); or the verdict refusing it. An input to a
    closed case, or to a case with nothing recorded yet, is left to the decider to refuse."""
    roles = s.roles_for(item)
    if roles is None:
        return "", None  # an agency's reply, bound to its request by its reference
    claims = peek_assertion(getattr(item.value, "assertion", None) or "")
    if s.closed or not s.recorded:
        return (claims.sub if claims else "unknown"), None
    role, *others = roles
    proof = m.ActorProofInput(
        workflow_id=s.subject_id,
        request_id=item.request_id,
        assertion=getattr(item.value, "assertion", None),
        role=role,
        or_roles=tuple(others),
    )
    summary = f"verify {' or '.join(roles)}"
    verdict = await s.rt.ask_store(RegistryActivities.verify_actor, proof, summary=summary)
    if not verdict.authorised or verdict.staff_id is None:
        return "", verdict
    return verdict.staff_id, None


def unverified(item: Input, subject_id: str) -> AssertionClaims:
    """A staff input's assertion, read but not verified: refused early when it cannot be
    right (none, not kosh's, another workflow, another request). The validator runs no
    activity: the signature, the expiry (on the wall clock, which the workflow's own need not
    follow) and the member are checked when the input is applied."""
    token = getattr(item.value, "assertion", None) or ""
    claims = peek_assertion(token)
    if claims is None:
        raise DomainError("unauthenticated", "the assertion is not one kosh issues")
    if claims.wf != subject_id or claims.req != item.request_id:
        raise DomainError(
            "unauthenticated", "the assertion was issued for another workflow or request"
        )
    return claims
