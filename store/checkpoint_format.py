"""What a checkpoint of the record says: every stored column of every event, folded in the
log's order into one running hash, and per stream (a case, or a labour request's
`labour-<id>`) its count, a digest and a short tag per event that lets a verify name the seq
that changed. Decision 009 gives the format; this module is its one definition.

An event's canonical form is a JSON array of its columns in table order, recorded_at apart:

    content  = [position, case_id, seq, event_id, type, schema_version, policy_id,
                occurred_at, payload, idempotency_key, prev_hash, hash]
    row hash = sha256(sha256(content) || recorded_at)

timestamps as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`, payload as PostgreSQL's jsonb text form
(`payload::text`), bytea as lower-case hex, NULL as null; JSON compact, UTF-8, not
ASCII-escaped. The running hash and each stream's digest start at sha256("kosh-checkpoint/1")
and take `sha256(previous || row hash)` per event, in position order. An event's tag is the
first 4 bytes of sha256(content) and the first 2 of sha256(recorded_at), in hex: a mismatch
says which of the two changed. The tags only name; the digests and the running hash decide.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FORMAT = "kosh-checkpoint/1"
START = hashlib.sha256(FORMAT.encode()).digest()
CONTENT_TAG, TIME_TAG = 4, 2  # bytes of each part of an event's tag
TAG_HEX = 2 * (CONTENT_TAG + TIME_TAG)

# The columns a checkpoint reads, in table order (recorded_at is hashed apart, see above).
COLUMNS = """position, case_id, seq, event_id, type, schema_version, policy_id, occurred_at,
recorded_at, payload::text AS payload, idempotency_key, prev_hash, hash"""


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StreamHead(Model):
    """One stream at the checkpoint: its events, the digest of all of them, their tags."""

    count: int = Field(ge=1)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    tags: str = Field(pattern=r"^[0-9a-f]*$")  # TAG_HEX per event, in seq order


class Coverage(Model):
    """What a checkpoint covers: the log up to `last_position`."""

    format: str = FORMAT
    last_position: int = Field(ge=0)
    events: int = Field(ge=0)
    running_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    streams: dict[str, StreamHead]


class CheckpointBody(Coverage):
    """The signed part of a checkpoint file: the coverage, when, and by which key."""

    key_id: str = Field(min_length=1, max_length=64)
    written_at: datetime


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


@dataclass(frozen=True)
class RowHash:
    """An event's row hash (what the digests fold) and its tag (what names a change)."""

    full: bytes
    tag: bytes  # CONTENT_TAG + TIME_TAG bytes


def row_hash(row: Mapping[str, Any]) -> RowHash:
    """The canonical hash of one event row selected with COLUMNS."""
    content = [
        row["position"],
        row["case_id"],
        row["seq"],
        row["event_id"],
        row["type"],
        row["schema_version"],
        row["policy_id"],
        utc_text(row["occurred_at"]),
        row["payload"],
        row["idempotency_key"],
        _hex(row["prev_hash"]),
        _hex(row["hash"]),
    ]
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    content_hash = hashlib.sha256(text).digest()
    recorded = utc_text(row["recorded_at"]).encode()
    time_hash = hashlib.sha256(recorded).digest()
    full = hashlib.sha256(content_hash + recorded).digest()
    return RowHash(full, content_hash[:CONTENT_TAG] + time_hash[:TIME_TAG])


def chained(previous: bytes, row: RowHash) -> bytes:
    return hashlib.sha256(previous + row.full).digest()


@dataclass
class _Stream:
    count: int = 0
    digest: bytes = START
    tags: bytearray = field(default_factory=bytearray)


class CoverageFold:
    """Folds rows (in position order) into the Coverage of a new checkpoint."""

    def __init__(self) -> None:
        self.running = START
        self.events = 0
        self.last_position = 0
        self._streams: dict[str, _Stream] = {}

    def add(self, row: Mapping[str, Any], hashed: RowHash) -> None:
        self.running = chained(self.running, hashed)
        self.events += 1
        self.last_position = row["position"]
        stream = self._streams.setdefault(row["case_id"], _Stream())
        stream.count += 1
        stream.digest = chained(stream.digest, hashed)
        stream.tags += hashed.tag

    def coverage(self) -> Coverage:
        streams = {
            case_id: StreamHead(count=s.count, digest=s.digest.hex(), tags=s.tags.hex())
            for case_id, s in sorted(self._streams.items())
        }
        return Coverage(
            last_position=self.last_position,
            events=self.events,
            running_hash=self.running.hex(),
            streams=streams,
        )
