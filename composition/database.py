"""kosh's own database: a pool, opened and closed around the work that needs it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg

from store.migrate import migrate as migrate_schema
from store.pool import create_pool


@contextlib.asynccontextmanager
async def database(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    migrate: bool = False,
    connect_timeout: float | None = None,
) -> AsyncIterator[asyncpg.Pool]:
    """A pool on kosh's database (jsonb as Python values), closed when the block ends; with
    `migrate`, pending migrations applied first (advisory-locked). StoreUnavailableError when
    the database cannot be reached; TimeoutError when it does not answer in `connect_timeout`
    seconds."""
    async with asyncio.timeout(connect_timeout):
        pool = await create_pool(url, min_size=min_size, max_size=max_size)
    try:
        if migrate:
            async with pool.acquire() as conn:
                await migrate_schema(conn)
        yield pool
    finally:
        await pool.close()
