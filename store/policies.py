"""Published policy versions in the record (domain/policy_record.py): appended one at a time
to the `policy-versions` stream, in order, each checked as the built-in versions are; read
back whole (a handful of versions over the policy's life)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.policy import Policy, PolicyConflictError, policy_by_id, register, versions
from domain.policy_record import POLICY_STREAM, PolicyVersionPublished
from store.errors import ConcurrencyConflictError, translated
from store.events import append_batch
from store.pool import Conn
from store.records import STORED_COLUMNS, NewPolicyEvent, parse_policy_event

READ = f"SELECT {STORED_COLUMNS} FROM events WHERE case_id = $1 ORDER BY seq"


async def published(conn: Conn) -> list[PolicyVersionPublished]:
    """Every published version, in the order published (each registered in this process, so
    a case decided under one reads it by id)."""
    with translated():
        rows = await conn.fetch(READ, POLICY_STREAM)
    found = [parse_policy_event(row) for row in rows]
    for p in found:
        register(p.version)
    return found


async def known_versions(conn: Conn) -> list[Policy]:
    """The built-in versions and the published ones, in the order they take effect."""
    await published(conn)
    return list(versions())


async def publish(conn: Conn, event: PolicyVersionPublished) -> None:
    """Append the version as the stream's next event. PolicyConflictError when its id is
    taken (built in, or published before); a publication racing another is told to try again
    (ConcurrencyConflictError)."""
    before = await published(conn)
    if any(p.version.id == event.version.id for p in before):
        raise PolicyConflictError(f"policy {event.version.id} is published already")
    try:
        policy_by_id(event.version.id)
    except LookupError:
        pass
    else:
        raise PolicyConflictError(f"policy {event.version.id} is built into kosh")
    seq = len(before)
    batch = [NewPolicyEvent(event_id=f"{POLICY_STREAM}:{seq + 1}", event=event)]

    async def nothing_projected(base: int, new: Sequence[NewPolicyEvent], rows: object) -> None:
        return None

    result = await append_batch(conn, POLICY_STREAM, seq, batch, nothing_projected)
    if result.appended != 1:
        raise ConcurrencyConflictError(POLICY_STREAM, seq, seq + 1, "published meanwhile")
    register(event.version)
