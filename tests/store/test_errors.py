"""How store errors are classified: retryable (the database is away) or not."""

from __future__ import annotations

import asyncpg
import pytest

from store.errors import StoreError, StoreUnavailableError, translated


def test_a_connection_closed_under_a_transaction_is_unavailable_not_refused() -> None:
    with pytest.raises(StoreUnavailableError), translated():
        raise asyncpg.InterfaceError(
            "cannot call Transaction.__aexit__(): the underlying connection is closed"
        )
    with pytest.raises(StoreUnavailableError), translated():
        raise asyncpg.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )
    with pytest.raises(StoreError) as err, translated():
        raise asyncpg.InterfaceError("cannot perform operation: another operation is in progress")
    assert not err.value.retryable
