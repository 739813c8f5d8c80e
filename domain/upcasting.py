"""Upcasters: stored events of an older schema version, raised to today's shape before parsing.

A stored event is never rewritten. Each upcaster takes the raw dict of one (type, version)
and returns the dict of the next version; `upcast` chains them until no upcaster applies,
so the decider and `evolve` only ever see the current shapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from domain.events import EVENT_ADAPTER, Event
from domain.model import TIYN_PER_TENGE

RawEvent = dict[str, Any]
Upcaster = Callable[[RawEvent], RawEvent]


def _support_paid_v1_to_v2(raw: RawEvent) -> RawEvent:
    """v1 recorded whole tenge in `amount_tenge`; v2 records tiyn in `amount_tiyn`."""
    out = dict(raw, schema_version=2)
    if isinstance(out.get("amount_tenge"), int):  # anything else is left for validation to refuse
        out["amount_tiyn"] = out.pop("amount_tenge") * TIYN_PER_TENGE
    return out


UPCASTERS: Mapping[tuple[str, int], Upcaster] = {
    ("SupportPaid", 1): _support_paid_v1_to_v2,
}
"""(event type, the version it reads) -> function returning the next version's dict."""


def upcast(raw: Mapping[str, Any]) -> RawEvent:
    """The raw event raised to its current schema version; `raw` itself is left unchanged.

    A record without `schema_version` is version 1 (the field's first default).
    """
    current: RawEvent = dict(raw)
    while True:
        version = current.get("schema_version", 1)
        step = UPCASTERS.get((current.get("type", ""), version))
        if step is None:
            return current
        current = step(current)
        if current.get("schema_version") != version + 1:
            raise ValueError(f"upcaster for {current.get('type')} v{version} must return v+1")


def parse_event(raw: Mapping[str, Any]) -> Event:
    """A stored event's dict (e.g. a decoded JSON payload) as today's Event."""
    return EVENT_ADAPTER.validate_python(upcast(raw))


def parse_event_json(payload: str | bytes) -> Event:
    """A stored event's JSON payload as today's Event (upcast first, then validated)."""
    raw = json.loads(payload)
    if not isinstance(raw, dict):  # let pydantic refuse it, so callers catch one error type
        return EVENT_ADAPTER.validate_python(raw)
    return parse_event(raw)
