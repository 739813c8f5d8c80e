"""The staff registry (migration 0004): members, their roles, whether they may act."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel

from store.errors import translated
from store.pool import Conn

Role = Literal["interviewer", "case_officer", "operator"]
ROLES: tuple[str, ...] = get_args(Role)

PUT = """
INSERT INTO staff (staff_id, roles, active) VALUES ($1, $2, $3)
ON CONFLICT (staff_id) DO UPDATE SET roles = EXCLUDED.roles, active = EXCLUDED.active,
                                     updated_at = now()
"""
GET = "SELECT staff_id, roles, active FROM staff WHERE staff_id = $1"
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


def may_act(member: StaffMember | None, role: str) -> tuple[bool, str]:
    """Whether `member` may act in `role`, and if not, why (for the refusal)."""
    if member is None:
        return False, "not in the staff registry"
    if not member.active:
        return False, f"{member.staff_id} is not active"
    if role not in member.roles:
        name = role.replace("_", " ")
        return False, f"{member.staff_id} is not {'an' if name[0] in 'aeiou' else 'a'} {name}"
    return True, ""
