"""The staff registry (migrations 0004, 0005): members, their roles, whether they may act,
and the sign-in tokens the console and the CLI check (only a token's SHA-256 is stored)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal, get_args

from pydantic import BaseModel

from store.errors import translated
from store.pool import Conn

Role = Literal["interviewer", "case_officer", "operator", "agency_feed"]
ROLES: tuple[str, ...] = get_args(Role)

PUT = """
INSERT INTO staff (staff_id, roles, active) VALUES ($1, $2, $3)
ON CONFLICT (staff_id) DO UPDATE SET roles = EXCLUDED.roles, active = EXCLUDED.active,
                                     updated_at = now()
"""
GET = "SELECT staff_id, roles, active FROM staff WHERE staff_id = $1"
SET_TOKEN = "UPDATE staff SET token_hash = $2, updated_at = now() WHERE staff_id = $1"
GET_TOKEN = "SELECT token_hash FROM staff WHERE staff_id = $1 AND active"
LIST = "SELECT staff_id, roles, active FROM staff ORDER BY staff_id"


class StaffMember(BaseModel):
    staff_id: str
    roles: tuple[str, ...]
    active: bool


async def put_staff(conn: Conn, *, staff_id: str, roles: list[str], active: bool = True) -> None:
    with translated():
        await conn.execute(PUT, staff_id, sorted(set(roles)), active)


async def get_staff(conn: Conn, *, staff_id: str) -> StaffMember | None:
    with translated():
        row = await conn.fetchrow(GET, staff_id)
    return None if row is None else StaffMember(**dict(row))


async def list_staff(conn: Conn) -> list[StaffMember]:
    with translated():
        rows = await conn.fetch(LIST)
    return [StaffMember(**dict(r)) for r in rows]


def _token_hash(token: str) -> str:
    # Tokens are 32 random bytes: a plain digest is enough (nothing to brute-force).
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(conn: Conn, *, staff_id: str) -> str | None:
    """A fresh sign-in token for the member (the previous one stops working), shown once;
    None if there is no such member."""
    token = secrets.token_urlsafe(32)
    with translated():
        status = await conn.execute(SET_TOKEN, staff_id, _token_hash(token))
    return token if status.endswith(" 1") else None


async def signed_in(conn: Conn, *, staff_id: str, token: str) -> bool:
    """Whether `token` is the active member's current sign-in token."""
    with translated():
        stored = await conn.fetchval(GET_TOKEN, staff_id)
    return stored is not None and secrets.compare_digest(stored, _token_hash(token))


def _a(role: str) -> str:
    name = role.replace("_", " ")
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def may_act(member: StaffMember | None, role: str, *alternatives: str) -> tuple[bool, str]:
    """Whether `member` may act in `role` (or one of the alternatives), and if not, why (for
    the refusal)."""
    if member is None:
        return False, "not in the staff registry"
    if not member.active:
        return False, f"{member.staff_id} is not active"
    wanted = (role, *alternatives)
    if not set(wanted) & set(member.roles):
        return False, f"{member.staff_id} is not {' or '.join(_a(r) for r in wanted)}"
    return True, ""
