"""The append activity classifies the store's refusals once, at its edge."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import events as module
from activities.events import EventActivities
from activities.models import AppendInput, PendingEvent
from domain.record import event_id
from store.errors import DuplicatePaymentError, StoreUnavailableError
from tests.store.factories import submitted


class FakePool:
    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[object]:
        yield object()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (DuplicatePaymentError("case-1:support:rent:2027-01"), "StoreRefused"),
        (StoreUnavailableError("connection refused"), None),
    ],
)
async def test_store_errors_are_classified(
    monkeypatch: pytest.MonkeyPatch, error: Exception, expected: str | None
) -> None:
    async def refuse(*_: Any, **__: Any) -> None:
        raise error

    monkeypatch.setattr(module, "append_events", refuse)
    activity = EventActivities(pool=FakePool())  # type: ignore[arg-type]
    request = AppendInput(case_id="case-1", expected_seq=0, writer="w", events=())
    with pytest.raises(Exception) as caught:
        await ActivityEnvironment().run(activity.append_events, request)
    if expected is None:  # retryable: left as is for Temporal's backoff
        assert caught.value is error
    else:
        assert isinstance(caught.value, ApplicationError)
        assert (caught.value.type, caught.value.non_retryable) == (expected, True)


async def test_the_append_answers_with_the_records_copy_which_the_case_folds(
    embedded_pool: asyncpg.Pool,
) -> None:
    """The answer carries the events as the record holds them at the batch's seqs (decision
    020): the batch itself when it lands, and an earlier attempt's version when the same
    writer decided the batch again with a later clock: the case folds that copy
    (workflows/case/core.py `as_recorded`)."""
    cid = f"ap-{uuid.uuid4().hex[:8]}"
    activity = EventActivities(pool=embedded_pool)
    first = submitted(cid)
    ask = AppendInput(
        case_id=cid,
        expected_seq=0,
        writer="w",
        events=(PendingEvent(event_id=event_id("w", 1), event=first),),
    )
    landed = await ActivityEnvironment().run(activity.append_events, ask)
    # an application comes back without its personal data: its time and policy only
    assert [(r.event, r.at, r.policy_id) for r in landed.recorded] == [
        (None, first.at, first.policy_id)
    ]
    assert not landed.adopted
    later = first.model_copy(update={"at": first.at + timedelta(seconds=1)})
    again = ask.model_copy(
        update={"events": (PendingEvent(event_id=event_id("w", 1), event=later),)}
    )
    retried = await ActivityEnvironment().run(activity.append_events, again)
    assert [r.at for r in retried.recorded] == [first.at] != [later.at]
    assert [p.event for p in retried.adopted] == [first]
