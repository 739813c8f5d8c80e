"""Schema migrations: numbered .sql files in store/migrations, applied once, in order."""

from __future__ import annotations

from importlib.resources import files

from store.errors import translated
from store.pool import Conn

MIGRATIONS_PACKAGE = "store.migrations"
LOCK_KEY = 0x6B6F_7368_0001  # 'kosh' + 1: one advisory lock for every migrating process

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
TAKE_LOCK = "SELECT pg_advisory_xact_lock($1::bigint)"
APPLIED = "SELECT version FROM schema_migrations"
RECORD = "INSERT INTO schema_migrations (version) VALUES ($1)"


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every migration shipped with the package, in version order."""
    found = [
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in files(MIGRATIONS_PACKAGE).iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(found)


async def migrate(conn: Conn) -> list[str]:
    """Apply pending migrations in one transaction; return the versions applied.

    Safe to run from several processes at once: the first takes a transaction-scoped advisory
    lock and the others wait, then find nothing left to do. A second run returns [].
    """
    pending = migration_files()
    applied: list[str] = []
    with translated():
        async with conn.transaction():
            await conn.execute(TAKE_LOCK, LOCK_KEY)
            await conn.execute(CREATE_LEDGER)
            done = {row["version"] for row in await conn.fetch(APPLIED)}
            for version, sql in pending:
                if version in done:
                    continue
                await conn.execute(sql)
                await conn.execute(RECORD, version)
                applied.append(version)
    return applied
