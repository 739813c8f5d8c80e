"""How the record names a decision's events and fingerprints their content: pure, shared by the
workflows that write the record and the store and reconciliation that check it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from domain.events import Event
from domain.labour import LabourEvent


def fingerprint(event: Event | LabourEvent) -> str:
    """A short digest of an event's content (8 hex characters): a workflow keeps one per event
    it folds, so the reconciliation can say, event by event, whether the record holds what the
    workflow believes (cli/reconcile.py). Canonical JSON (keys sorted): the record's jsonb
    keeps a mapping's keys in its own order."""
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def fingerprints(events: Sequence[Event] | Sequence[LabourEvent]) -> str:
    return "".join(fingerprint(e) for e in events)


def event_id(writer: str, seq: int) -> str:
    """The id of the event a workflow records at `seq` of its stream. `writer` names the
    workflow for the stream's whole life (its first run's id, carried over on continue-as-new),
    so a workflow task retried with a later clock gives its events the ids the earlier attempt
    gave: the record finds the earlier attempt by id, and its version stands."""
    return f"{writer}/{seq}"


def written_by(event_id: str, writer: str) -> bool:
    return event_id.startswith(f"{writer}/")


# Streams of the one event log that are not an applicant's (store/records.py OTHER_STREAMS): a
# case id may not start with one, or its application would land in another's stream.
RESERVED_STREAM_PREFIXES = ("labour-", "round-", "policy-")


def reserved_case_id(case_id: str) -> str | None:
    """Why `case_id` cannot name a case (None: it can)."""
    for prefix in RESERVED_STREAM_PREFIXES:
        if case_id.startswith(prefix):
            return f"a case id may not start with {prefix!r}: the record's own streams do"
    return None
