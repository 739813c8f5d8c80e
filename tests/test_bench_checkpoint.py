"""bench/checkpoint.py: a small real run (the checkpoint verifies against its own record) and
the figures in docs/performance.md with the command that made them."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from bench.checkpoint import on_server
from tests.store.conftest import ADMIN_URL

ROOT = Path(__file__).resolve().parent.parent


async def test_a_small_run_checkpoints_and_verifies(tmp_path: Path) -> None:
    try:
        await (await asyncpg.connect(ADMIN_URL, timeout=3)).close()
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"system PostgreSQL not reachable at {ADMIN_URL} ({exc})")
    result = await on_server(ADMIN_URL, 2_500, 20, tmp_path / "checkpoints")
    assert (result["events"], result["streams"]) == (2_500, 125)
    assert result["checkpoint_seconds"] >= 0 and result["verify_seconds"] >= 0


def test_the_figures_name_their_command() -> None:
    doc = (ROOT / "docs" / "performance.md").read_text()
    section = doc.split("## Checkpoints of the record", 1)[1].split("\n## ", 1)[0]
    assert "`python -m bench.checkpoint --events 1000000 --per-stream 20`" in section
    assert "| `write_checkpoint`" in section and "| `verify_checkpoint`" in section
