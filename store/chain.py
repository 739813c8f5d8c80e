"""The record's hash chain, computed by the writer (docs/decisions/010): each event's hash is
the SHA-256 of its content chained to the hash of its stream's previous event, exactly as the
database's own `events_link_hash` (migration 0003) computes it, so `kosh events --verify`
recomputes it there and signed checkpoints (decision 009) anchor it outside the database.

The content includes the payload in jsonb's own text form (`payload::text`); `jsonb_text`
writes that form for the values kosh's events hold (objects, arrays, strings, integers,
booleans, null). A payload holding anything else (a float) is left to the database: the writer
sends no hash, and the insert trigger computes it as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any


class NotCanonical(ValueError):
    """A value whose jsonb text form this module does not write (the database computes it)."""


def jsonb_text(value: Any) -> str:
    """`value::jsonb::text` as PostgreSQL writes it: keys ordered by length, then byte by byte,
    ", " and ": " between items, strings escaped as jsonb escapes them."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{_string(k)}: {jsonb_text(value[k])}" for k in keys) + "}"
    raise NotCanonical(f"no jsonb text form written for {type(value).__name__}")


def _string(text: str) -> str:
    # jsonb escapes what JSON must (", \\, \b \f \n \r \t, the other controls as \u00xx in
    # lower-case hex) and writes every other character as it is: so does the json module's
    # C encoder without ensure_ascii.
    return _encode(text)


_encode = json.JSONEncoder(ensure_ascii=False).encode


def link_hash(
    prev: bytes | None,
    *,
    case_id: str,
    seq: int,
    event_id: str,
    type: str,
    schema_version: int,
    policy_id: str,
    occurred_at: datetime,
    idempotency_key: str | None,
    payload_json: str,
) -> bytes:
    """events_link_hash(prev, e) (migration 0003), in Python. Raises NotCanonical when the
    payload holds a value jsonb_text does not write."""
    at = occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    parts = [
        prev.hex() if prev is not None else "-",
        case_id,
        str(seq),
        event_id,
        type,
        str(schema_version),
        policy_id,
        at,
        idempotency_key if idempotency_key is not None else "-",
        jsonb_text(json.loads(payload_json)),
    ]
    return hashlib.sha256("|".join(parts).encode()).digest()


def chained(
    prev: bytes | None, case_id: str, expected_seq: int, rows: Sequence[Sequence[Any]]
) -> tuple[list[bytes | None], list[bytes | None]]:
    """prev_hash and hash for a batch's rows (event_id, type, schema_version, policy_id,
    occurred_at, payload json, idempotency_key), appended after `prev` at expected_seq+1..;
    all None when one of them cannot be written here (the database chains them then)."""
    prevs: list[bytes | None] = []
    hashes: list[bytes | None] = []
    try:
        for seq, (event_id, type_, version, policy, at, payload, key) in enumerate(
            rows, expected_seq + 1
        ):
            link = link_hash(
                prev,
                case_id=case_id,
                seq=seq,
                event_id=event_id,
                type=type_,
                schema_version=version,
                policy_id=policy,
                occurred_at=at,
                idempotency_key=key,
                payload_json=payload,
            )
            prevs.append(prev)
            hashes.append(link)
            prev = link
    except NotCanonical:
        return [None] * len(rows), [None] * len(rows)
    return prevs, hashes
