"""`kosh keys checkpoint`, `kosh events checkpoint` and `kosh events --verify` against a record
of their own (a fresh database: a checkpoint covers the whole record)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import pytest

from tests.cli.records_seed import (
    append,
    db_url,
    flat,
    fresh_db,
    general,
    isolated,
    new_case_id,
    ok,
    ok_json,
    run,
)

__all__ = ["db_url", "fresh_db", "isolated"]  # the record's fixtures, used here


def seed(url: str) -> str:
    case_id = new_case_id("checkpointed")

    async def go() -> None:
        conn = await asyncpg.connect(url)
        try:
            await append(conn, case_id, general(case_id))
        finally:
            await conn.close()

    asyncio.run(go())
    return case_id


def superuser(url: str, sql: str, *args: object) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute(sql, *args)
        finally:
            await conn.close()

    asyncio.run(go())


@pytest.fixture
def own_record(monkeypatch: pytest.MonkeyPatch, fresh_db: str, tmp_path: Path) -> Path:
    """A migrated empty record, a signing key, its public keys; the folder of checkpoints."""
    monkeypatch.setenv("KOSH_DATABASE_URL", fresh_db)
    ok("db", "migrate")
    key, public = tmp_path / "checkpoint-key.json", tmp_path / "public.json"
    assert "c1 signs checkpoints" in flat(ok("keys", "checkpoint", "new", str(key)))
    public.write_text(ok("keys", "checkpoint", "public", str(key)))
    folder = tmp_path / "checkpoints"
    monkeypatch.setenv("KOSH_CHECKPOINT_DIR", str(folder))
    monkeypatch.setenv("KOSH_CHECKPOINT_KEY_FILE", str(key))
    monkeypatch.setenv("KOSH_CHECKPOINT_PUBLIC_KEYS_FILE", str(public))
    return folder


def test_checkpoint_then_verify_then_a_removed_event_is_named(
    own_record: Path, fresh_db: str
) -> None:
    case_id = seed(fresh_db)
    before = flat(ok("events", "--verify"))
    assert f"no checkpoint checked: no checkpoint in {own_record} yet; chains only" in before

    written = flat(ok("events", "checkpoint"))
    assert f"checkpoint written: {own_record}/checkpoint-" in written
    assert "(key c1," in written and "events of 1 streams up to position" in written
    assert ok_json("events", "checkpoint")["outcome"] == "unchanged"
    report = ok_json("events", "--verify")
    assert report["broken"] == [] and report["checkpoint"]["status"] == "agrees"
    assert "every chain is intact; the checkpoint agrees" in flat(ok("events", "--verify"))

    last = seed(fresh_db)  # appended after the checkpoint
    assert "6 events appended after the checkpoint are checked by their chains only" in flat(
        ok("events", "--verify")
    )
    superuser(fresh_db, "DELETE FROM events WHERE case_id = $1 AND seq = 6", case_id)
    broken = run("events", "--verify")
    assert broken.exit_code == 1
    text = flat(broken.output)
    assert f"case {case_id}: 6 events at the checkpoint, 5 now (the last event was removed)" in text
    assert last not in text
    one = run("events", case_id, "--verify", "--json")
    assert one.exit_code == 1
    [finding] = json.loads(one.stdout)["checkpoint"]["findings"]
    assert (finding["kind"], finding["case_id"], finding["seq"]) == ("removed", case_id, 6)

    refused = run("events", "checkpoint")  # nothing signs the tampered record
    assert refused.exit_code == 1
    assert "no longer extends checkpoint-" in flat(refused.stderr)
    assert len(list(own_record.iterdir())) == 1


def test_a_malformed_checkpoint_exits_2_without_a_traceback(
    own_record: Path, fresh_db: str
) -> None:
    seed(fresh_db)
    assert ok_json("events", "checkpoint")["outcome"] == "written"  # stdout: the JSON alone
    newest = own_record / "checkpoint-99999999T999999999999Z-1.json"
    newest.write_text("{not json")
    for args in (("events", "--verify"), ("events", "checkpoint")):
        result = run(*args)
        assert result.exit_code == 2, result.output
        assert f"{newest}: not JSON" in flat(result.stderr)
        assert "Traceback" not in result.output
    newest.write_text(json.dumps({"body": {"key_id": "c1"}, "signature": "AAAA"}))
    result = run("events", "--verify")
    assert result.exit_code == 1
    assert f"checkpoint {newest.name}: signature does not verify" in flat(result.output)


def test_without_a_folder_verify_checks_chains_and_checkpoint_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KOSH_CHECKPOINT_DIR", raising=False)
    text = flat(ok("events", "--verify"))
    assert "no checkpoint folder is set (KOSH_CHECKPOINT_DIR); chains only" in text
    result = run("events", "checkpoint")
    assert result.exit_code == 2 and "set KOSH_CHECKPOINT_DIR" in flat(result.stderr)


def test_checkpoint_keys_are_written_once_and_rotate(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    ok("keys", "checkpoint", "new", str(key), "--id", "k-2026")
    assert key.stat().st_mode & 0o777 == 0o600
    again = run("keys", "checkpoint", "new", str(key))
    assert again.exit_code == 2 and "written once" in flat(again.stderr)
    assert "k-2027 signs; k-2026 still verify" in flat(
        ok("keys", "checkpoint", "rotate", str(key), "--id", "k-2027")
    )
    assert set(json.loads(ok("keys", "checkpoint", "public", str(key)))["keys"]) == {
        "k-2026",
        "k-2027",
    }
    key.write_text("{}")
    broken = run("keys", "checkpoint", "public", str(key))
    assert broken.exit_code == 2 and "expected" in flat(broken.stderr)
