"""Published policy versions (issue #22, item 3): `kosh policy publish DRAFT` (a policy
officer publishes a draft into the record, with the basis it carries out), `kosh policy
versions` (every version, built in and published, where and when it takes effect, who
published it) and the record's versions for `kosh policy show --on DATE --region R`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli.common import JsonFlag, StateOpt, _emit, fail, out
from cli.connect import with_record
from cli.identity import load_session
from cli.policy_drafts import DraftArg, load_draft
from cli.published import record_versions
from cli.tables import row, table
from domain.policy import POLICIES, Policy, PolicyConflictError
from domain.policy_record import PolicyVersionPublished
from store.policies import publish
from store.pool import Conn
from store.staff import get_staff, signed_in

PUBLISHER = "policy_officer"


def policy_publish(
    draft: DraftArg,
    basis: Annotated[
        str,
        typer.Option(help="What the version carries out: the decree, order or decision."),
    ],
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Publish a draft as a version (a policy officer's act, signed in with `kosh login`):
    recorded in the record with who and when; from its dates new cases in its regions take
    it (running cases keep theirs). Exit 2 when the draft is refused or its id is taken."""
    record_versions(state)  # the published ones too: a draft's id is new, its base known
    version = load_draft(draft)
    session = load_session(state)
    if session is None:
        fail("not signed in: a policy officer publishes (`kosh login STAFF_ID`)", 2)
    member_id = session.staff_id

    async def act(conn: Conn) -> PolicyVersionPublished | str:
        member = await get_staff(conn, staff_id=member_id)
        if not await signed_in(conn, staff_id=member_id, token=session.token) or member is None:
            return f"{member_id}: the sign-in is no longer valid; run `kosh login` again"
        if not member.active or PUBLISHER not in member.roles:
            return f"{member_id} may not publish: the registry gives {PUBLISHER} to whom may"
        event = PolicyVersionPublished(
            policy_id=version.id,
            at=datetime.now(UTC),
            version=version,
            published_by=member_id,
            basis=basis,
        )
        try:
            await publish(conn, event)
        except PolicyConflictError as exc:
            return str(exc)
        return event

    done = with_record(state, act)
    if isinstance(done, str):
        fail(done, 2)
    _emit(
        published_record(done),
        as_json,
        f"published {version.id} by {done.published_by}: {version.takes_effect()}",
    )


def policy_versions(state: StateOpt = None, as_json: JsonFlag = False) -> None:
    """Every version: built into kosh or published in the record, where and from when it
    takes effect, who published it and on what basis."""
    found, source = record_versions(state)
    rows: list[dict[str, Any]] = [built_in_record(p) for p in POLICIES]
    rows += [published_record(p) for p in found]
    if as_json:
        _emit({"source": source, "versions": rows}, True, "")
        return
    shown = table(f"Policy versions ({source})", "Id", "Takes effect", "Published", "Basis")
    for p, r in zip([*POLICIES, *(e.version for e in found)], rows, strict=True):
        stamp = f"{r['published_at'][:16]} by {r['published_by']}" if r["published_by"] else "-"
        row(shown, p.id, p.takes_effect(), stamp, r["basis"] or "built into kosh")
    out.print(shown)


def built_in_record(p: Policy) -> dict[str, Any]:
    return {
        "id": p.id,
        "effective_from": p.effective_from.isoformat(),
        "phased_from": {r: d.isoformat() for r, d in p.phased_from.items()},
        "published_by": None,
        "published_at": None,
        "basis": None,
    }


def published_record(e: PolicyVersionPublished) -> dict[str, Any]:
    return built_in_record(e.version) | {
        "published_by": e.published_by,
        "published_at": e.at.isoformat(),
        "basis": e.basis,
    }
