"""Staff: notices that need them, and who sent a staff input (proved, and allowed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio import activity

from activities import models as m
from activities.errors import classified
from activities.logging import activity_log
from adapters.assertions import UnauthenticatedError, Verifier
from adapters.ports import StaffNotifier
from store.staff import get_staff, may_act


class StaffActivities:
    def __init__(self, *, notifier: StaffNotifier) -> None:
        self.notifier = notifier

    @activity.defn
    async def notify_staff(self, req: m.NotifyInput) -> m.NotifyResult:
        async with classified():
            await self.notifier.notify(req.notice)
        activity_log(case_id=req.notice.case_id).info("staff_notified", kind=req.notice.kind)
        return m.NotifyResult(delivered=True)

    @activity.defn
    async def woke_late(self, req: m.WokeInput) -> m.WokeResult:
        """Whether a wait on staff woke later than its end and the staff's floor allow (no
        worker ran the case meanwhile). Asked of an activity, so the answer is in the
        history: the workflow's own time at a wake can differ between a first execution and
        a replay (a task that timed out on a loaded worker and was completed by a later
        attempt), and the two then took different branches (the soak of 2026-12-05)."""
        late = datetime.now(UTC) - req.started > timedelta(seconds=req.seconds)
        activity_log().info("wake_checked", late=late)
        return m.WokeResult(late=late)


class RegistryActivities:
    """Who sent a staff input: the assertion's signature and binding (adapters/assertions.py)
    and the member as the staff registry knows them now, asked by the workflow, never the
    sender's word."""

    def __init__(self, *, pool: asyncpg.Pool, verifier: Verifier) -> None:
        self.pool = pool
        self.verifier = verifier

    @activity.defn
    async def verify_actor(self, req: m.ActorProofInput) -> m.ActorVerdict:
        log = activity_log(case_id=req.workflow_id)
        verdict = await self._verdict(req)
        log.info("actor_verified", role=req.role, rule=verdict.rule, staff_id=verdict.staff_id)
        return verdict

    async def _verdict(self, req: m.ActorProofInput) -> m.ActorVerdict:
        if not req.assertion:
            return _unauthenticated(
                "no assertion: staff input is sent by kosh (the console, the CLI), or with "
                "one from `kosh assert`"
            )
        if not req.request_id:
            return _unauthenticated("no request_id: an assertion is bound to one request")
        try:
            proved = self.verifier.verify(
                req.assertion, workflow_id=req.workflow_id, request_id=req.request_id
            )
        except UnauthenticatedError as exc:
            return _unauthenticated(str(exc))
        async with self.pool.acquire() as conn:
            member = await get_staff(conn, staff_id=proved.staff_id)
        if member is None or not member.active:
            return _unauthenticated(f"{proved.staff_id} is not an active member of the registry")
        if proved.scope == "feed" and "agency_feed" not in member.roles:
            return _unauthenticated(f"a feed key asserts agency feeds only, not {member.staff_id}")
        authorised, reason = may_act(member, req.role, *req.or_roles)
        if not authorised:
            return m.ActorVerdict(
                staff_id=member.staff_id, rule="actor_not_authorised", reason=reason
            )
        return m.ActorVerdict(staff_id=member.staff_id)


def _unauthenticated(reason: str) -> m.ActorVerdict:
    return m.ActorVerdict(rule="unauthenticated", reason=reason)
