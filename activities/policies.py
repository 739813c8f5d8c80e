"""The policy version a new case takes (issue #22, item 3): the one in force in the region it
applies in, on its application date, of the versions built into kosh and those published in
the record (store/policies.py). Asked once, when the case records its application; the
answer is in the case's history, so a replay takes the same version whatever was published
since."""

from __future__ import annotations

from datetime import date

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import recorded
from domain.model import Model
from domain.policy import Policy, UnknownPolicyError, in_force
from domain.regions import Region
from store.policies import known_versions


class VersionInput(Model):
    region: Region | None  # None: a case with no region yet takes the rest of the country's
    on: date


class PolicyActivities:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn
    async def version_for(self, req: VersionInput) -> Policy:
        async with recorded(), self.pool.acquire() as conn:
            among = await known_versions(conn)
        try:
            return in_force(req.on, req.region, among)
        except UnknownPolicyError as exc:
            # no version was in force then (a date before the first): retrying cannot help
            raise ApplicationError(str(exc), type="NoPolicyInForce", non_retryable=True) from None
