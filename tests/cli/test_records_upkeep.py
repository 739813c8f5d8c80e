"""The record commands when the database cannot be reached, and the record's upkeep: db migrate,
projections rebuild (and --check), events --verify."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import asyncpg
import pytest

from cli.stack import StackInfo, write_stack
from store.migrate import migration_files
from tests.cli.records_seed import (
    YEAR,
    Seeded,
    append,
    closed_port,
    db_url,
    flat,
    fresh_db,
    general,
    isolated,
    listed,
    new_case_id,
    ok,
    ok_json,
    run,
    seeded,
    sql,
)

__all__ = ["db_url", "fresh_db", "isolated", "seeded"]  # the record's fixtures, used here

# --- the database cannot be reached ---------------------------------------------------------

EVERY_COMMAND = [
    ("events", "c-1"),
    ("payments", "c-1"),
    ("quotas",),
    ("cases",),
    ("db", "migrate"),
    ("projections", "rebuild"),
    ("projections", "rebuild", "--check"),
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=" ".join)
def test_an_unreachable_database_exits_1_naming_the_url_and_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    port = closed_port()
    monkeypatch.setenv("KOSH_DATABASE_URL", f"postgresql://kosh:s3cret@127.0.0.1:{port}/kosh")
    result = run(*args, "--json")
    assert result.exit_code == 1
    text = flat(result.stderr)
    assert f"cannot reach PostgreSQL at postgresql://kosh:***@127.0.0.1:{port}/kosh" in text
    assert "(from KOSH_DATABASE_URL)" in text
    assert "s3cret" not in result.output
    assert result.stdout == ""


def test_no_database_anywhere_names_both_places(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    monkeypatch.delenv("KOSH_DATABASE_URL")
    result = run("quotas")
    assert result.exit_code == 1
    text = flat(result.stderr)
    assert "KOSH_DATABASE_URL is not set" in text
    assert f"no running `kosh dev` has its state in {isolated / 'state'}" in text


def test_the_database_of_a_running_kosh_dev_is_used(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, db_url: str, seeded: Seeded
) -> None:
    monkeypatch.delenv("KOSH_DATABASE_URL")
    folder = isolated / "dev-state"
    folder.mkdir()
    stack = StackInfo(temporal_address="127.0.0.1:1", database_url=db_url, pid=os.getpid())
    write_stack(folder, stack)
    assert seeded.moved in listed("--state", str(folder), "--region", "Kostanay")

    unreachable = f"postgresql://kosh@127.0.0.1:{closed_port()}/kosh"
    write_stack(folder, stack.model_copy(update={"database_url": unreachable}))
    result = run("cases", "--state", str(folder))
    assert result.exit_code == 1
    assert f"(from the `kosh dev` state in {folder})" in flat(result.stderr)


# --- db migrate -----------------------------------------------------------------------------


def test_db_migrate_applies_pending_migrations_once(
    monkeypatch: pytest.MonkeyPatch, fresh_db: str
) -> None:
    monkeypatch.setenv("KOSH_DATABASE_URL", fresh_db)
    result = run("cases")
    assert result.exit_code == 1
    assert "run `kosh db migrate`" in flat(result.stderr)

    text = flat(ok("db", "migrate"))
    versions = [v for v, _ in migration_files()]
    assert f"applied {', '.join(versions)}; schema at {versions[-1]}" in text
    assert f"nothing to apply; schema at {versions[-1]}" in flat(ok("db", "migrate"))
    assert ok_json("db", "migrate") == {"applied": [], "schema_version": versions[-1]}
    assert ok_json("cases") == []


# --- projections rebuild --------------------------------------------------------------------


def test_projections_rebuild_reports_counts_equal_to_the_tables(
    db_url: str, seeded: Seeded
) -> None:
    report = ok_json("projections", "rebuild")
    assert report["differs"] == {}
    assert report["rolled_back"] is False
    assert report["events"] == sql(db_url, "SELECT count(*) FROM events")
    for table in ("cases", "quota_ledger", "payments"):
        assert report["rows"][table] == sql(db_url, f"SELECT count(*) FROM {table}")
    text = flat(ok("projections", "rebuild"))
    assert f"Projections rebuilt from {report['events']} events" in text
    assert f"cases {report['rows']['cases']} matched" in text


def test_projections_check_finds_a_tampered_row_and_leaves_it(db_url: str, seeded: Seeded) -> None:
    assert ok_json("projections", "rebuild", "--check")["differs"] == {}
    text = flat(ok("projections", "rebuild", "--check"))
    assert "Projections checked against" in text and "cases" in text and "yes" in text

    owed = "SELECT outstanding_tiyn FROM cases WHERE case_id = $1"
    sql(db_url, "UPDATE cases SET outstanding_tiyn = 1 WHERE case_id = $1", seeded.breach)
    sql(db_url, f"UPDATE quota_ledger SET released = 0 WHERE region = 'Pavlodar' AND year = {YEAR}")
    try:
        result = run("projections", "rebuild", "--check")
        assert result.exit_code == 1
        errors = flat(result.stderr)
        assert "projections differ from the log: cases, quota_ledger" in errors
        assert "payments" not in errors
        text = flat(result.stdout)
        assert re.search(rf"cases \d+ no \(1 row: {seeded.breach}\)", text), text
        assert f"no (1 row: Pavlodar {YEAR})" in text
        assert sql(db_url, owed, seeded.breach) == 1  # a check changes nothing

        result = run("projections", "rebuild", "--check", "--json")
        assert result.exit_code == 1
        assert json.loads(result.stdout)["differs"] == {
            "cases": [seeded.breach],
            "quota_ledger": [f"Pavlodar {YEAR}"],
        }
    finally:
        repaired = flat(ok("projections", "rebuild"))
    assert f"differed (1 row: {seeded.breach})" in repaired
    assert sql(db_url, owed, seeded.breach) == 20_000_100
    assert ok_json("projections", "rebuild", "--check")["differs"] == {}


def test_events_verify_checks_the_chains_and_names_a_broken_link(
    seeded: Seeded, db_url: str
) -> None:
    report = ok_json("events", seeded.general, "--verify")
    assert report["broken"] == [] and report["events"] >= 2
    assert "every chain is intact" in ok("events", "--verify")

    # a superuser lifts the guard and rewrites one event of a fresh case
    case_id = new_case_id("tampered")

    async def seed_and_tamper() -> None:
        conn = await asyncpg.connect(db_url)
        try:
            await append(conn, case_id, general(case_id))
            async with conn.transaction():
                await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
                await conn.execute(
                    'UPDATE events SET payload = payload || \'{"policy_id": "forged"}\' '
                    "WHERE case_id = $1 AND seq = 2",
                    case_id,
                )
                await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
        finally:
            await conn.close()

    asyncio.run(seed_and_tamper())
    broken = run("events", case_id, "--verify")
    assert broken.exit_code == 1
    assert f"case {case_id} at seq 2" in flat(broken.output)
    assert run("events").exit_code == 2  # a case id, or --verify for all
