"""Console sessions in the staff registry: started only with the member's current token, and
over for good at sign-out, a token reissue, deactivation and expiry."""

from __future__ import annotations

import uuid

import asyncpg

from store.pool import Conn
from store.staff import end_session, issue_token, put_staff, session_member, start_session


async def member(conn: Conn) -> tuple[str, str]:
    staff_id = f"s-{uuid.uuid4().hex[:10]}"
    await put_staff(conn, staff_id=staff_id, roles=["interviewer"])
    token = await issue_token(conn, staff_id=staff_id)
    assert token is not None
    return staff_id, token


async def test_a_session_needs_the_current_token_of_an_active_member(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        staff_id, token = await member(conn)
        assert await start_session(conn, staff_id=staff_id, token="wrong") is None
        assert await start_session(conn, staff_id="nobody", token=token) is None
        session = await start_session(conn, staff_id=staff_id, token=token)
        assert session is not None
        assert await session_member(conn, session=session) == staff_id
        assert await session_member(conn, session=session + "x") is None
        stored = await conn.fetchval(
            "SELECT count(*) FROM console_sessions WHERE session_hash = $1", session
        )
        assert stored == 0  # only its digest is kept
        await put_staff(conn, staff_id=staff_id, roles=["interviewer"], active=False)
        assert await start_session(conn, staff_id=staff_id, token=token) is None


async def test_sign_out_reissue_deactivation_and_expiry_end_sessions(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        staff_id, token = await member(conn)

        async def started() -> str:
            session = await start_session(conn, staff_id=staff_id, token=token)
            assert session is not None and await session_member(conn, session=session)
            return session

        signed_out = await started()
        await end_session(conn, session=signed_out)
        assert await session_member(conn, session=signed_out) is None

        reissued = await started()
        token = await issue_token(conn, staff_id=staff_id) or ""
        assert await session_member(conn, session=reissued) is None

        deactivated = await started()
        await put_staff(conn, staff_id=staff_id, roles=["interviewer"], active=False)
        await put_staff(conn, staff_id=staff_id, roles=["interviewer"])  # back, but not it
        assert await session_member(conn, session=deactivated) is None

        expired = await started()
        await conn.execute(
            "UPDATE console_sessions SET expires_at = now() WHERE staff_id = $1", staff_id
        )
        assert await session_member(conn, session=expired) is None
        await started()  # a sign-in sweeps expired sessions away
        left = await conn.fetchval(
            "SELECT count(*) FROM console_sessions WHERE staff_id = $1 AND expires_at <= now()",
            staff_id,
        )
        assert left == 0
