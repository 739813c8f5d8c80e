"""One contract suite, two PostgreSQLs: the system server (if reachable) and the embedded one."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from store.embedded import EmbeddedPostgres
from store.migrate import migrate
from store.pool import create_pool

ADMIN_URL = os.environ.get(
    "KOSH_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest_asyncio.fixture(
    scope="session", params=["system", "embedded"], ids=["system-pg", "embedded-pg"]
)
async def pg_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """URL of a fresh, empty database, dropped (or its server stopped) after the session."""
    if request.param == "embedded":
        with EmbeddedPostgres(tmp_path_factory.mktemp("embedded") / "pgdata") as pg:
            yield pg.url
        return
    try:
        admin = await asyncpg.connect(ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(
            f"system PostgreSQL not reachable at {ADMIN_URL} ({exc}); set KOSH_TEST_PG_ADMIN_URL"
        )
    name = f"kosh_test_{uuid.uuid4().hex[:10]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture(scope="session")
async def pool(pg_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A migrated database's pool, shared by the session's tests (each uses its own case ids)."""
    pool = await create_pool(pg_url, min_size=1, max_size=20)
    async with pool.acquire() as conn:
        await migrate(conn)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(scope="session")
async def migrated_template(pg_url: str) -> AsyncIterator[str]:
    """The name of a migrated, empty database on pg_url's server, to copy per test."""
    name = f"kosh_tmpl_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        conn = await asyncpg.connect(_on(pg_url, name))
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture
async def fresh_pool(pg_url: str, migrated_template: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a migrated database of this test's own, for checks of the whole record
    (the session's shared database holds other tests' deliberately broken cases)."""
    name = f"kosh_own_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
        pool = await create_pool(_on(pg_url, name), min_size=1, max_size=4)
        yield pool
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _on(url: str, database: str) -> str:
    """`url` with another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))
