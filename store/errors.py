"""The store's own error types, and the one place asyncpg's errors are translated into them.

Callers (activities, the CLI) never see a driver exception: they see a `StoreError`, and
`retryable` tells them whether trying again later can help.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg


class StoreError(Exception):
    """The store refused or failed an operation; retrying the same call will not help."""

    retryable = False


class StoreUnavailableError(StoreError):
    """The database could not be reached or gave up on the operation for now: retry later."""

    retryable = True


class ConcurrencyConflictError(StoreError):
    """The case moved on since the caller read it: another writer appended first."""

    def __init__(self, case_id: str, expected_seq: int, actual_seq: int, detail: str = "") -> None:
        self.case_id = case_id
        self.expected_seq = expected_seq
        self.actual_seq = actual_seq
        self.detail = detail
        message = f"case {case_id}: expected last seq {expected_seq}, found {actual_seq}"
        super().__init__(f"{message} ({detail})" if detail else message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.case_id, self.expected_seq, self.actual_seq, self.detail))


class ContentConflictError(ConcurrencyConflictError):
    """Event ids already stored with other content (or as a batch of another length): an
    earlier attempt of the same decision, recorded first. Never a silent duplicate: the
    record's version stands, and a writer that names its batch adopts it instead."""


class QuotaExhaustedError(StoreError):
    """No place left in the region's quota for that year; the reservation was not recorded."""

    def __init__(self, region: str, year: int) -> None:
        self.region = region
        self.year = year
        super().__init__(f"quota for {region} in {year} is exhausted")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.region, self.year))


class DuplicatePaymentError(StoreError):
    """A second, different event claims a payment key already in the ledger."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"payment {key} is already in the ledger under another event")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.key,))


class PlaceAlreadyHeldError(StoreError):
    """A case that holds a quota place tried to reserve another: one place per case."""

    def __init__(self, case_id: str, region: str, year: int) -> None:
        self.case_id = case_id
        self.region = region
        self.year = year
        super().__init__(f"case {case_id} already holds a place in {region} {year}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.case_id, self.region, self.year))


_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection failures
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.TransactionRollbackError,  # serialization failure, deadlock: safe to retry
    asyncpg.ConnectionDoesNotExistError,  # the server closed it mid-operation (a restart)
    OSError,  # refused, reset, DNS, timeouts (TimeoutError is an OSError)
)


@contextmanager
def translated() -> Iterator[None]:
    """Translate asyncpg and socket errors raised inside the block into `StoreError`s."""
    try:
        yield
    except StoreError:
        raise
    except _UNAVAILABLE as exc:
        raise StoreUnavailableError(f"database unavailable: {exc}") from exc
    except asyncpg.PostgresError as exc:
        raise StoreError(f"database refused the operation [{exc.sqlstate}]: {exc}") from exc
    except asyncpg.InterfaceError as exc:
        if _connection_lost(exc):  # e.g. a transaction's end on a connection a restart closed
            raise StoreUnavailableError(f"database unavailable: {exc}") from exc
        raise StoreError(f"database client error: {exc}") from exc


def _connection_lost(exc: asyncpg.InterfaceError) -> bool:
    """asyncpg reports a connection the server dropped under one generic class; its message
    says so ("the underlying connection is closed", "connection was closed")."""
    text = str(exc)
    return "connection is closed" in text or "connection was closed" in text
