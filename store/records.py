"""What goes into the event log and what comes back out of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.allocation import ROUND_EVENT_ADAPTER, ROUND_STREAM_PREFIX, RoundEvent
from domain.events import Event
from domain.labour import LABOUR_EVENT_ADAPTER, LabourEvent
from domain.policy_record import POLICY_STREAM_PREFIX, PolicyVersionPublished
from domain.record import RESERVED_STREAM_PREFIXES
from domain.upcasting import parse_event_json
from store.errors import StoreError


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _NewInStream(Record):
    """An event to append, with the id that makes a retried append harmless."""

    event_id: str = Field(min_length=1, max_length=200)
    idempotency_key: str | None = None

    @model_validator(mode="after")
    def _aware(self) -> Any:
        event: Event | LabourEvent = getattr(self, "event")  # noqa: B009 (a subclass's field)
        if event.at.utcoffset() is None:
            raise ValueError("event.at must be timezone-aware")
        return self


class NewEvent(_NewInStream):
    """An event of a case's stream, to append."""

    event: Event


class NewLabourEvent(_NewInStream):
    """An event of a labour request's stream, to append (same rules as NewEvent)."""

    event: LabourEvent


class NewRoundEvent(_NewInStream):
    """An event of an allocation round's stream, to append (same rules as NewEvent)."""

    event: RoundEvent


class NewPolicyEvent(_NewInStream):
    """A published policy version, to append to its stream (same rules as NewEvent)."""

    event: PolicyVersionPublished


class StoredEvent(Record):
    """An event as the log holds it: its global position and its place in the case."""

    position: int
    case_id: str
    seq: int
    event_id: str
    event: Event
    recorded_at: datetime
    idempotency_key: str | None = None


class StoredLabourEvent(Record):
    """A labour request's event as the log holds it."""

    position: int
    case_id: str  # the stream: labour-<request id>
    seq: int
    event_id: str
    event: LabourEvent
    recorded_at: datetime
    idempotency_key: str | None = None


class AppendResult(Record):
    """`last_seq` is the seq of the batch's last event, whether appended now or before.
    `adopted`: how many events the writer's earlier attempt recorded after the expected seq
    instead of these (the record's version stands; `read_events` after the expected seq gives
    them); 0 when these events are the ones recorded."""

    last_seq: int
    appended: int
    duplicates: int
    adopted: int = 0


STORED_COLUMNS = (
    "position, case_id, seq, event_id, payload::text AS payload, recorded_at, idempotency_key"
)


def stored_from_row(row: Mapping[str, Any]) -> StoredEvent:
    """Parse a row selected with STORED_COLUMNS; an unreadable payload is a StoreError."""
    try:
        event = parse_event_json(row["payload"])
    except ValidationError as exc:
        raise StoreError(
            f"event {row['event_id']} ({row['case_id']}/{row['seq']}) cannot be read: {exc}"
        ) from exc
    return StoredEvent(
        position=row["position"],
        case_id=row["case_id"],
        seq=row["seq"],
        event_id=row["event_id"],
        event=event,
        recorded_at=row["recorded_at"],
        idempotency_key=row["idempotency_key"],
    )


# The labour path's streams: their events are never read as an applicant's.
LABOUR_STREAM_PREFIX = "labour-"


def labour_stream(request_id: str) -> str:
    return f"{LABOUR_STREAM_PREFIX}{request_id}"


def labour_stored_from_row(row: Mapping[str, Any]) -> StoredLabourEvent:
    try:
        event = LABOUR_EVENT_ADAPTER.validate_json(row["payload"])
    except ValidationError as exc:
        raise StoreError(
            f"event {row['event_id']} ({row['case_id']}/{row['seq']}) cannot be read: {exc}"
        ) from exc
    return StoredLabourEvent(
        position=row["position"],
        case_id=row["case_id"],
        seq=row["seq"],
        event_id=row["event_id"],
        event=event,
        recorded_at=row["recorded_at"],
        idempotency_key=row["idempotency_key"],
    )


# Allocation rounds' streams (domain/allocation.py) and the published policy versions
# (domain/policy_record.py): never read as an applicant's either.
OTHER_STREAMS = (LABOUR_STREAM_PREFIX, ROUND_STREAM_PREFIX, POLICY_STREAM_PREFIX)
assert OTHER_STREAMS == RESERVED_STREAM_PREFIXES, "a case id may not start with any of them"
# SQL: the applicants' own streams (a case id never starts with either prefix).
APPLICANT_STREAMS = " AND ".join(f"case_id NOT LIKE '{p}%'" for p in OTHER_STREAMS)


def parse_round_event(row: Mapping[str, Any]) -> RoundEvent:
    """A round stream's event from a row selected with STORED_COLUMNS."""
    try:
        return ROUND_EVENT_ADAPTER.validate_json(row["payload"])
    except ValidationError as exc:
        raise StoreError(
            f"event {row['event_id']} ({row['case_id']}/{row['seq']}) cannot be read: {exc}"
        ) from exc


def parse_policy_event(row: Mapping[str, Any]) -> PolicyVersionPublished:
    """The policy stream's event from a row selected with STORED_COLUMNS."""
    try:
        return PolicyVersionPublished.model_validate_json(row["payload"])
    except ValidationError as exc:
        raise StoreError(
            f"event {row['event_id']} ({row['case_id']}/{row['seq']}) cannot be read: {exc}"
        ) from exc


# A batch of any stream's events (they append alike: store/events.py `append_batch`).
AnyBatch = (
    Sequence[NewEvent]
    | Sequence[NewLabourEvent]
    | Sequence[NewRoundEvent]
    | Sequence[NewPolicyEvent]
)


def event_columns(
    events: AnyBatch,
    expected_seq: int,
) -> list[list[Any]]:
    """A batch as column arrays, in the order the insert takes them: seqs from
    expected_seq+1, event ids, types, schema versions, policies, times, payloads, keys."""
    return [
        [expected_seq + i for i in range(1, len(events) + 1)],
        [e.event_id for e in events],
        [e.event.type for e in events],
        [e.event.schema_version for e in events],
        [e.event.policy_id for e in events],
        [e.event.at for e in events],
        [e.event.model_dump_json() for e in events],
        [e.idempotency_key for e in events],
    ]
