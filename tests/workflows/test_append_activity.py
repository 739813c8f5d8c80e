"""The append activity classifies the store's refusals once, at its edge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import events as module
from activities.events import EventActivities
from activities.models import AppendInput
from store.errors import DuplicatePaymentError, StoreUnavailableError


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
