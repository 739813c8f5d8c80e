"""The codec server's ports on kosh's database: operators checked in the staff registry,
and each decryption written to the access log (adapters/codec_access.py)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from adapters.codec_access import Read, Reader, Refusal
from store.access_log import AccessEntry, record_access
from store.errors import StoreError
from store.staff import get_staff, may_act, signed_in


class RegistryOperators:
    """A member's sign-in credentials, checked on every request: the current token of an
    active member whose roles include `operator`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def operator(self, staff_id: str, token: str) -> Reader | Refusal:
        try:
            async with self.pool.acquire() as conn:
                if not await signed_in(conn, staff_id=staff_id, token=token):
                    return Refusal(401, "unknown or inactive staff id, or wrong token")
                member = await get_staff(conn, staff_id=staff_id)
        except StoreError:
            return Refusal(503, "the staff registry is unavailable")
        allowed, why = may_act(member, "operator")
        if not allowed:
            return Refusal(403, why)
        return Reader(member=staff_id, via="staff_token")


class RecordedAccess:
    """The access log in kosh's database (store/access_log.py)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, reads: Sequence[Read]) -> None:
        entries = [
            AccessEntry(
                member=r.member,
                via=r.via,
                namespace=r.namespace,
                workflow_id=r.workflow_id,
                payloads=r.payloads,
            )
            for r in reads
        ]
        async with self.pool.acquire() as conn:
            await record_access(conn, entries=entries)
