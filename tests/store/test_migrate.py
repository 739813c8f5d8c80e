import asyncio
import uuid

import asyncpg

from store.migrate import migrate, migration_files

VERSIONS = [version for version, _ in migration_files()]


def test_migrations_ship_in_order() -> None:
    assert VERSIONS == [
        "0001_events",
        "0002_projections",
        "0003_hash_chain",
        "0004_staff",
        "0005_staff_sign_in",
        "0006_labour",
        "0007_append_guard",
        "0008_console_sessions",
        "0009_codec_access_log",
        "0010_writer_chain",
        "0011_policy_roles",
    ]


async def test_second_run_applies_nothing(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        assert await migrate(conn) == []
        recorded = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in recorded] == VERSIONS


async def test_concurrent_runs_apply_once(pg_url: str) -> None:
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    settings = {"search_path": schema}
    first = await asyncpg.connect(pg_url, server_settings=settings)
    second = await asyncpg.connect(pg_url, server_settings=settings)
    try:
        await first.execute(f"CREATE SCHEMA {schema}")
        results = await asyncio.gather(migrate(first), migrate(second))
        assert sorted(results) == [[], VERSIONS]
        assert await first.fetchval("SELECT count(*) FROM schema_migrations") == len(VERSIONS)
        assert await second.fetchval("SELECT count(*) FROM events") == 0
    finally:
        await first.execute(f"DROP SCHEMA {schema} CASCADE")
        await first.close()
        await second.close()
