"""Staff: notices that need them, and the registry of who may act on a case."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from activities import models as m
from activities.errors import classified
from activities.logging import activity_log
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


class RegistryActivities:
    """Who may act: the staff registry, asked by the workflow, never the caller's word."""

    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn
    async def check_actor(self, req: m.ActorCheckInput) -> m.ActorCheckResult:
        async with self.pool.acquire() as conn:
            member = await get_staff(conn, staff_id=req.staff_id)
        authorised, reason = may_act(member, req.role, *req.or_roles)
        activity_log(case_id=req.case_id).info(
            "actor_checked", role=req.role, authorised=authorised
        )
        return m.ActorCheckResult(authorised=authorised, reason=reason)
