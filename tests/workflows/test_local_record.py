"""The record asked from the worker (local activities, rule change 2026-11-local-record): an
outage longer than the quick local attempts is waited out by the ordinary activity, and
nothing is recorded twice."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType

from activities import events as module
from store.errors import StoreUnavailableError
from tests.workflows.harness import (
    LOCAL_ACTIVITY_MARKER,
    Rig,
    application,
    failed_calls,
    new_case_id,
    types,
)


async def test_an_outage_longer_than_the_local_attempts_is_waited_out_by_an_activity(
    case_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = new_case_id()
    real = module.append_events
    calls: list[int] = []
    away_for = 5  # the 3 local attempts, then the ordinary activity's first 2

    async def away(conn: Any, *, case_id: str, expected_seq: int, **rest: Any) -> Any:
        if case_id == cid:
            calls.append(expected_seq)
            if len(calls) <= away_for:
                raise StoreUnavailableError("database unavailable: connection refused (test)")
        return await real(conn, case_id=case_id, expected_seq=expected_seq, **rest)

    monkeypatch.setattr(module, "append_events", away)
    # rejected at the document check: no staff needed
    h = await case_rig.start(application(forged=True), case_id=cid)
    result = await case_rig.finish(h)

    assert result.closed_reason == "rejected"
    # the first append was tried 3 times locally and 3 times as an activity, the rest once
    assert calls[: away_for + 1] == [0] * (away_for + 1)
    later = calls[away_for + 1 :]
    assert later and later == sorted(set(later)) and later[0] > 0
    history = await h.fetch_history()
    assert failed_calls(history) == ["StoreUnavailableError"]  # the local attempts' marker
    scheduled = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "append_events"
    ]
    [fallback] = scheduled
    [started] = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id == fallback.event_id
    ]
    assert started.attempt == 3
    local = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
    ]
    assert len(local) >= 2  # the failed first one, and the later appends
    # the record holds each event once, in order
    recorded = await case_rig.events(cid)
    assert len(recorded) == result.events
    assert types(recorded)[0] == "ApplicationSubmitted"
    assert types(recorded).count("ApplicationSubmitted") == 1
