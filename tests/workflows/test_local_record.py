"""The record asked from the worker (local activities, rule change 2026-11-local-record): an
outage longer than the quick local attempts is waited out by the ordinary activity, and
nothing is recorded twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType

from activities import events as module
from domain.record import fingerprints
from store.errors import StoreUnavailableError
from tests.workflows.harness import (
    LOCAL_ACTIVITY_MARKER,
    Rig,
    application,
    failed_calls,
    new_case_id,
    types,
)
from workflows import api


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


async def test_a_query_answered_while_the_first_append_runs_leaves_the_case_with_the_record(
    case_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A status query that arrives while the case's first append (a local activity) runs.
    On the dev server Temporal completes the task early to answer it, a replay then dates the
    application's decision by the later task, and a case that folded its own decision believed
    another `at` than the record held (the end-to-end scale-out test found it; decision 020).
    The time-skipping server answers the query without that early completion, so here the
    scenario only shows the case's account equal to the record, event by event, after such a
    query; the rig replays the history too."""
    cid = new_case_id()
    real = module.append_events
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(conn: Any, *, case_id: str, expected_seq: int, **rest: Any) -> Any:
        if case_id == cid and expected_seq == 0:
            entered.set()
            await release.wait()
        return await real(conn, case_id=case_id, expected_seq=expected_seq, **rest)

    monkeypatch.setattr(module, "append_events", slow)
    h = await case_rig.start(application(forged=True), case_id=cid)  # closes without staff
    await asyncio.wait_for(entered.wait(), 10)
    asked = asyncio.create_task(h.query(api.QUERY_STATUS, result_type=api.CaseStatus))
    await asyncio.sleep(1.0)  # the query reaches the worker while the append runs
    release.set()
    await asyncio.wait_for(asked, 30)
    await case_rig.finish(h)

    status = await h.query(api.QUERY_STATUS, result_type=api.CaseStatus)  # a closed case: replayed
    recorded = await case_rig.events(cid)
    assert status.fingerprints == fingerprints(recorded)
