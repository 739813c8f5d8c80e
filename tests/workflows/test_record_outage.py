"""The record asked by ordinary activities (docs/decisions/022): an outage is waited out by
the append's own retries, with backoff and no history events while it lasts; nothing is
recorded twice; and no call leaves a local activity's marker in the history."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType

from activities import events as module
from domain.record import fingerprints
from store.errors import StoreUnavailableError
from tests.workflows.harness import (
    Rig,
    application,
    failed_calls,
    new_case_id,
    types,
)
from workflows import api


async def test_an_outage_is_waited_out_by_the_appends_retries(
    case_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = new_case_id()
    real = module.append_events
    calls: list[int] = []
    away_for = 4  # attempts the database is away for

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
    # the first append was tried until the database was back, the rest once each
    assert calls[: away_for + 1] == [0] * (away_for + 1)
    later = calls[away_for + 1 :]
    assert later and later == sorted(set(later)) and later[0] > 0
    history = await h.fetch_history()
    assert failed_calls(history) == []  # retried by Temporal: no failure in the history
    appends = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "append_events"
    ]
    first = appends[0]
    [started] = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id == first.event_id
    ]
    assert started.attempt == away_for + 1
    assert 0 < len(appends) <= result.events  # an activity per append, each one or more events
    assert not [e for e in history.events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    # the record holds each event once, in order
    recorded = await case_rig.events(cid)
    assert len(recorded) == result.events
    assert types(recorded)[0] == "ApplicationSubmitted"
    assert types(recorded).count("ApplicationSubmitted") == 1


async def test_a_query_answered_while_the_first_append_runs_leaves_the_case_with_the_record(
    case_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A status query that arrives while the case's first append runs (then a local activity).
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
