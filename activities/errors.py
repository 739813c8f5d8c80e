"""Classify adapter and store failures for Temporal's retries, once, at the activity edge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from adapters.ports import RejectedRequestError
from store.errors import ConcurrencyConflictError, QuotaExhaustedError, StoreError


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


@asynccontextmanager
async def recorded(
    *, quota_type: str = "QuotaExhausted", refusals: Mapping[type[StoreError], str] = {}
) -> AsyncIterator[None]:
    """The record's refusals, named for the workflow (never retried: a conflict or a refused
    write pauses it, an exhausted quota or another of `refusals` is its business); the
    database away is retried."""
    try:
        yield
    except tuple(refusals) as exc:
        raise ApplicationError(str(exc), type=refusals[type(exc)], non_retryable=True) from exc
    except QuotaExhaustedError as exc:
        details = (exc.region, exc.year) if quota_type == "QuotaExhausted" else ()
        raise ApplicationError(str(exc), *details, type=quota_type, non_retryable=True) from exc
    except ConcurrencyConflictError as exc:
        raise ApplicationError(str(exc), type="ConcurrencyConflict", non_retryable=True) from exc
    except StoreError as exc:
        if exc.retryable:  # the database is away: Temporal retries with backoff
            raise
        raise ApplicationError(str(exc), type="StoreRefused", non_retryable=True) from exc
