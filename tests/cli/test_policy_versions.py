"""Publishing a draft as a version (`kosh policy publish`), listing the versions (`kosh policy
versions`) and asking which applies where (`kosh policy show --on --region`), on a database
of this module's own (a version published in the session's shared one would reach other
tests' cases)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from typer.testing import CliRunner

import cli.main
from domain import policy as pol
from store.migrate import migrate
from store.pool import create_pool
from tests.cli.records_seed import flat, ok, ok_json, run

PHASED_DRAFT = """\
id: "2027.5"
effective_from: 2027-07-01
phased_from: {Pavlodar: 2027-03-01, Kostanay: 2027-03-01}
note: the questionnaire's minimum raised, Pavlodar and Kostanay first
base: "2026.1"
changes:
  questionnaire.min_points:
    value: 450
    provenance: {kind: illustrative, reason: "a draft for the regions' consultation"}
"""


@pytest_asyncio.fixture(scope="module")
async def own_db(embedded_pool: asyncpg.Pool) -> AsyncIterator[str]:
    name = f"kosh_versions_{uuid.uuid4().hex[:8]}"
    async with embedded_pool.acquire() as conn:
        await conn.execute(f'CREATE DATABASE "{name}"')
        row = await conn.fetchrow(
            "SELECT current_user AS user, "
            "split_part(current_setting('unix_socket_directories'), ',', 1) AS socket, "
            "current_setting('port') AS port"
        )
    url = f"postgresql://{row['user']}@/{name}?host={row['socket']}&port={row['port']}"
    pool = await create_pool(url, min_size=1, max_size=2)
    async with pool.acquire() as conn:
        await migrate(conn)
    await pool.close()
    yield url


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, own_db: str) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KOSH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KOSH_DATABASE_URL", own_db)
    monkeypatch.delenv("KOSH_TEMPORAL_ADDRESS", raising=False)
    monkeypatch.delenv("KOSH_STAFF_ID", raising=False)
    monkeypatch.delenv("KOSH_STAFF_TOKEN", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setattr(pol, "_KNOWN", {})  # what the CLI reads stays in this test
    yield tmp_path


def sign_in(role: str) -> str:
    member = f"{role.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    ok("staff", "add", member, "--role", role)
    token = ok_json("staff", "token", member)["token"]
    signed = CliRunner().invoke(cli.main.app, ["login", member], input=f"{token}\n")
    assert signed.exit_code == 0, signed.output
    return member


def test_a_policy_officer_publishes_and_the_regions_take_it_on_their_dates(
    isolated: Path,
) -> None:
    draft = isolated / "phased.yaml"
    draft.write_text(PHASED_DRAFT)
    basis = "Order No. 7 of the Minister (illustrative)"

    assert run("policy", "publish", str(draft), "--basis", basis).exit_code == 2  # signed out
    sign_in("interviewer")
    refused = run("policy", "publish", str(draft), "--basis", basis)
    assert refused.exit_code == 2 and "may not publish" in flat(refused.output)
    officer = sign_in("policy_officer")
    done = ok_json("policy", "publish", str(draft), "--basis", basis, "--json")
    assert (done["id"], done["published_by"], done["basis"]) == ("2027.5", officer, basis)
    pol._KNOWN.clear()  # a new process: it reads the record before the draft
    again = run("policy", "publish", str(draft), "--basis", basis)
    assert again.exit_code == 2 and "2027.5 is a version in force already" in flat(again.output)

    pol._KNOWN.clear()  # a new process: the record is read again
    listed = ok_json("policy", "versions")["versions"]
    assert [(v["id"], v["published_by"]) for v in listed] == [
        ("2026.1", None),
        ("2027.5", officer),
    ]
    assert "Kostanay, Pavlodar from 2027-03-01; the rest from 2027-07-01" in flat(
        ok("policy", "versions")
    )

    def shown(on: str, *region: str) -> str:
        found: str = ok_json("policy", "show", "--on", on, *region)["id"]
        return found

    assert shown("2027-02-28", "--region", "Pavlodar") == "2026.1"
    assert shown("2027-03-01", "--region", "Pavlodar") == "2027.5"
    assert shown("2027-03-01", "--region", "Akmola") == "2026.1"
    assert shown("2027-03-01") == "2026.1"  # no region: the rest of the country
    assert shown("2027-07-01", "--region", "Akmola") == "2027.5"
    bad = run("policy", "show", "--on", "2027-03-01", "--region", "Atlantis")
    assert bad.exit_code == 2 and "--region Atlantis: not one of" in flat(bad.output)


def test_a_draft_with_a_late_region_is_refused_before_anything_is_read(isolated: Path) -> None:
    draft = isolated / "late.yaml"
    draft.write_text(PHASED_DRAFT.replace("Kostanay: 2027-03-01", "Kostanay: 2027-09-01"))
    refused = run("policy", "publish", str(draft), "--basis", "x")
    assert refused.exit_code == 2
    assert "phased_from.Kostanay: starts 2027-09-01, after the rest of the country" in flat(
        refused.output
    )
