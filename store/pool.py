"""Connection pool for the app database: jsonb and json arrive as Python values both ways."""

from __future__ import annotations

import json
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from store.errors import translated

Conn: TypeAlias = asyncpg.Connection | PoolConnectionProxy
"""What repository functions take: a plain connection or one acquired from a pool."""


async def init_connection(conn: asyncpg.Connection) -> None:
    """Decode json/jsonb to dicts and lists, and encode them from Python values."""
    for pg_type in ("json", "jsonb"):
        await conn.set_type_codec(
            pg_type, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool on `url`; raises StoreUnavailableError if the database cannot be reached."""
    with translated():
        pool: asyncpg.Pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=init_connection
        )
    return pool
