"""Staff notifications: interviews due, reminders, arrivals, repayments."""

from __future__ import annotations

from temporalio import activity

from activities import models as m
from activities.logging import activity_log
from adapters.ports import StaffNotifier


class StaffActivities:
    def __init__(self, *, notifier: StaffNotifier) -> None:
        self.notifier = notifier

    @activity.defn
    async def notify_staff(self, req: m.NotifyInput) -> m.NotifyResult:
        await self.notifier.notify(req.notice)
        activity_log(case_id=req.notice.case_id).info("staff_notified", kind=req.notice.kind)
        return m.NotifyResult(delivered=True)
