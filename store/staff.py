"""The staff registry (migrations 0004, 0005, 0008): members, their roles, whether they may
act, the sign-in tokens the console and the CLI check, and the console's sessions (of tokens
and sessions only a SHA-256 is stored). A session ends at sign-out, when the member's token
is reissued, when the member is deactivated, and after `SESSION_HOURS`."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal, get_args

from pydantic import BaseModel

from store.errors import translated
from store.pool import Conn

Role = Literal[
    "interviewer", "case_officer", "operator", "agency_feed", "policy_officer", "analyst"
]
ROLES: tuple[str, ...] = get_args(Role)

# Deactivating a member ends their console sessions in the same statement.
PUT = """
WITH ended AS (DELETE FROM console_sessions WHERE staff_id = $1 AND NOT $3)
INSERT INTO staff (staff_id, roles, active) VALUES ($1, $2, $3)
ON CONFLICT (staff_id) DO UPDATE SET roles = EXCLUDED.roles, active = EXCLUDED.active,
                                     updated_at = now()
"""
GET = "SELECT staff_id, roles, active FROM staff WHERE staff_id = $1"
# A new token ends the member's console sessions in the same statement.
SET_TOKEN = """
WITH ended AS (DELETE FROM console_sessions WHERE staff_id = $1)
UPDATE staff SET token_hash = $2, updated_at = now() WHERE staff_id = $1
"""
GET_TOKEN = "SELECT token_hash FROM staff WHERE staff_id = $1 AND active"
LIST = "SELECT staff_id, roles, active FROM staff ORDER BY staff_id"

SESSION_HOURS = 12  # a working day; then the member signs in again
# Only for the active member whose current token was given; expired sessions are swept here.
START_SESSION = """
WITH swept AS (DELETE FROM console_sessions WHERE expires_at < now())
INSERT INTO console_sessions (session_hash, staff_id, token_hash, expires_at)
SELECT $1, staff_id, token_hash, now() + make_interval(hours => $4)
FROM staff WHERE staff_id = $2 AND active AND token_hash = $3
"""
SESSION_MEMBER = """
SELECT s.staff_id FROM console_sessions s JOIN staff m USING (staff_id)
WHERE s.session_hash = $1 AND s.expires_at > now() AND m.active AND m.token_hash = s.token_hash
"""
END_SESSION = "DELETE FROM console_sessions WHERE session_hash = $1"


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


async def start_session(conn: Conn, *, staff_id: str, token: str) -> str | None:
    """A console session for the active member whose current sign-in token `token` is: its id
    (for the browser's cookie, never stored), or None (unknown or inactive member, wrong
    token)."""
    session = secrets.token_urlsafe(32)
    with translated():
        status = await conn.execute(
            START_SESSION, _token_hash(session), staff_id, _token_hash(token), SESSION_HOURS
        )
    return session if status.endswith(" 1") else None


async def session_member(conn: Conn, *, session: str) -> str | None:
    """The member whose console session `session` is, while it lasts; None once it has ended."""
    with translated():
        member: str | None = await conn.fetchval(SESSION_MEMBER, _token_hash(session))
    return member


async def end_session(conn: Conn, *, session: str) -> None:
    """End a console session (sign-out); a session already over is left as it is."""
    with translated():
        await conn.execute(END_SESSION, _token_hash(session))


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
