import subprocess
from pathlib import Path

import asyncpg
import pytest

from store.embedded import EmbeddedPostgres
from store.errors import StoreError, StoreUnavailableError
from store.pool import create_pool


def live_processes() -> list[tuple[int, str]]:
    """(pid, command line) of every process not dead; zombies wait for their parent to reap."""
    out = subprocess.run(
        ["ps", "-eo", "pid=,stat=,args="], check=True, capture_output=True, text=True
    ).stdout
    rows = [line.split(None, 2) for line in out.splitlines()]
    return [(int(r[0]), r[2] if len(r) > 2 else "") for r in rows if not r[1].startswith("Z")]


def children_of(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


async def test_embedded_server_serves_its_database_and_stops_completely(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pg = EmbeddedPostgres(pgdata, database="kosh")
    url = pg.start()
    assert url.startswith("postgresql://postgres:@/kosh?host=")
    assert pg.pid is not None
    postmaster, workers = pg.pid, children_of(pg.pid)
    assert workers, "a running postmaster has background workers"
    pool = await create_pool(url, max_size=2)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_database()") == "kosh"
        assert await conn.fetchval("SELECT '{\"a\": 1}'::jsonb") == {"a": 1}
    await pool.close()

    pg.stop()

    left = [(pid, args) for pid, args in live_processes() if pid in {postmaster, *workers}]
    left += [(pid, args) for pid, args in live_processes() if str(pgdata) in args]
    assert left == []
    with pytest.raises(StoreError, match="not started"):
        _ = pg.url
    pg.stop()  # stopping twice is harmless


async def test_embedded_restart_keeps_the_data(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    with EmbeddedPostgres(pgdata) as pg:
        conn = await asyncpg.connect(pg.url)
        await conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
        await conn.close()
    with EmbeddedPostgres(pgdata) as pg:
        conn = await asyncpg.connect(pg.url)
        assert await conn.fetchval("SELECT x FROM kept") == 7
        await conn.close()


def test_bad_database_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="database name"):
        EmbeddedPostgres(tmp_path, database='kosh"; DROP')


async def test_unreachable_database_is_unavailable() -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        await create_pool("postgresql://postgres@127.0.0.1:1/kosh", min_size=1)
    assert caught.value.retryable
