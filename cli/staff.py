"""`kosh staff`: the registry of who may act on cases (interviewers, case officers,
operators, agency feeds) and their sign-in tokens. A case checks it before it accepts any
staff input; the console and `kosh login` check the tokens."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from cli.common import JsonFlag, StateOpt, _emit, fail, out
from cli.connect import with_record
from store.pool import Conn
from store.staff import ROLES, get_staff, issue_token, list_staff, put_staff

staff_app = typer.Typer(no_args_is_help=True, help="Who may act on cases, in which roles.")
STAFF_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _check_id(staff_id: str) -> None:
    if not STAFF_ID.match(staff_id):
        fail(f"staff id {staff_id!r}: letters, digits, . _ - only (at most 64)", 2)


@staff_app.command("add")
def staff_add(
    staff_id: Annotated[str, typer.Argument(help="The member's staff id.")],
    role: Annotated[list[str], typer.Option(help=f"A role ({', '.join(ROLES)}); repeatable.")],
    state: StateOpt = None,
) -> None:
    """Add a member (or replace the roles of one), active."""
    _check_id(staff_id)
    unknown = [r for r in role if r not in ROLES]
    if unknown:
        fail(f"--role {', '.join(unknown)}: not one of {', '.join(ROLES)}", 2)
    with_record(state, lambda conn: put_staff(conn, staff_id=staff_id, roles=role))
    out.print(f"{staff_id}: {', '.join(sorted(set(role)))}, active")
    if set(role) != {"agency_feed"}:
        out.print(f"issue their sign-in token with `kosh staff token {staff_id}`")


@staff_app.command("token")
def staff_token(
    staff_id: Annotated[str, typer.Argument(help="The member's staff id.")],
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a member's sign-in token (for the console and `kosh login`), shown once; the
    previous token stops working. Agency feeds never sign in."""
    _check_id(staff_id)

    async def go(conn: Conn) -> str | None:
        member = await get_staff(conn, staff_id=staff_id)
        if member is None:
            fail(f"no staff member {staff_id}", 1)
        if set(member.roles) == {"agency_feed"}:
            fail(f"{staff_id} is an agency feed: feeds act through the callback receiver", 2)
        return await issue_token(conn, staff_id=staff_id)

    token = with_record(state, go)
    _emit({"staff_id": staff_id, "token": token}, as_json, f"{staff_id}: token {token}")


@staff_app.command("deactivate")
def staff_deactivate(
    staff_id: Annotated[str, typer.Argument(help="The member's staff id.")],
    state: StateOpt = None,
) -> None:
    """Stop a member from acting on cases (their past actions stay on record)."""
    _check_id(staff_id)

    async def go(conn: Conn) -> bool:
        member = await get_staff(conn, staff_id=staff_id)
        if member is None:
            return False
        await put_staff(conn, staff_id=staff_id, roles=list(member.roles), active=False)
        return True

    if not with_record(state, go):
        fail(f"no staff member {staff_id}", 1)
    out.print(f"{staff_id}: deactivated")


@staff_app.command("list")
def staff_list(state: StateOpt = None, as_json: JsonFlag = False) -> None:
    """Every member, their roles, and whether they are active."""
    members = with_record(state, list_staff)
    if as_json:
        _emit([m.model_dump() for m in members], True, "")
        return
    for m in members:
        status = "active" if m.active else "inactive"
        out.print(f"{m.staff_id:<24} {', '.join(m.roles):<40} {status}")
