"""Classify adapter and store failures for Temporal's retries, once, at the activity edge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from adapters.ports import RejectedRequestError


@asynccontextmanager
async def classified() -> AsyncIterator[None]:
    """Invalid requests become non-retryable; everything else retries with backoff."""
    try:
        yield
    except RejectedRequestError as exc:
        raise ApplicationError(str(exc), type="RejectedRequest", non_retryable=True) from exc
    except ValidationError as exc:  # an answer or a request that breaks a model: a bug
        raise ApplicationError(
            f"invalid data at the adapter edge: {exc.error_count()} errors",
            type="RejectedRequest",
            non_retryable=True,
        ) from exc
