"""Who is acting: `kosh login`, `kosh logout`, `kosh whoami`, and the signed-in member that
`kosh interview` and `kosh fact` send as the actor (never a command-line option).

A member signs in with the token the staff registry issued them (`kosh staff token`). The
session lives in the state folder (`session.json`, readable by its owner only); scripts may
set KOSH_STAFF_ID and KOSH_STAFF_TOKEN instead. Every command that acts asks the console for
an assertion with it (cli/proof.py), which checks the token against the registry again, so a
revoked token or a deactivated member stops at once; the case verifies the assertion and
the member's role itself, from its worker.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ValidationError

from cli.common import JsonFlag, StateOpt, _emit, fail, out
from cli.connect import with_record
from cli.stack import state_dir
from store.pool import Conn
from store.staff import StaffMember, get_staff, signed_in

SESSION_FILE = "session.json"


class Session(BaseModel):
    staff_id: str
    token: str


def session_path(state: Path | None) -> Path:
    return state_dir(state) / SESSION_FILE


def save_session(folder: Path, session: Session) -> None:
    """Write the session readable by its owner only (it holds a sign-in token)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SESSION_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(session.model_dump_json())
    path.chmod(0o600)


def load_session(state: Path | None) -> Session | None:
    """KOSH_STAFF_ID + KOSH_STAFF_TOKEN, else the state folder's session, else None."""
    env_id, env_token = os.environ.get("KOSH_STAFF_ID"), os.environ.get("KOSH_STAFF_TOKEN")
    if env_id and env_token:
        return Session(staff_id=env_id, token=env_token)
    path = session_path(state)
    if not path.exists():
        return None
    try:
        return Session.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError):
        fail(f"{path}: not a kosh session; run `kosh login` again", 2)


async def _verified(conn: Conn, session: Session) -> StaffMember | None:
    if not await signed_in(conn, staff_id=session.staff_id, token=session.token):
        return None
    return await get_staff(conn, staff_id=session.staff_id)


def login(
    staff_id: Annotated[str, typer.Argument(help="Your staff id.")],
    state: StateOpt = None,
) -> None:
    """Sign in as a staff member: the token `kosh staff token` issued you (prompted, or
    KOSH_STAFF_TOKEN). Later `kosh interview` and `kosh fact` act as you."""
    token = os.environ.get("KOSH_STAFF_TOKEN") or typer.prompt("token", hide_input=True)
    session = Session(staff_id=staff_id, token=token.strip())
    member = with_record(state, lambda conn: _verified(conn, session))
    if member is None:
        fail(f"{staff_id}: unknown or inactive staff id, or wrong token", 2)
    save_session(state_dir(state), session)
    out.print(f"signed in as {member.staff_id} ({', '.join(member.roles)})")


def logout(state: StateOpt = None) -> None:
    """Forget this state folder's sign-in."""
    session_path(state).unlink(missing_ok=True)
    out.print("signed out")


def whoami(state: StateOpt = None, as_json: JsonFlag = False) -> None:
    """The signed-in member and their roles, as the registry has them now."""
    session = load_session(state)
    if session is None:
        fail("not signed in: run `kosh login STAFF_ID`", 2)
    member = with_record(state, lambda conn: _verified(conn, session))
    if member is None:
        fail(f"{session.staff_id}: the sign-in is no longer valid; run `kosh login` again", 2)
    _emit(member.model_dump(), as_json, f"{member.staff_id} ({', '.join(member.roles)})")
