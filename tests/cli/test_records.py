"""The business-record commands against the embedded PostgreSQL: events, quotas, payments,
cases, db migrate and projections rebuild, their --json, and every way they refuse or fail.

The database is the session's (shared with the workflow tests): each case here has its own
id, and the quota rows use a year no other test reserves.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from typer.testing import CliRunner, Result

import cli.main
from cli.stack import StackInfo, write_stack
from domain import events as ev
from domain.application import Application, Track
from domain.regions import Region
from domain.scoring import Component, Gate, ScoreBreakdown
from store.events import NewEvent, append_events
from store.migrate import migration_files

POLICY = "2026.1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
YEAR = 2090  # quota rows of this year are this module's alone
NAME, BORN, PASSPORT = "Aigerim Zhanibekova", "1987-11-23", "N48213379"
SEEDED_TYPES = [
    "ApplicationSubmitted",
    "DocumentsVerified",
    "InterviewRecorded",
    "ScoreComputed",
    "PermitIssued",
    "KandasStatusGranted",
    "QuotaPlaceReserved",
    "SocialContractSigned",
    "SupportPaid",
    "SupportPaid",
    "RegionLeft",
    "RepaymentDemanded",
    "RepaymentReceived",
]


# --- events ---------------------------------------------------------------------------------


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def submitted(case_id: str, track: Track) -> ev.ApplicationSubmitted:
    application = Application.model_validate(
        {
            "full_name": NAME,
            "born_on": BORN,
            "citizenship": "CHN",
            "ethnic_kazakh": True,
            "track": track,
            "document": {"number": PASSPORT, "country": "CHN", "expires_on": "2032-06-30"},
            "questionnaire": {
                "education": "master",
                "kazakh": "fluent",
                "russian": "intermediate",
                "work_years": 12,
            },
            "family": [{"relation": "spouse", "full_name": "Serik Zhanibekov", "born_on": BORN}],
            "preferred_regions": ["Pavlodar", "Kostanay"] if track == "kandas" else [],
        }
    )
    return ev.ApplicationSubmitted(
        case_id=case_id, application=application, policy_id=POLICY, at=at(0)
    )


def approved(score: int) -> list[ev.Event]:
    breakdown = ScoreBreakdown(
        policy_id=POLICY,
        components=(Component(name="age", points=10, max_points=10, reason="age 38"),),
        gates=(Gate(name="language", outcome="clear", reason="passed"),),
        total=score,
        decision="approve",
        reasons=("all gates clear",),
        submitted_at=at(0),
    )
    return [
        ev.DocumentsVerified(policy_id=POLICY, at=at(1)),
        ev.InterviewRecorded(
            interviewer_id="staff-9",
            passed=True,
            points=8,
            notes=f"{NAME} answered clearly",
            policy_id=POLICY,
            at=at(9),
        ),
        ev.ScoreComputed(breakdown=breakdown, policy_id=POLICY, at=at(10)),
        ev.PermitIssued(
            permit_number="P-7731", valid_until=date(2031, 3, 1), policy_id=POLICY, at=at(11)
        ),
    ]


def reserved(region: Region, capacity: int) -> ev.QuotaPlaceReserved:
    return ev.QuotaPlaceReserved(
        region=region, year=YEAR, capacity=capacity, policy_id=POLICY, at=at(12)
    )


def paid(case_id: str, period: str, day: int) -> ev.SupportPaid:
    return ev.SupportPaid(
        measure="rent",
        period=period,
        amount_tiyn=15_000_050,
        idempotency_key=f"{case_id}:support:rent:{period}",
        payment_reference=f"TRN-{period}",
        policy_id=POLICY,
        at=at(day),
    )


def breach(case_id: str) -> list[ev.Event]:
    """Submitted, approved, a place in Pavlodar, two rent payments, left, part repaid."""
    return [
        submitted(case_id, "kandas"),
        *approved(score=71),
        ev.KandasStatusGranted(certificate_number="K-5521", policy_id=POLICY, at=at(11)),
        reserved("Pavlodar", capacity=3),
        ev.SocialContractSigned(
            region="Pavlodar",
            starts_on=date(2026, 4, 1),
            ends_on=date(2031, 4, 1),
            family_size=2,
            policy_id=POLICY,
            at=at(20),
        ),
        paid(case_id, "2026-04", 30),
        paid(case_id, "2026-05", 60),
        ev.RegionLeft(
            new_region=None, left_on=date(2026, 9, 1), source="staff", policy_id=POLICY, at=at(190)
        ),
        ev.RepaymentDemanded(
            amount_tiyn=30_000_100,
            due_on=date(2026, 12, 1),
            rule="full",
            policy_id=POLICY,
            at=at(191),
        ),
        ev.RepaymentReceived(
            amount_tiyn=10_000_000, reference="REP-0001", policy_id=POLICY, at=at(200)
        ),
    ]


def moved(case_id: str) -> list[ev.Event]:
    """A place reserved in Pavlodar, released, then one in Kostanay."""
    return [
        submitted(case_id, "kandas"),
        *approved(score=66),
        reserved("Pavlodar", capacity=3),
        ev.QuotaPlaceReleased(
            region="Pavlodar", year=YEAR, reason="family moved", policy_id=POLICY, at=at(13)
        ),
        reserved("Kostanay", capacity=5),
    ]


def general(case_id: str) -> list[ev.Event]:
    closed = ev.CaseClosed(
        reason="departed", detail="left the country", policy_id=POLICY, at=at(40)
    )
    return [submitted(case_id, "general"), *approved(score=64), closed]


@dataclass(frozen=True)
class Seeded:
    breach: str
    moved: str
    general: str
    event_ids: list[str]  # the breach case's, in seq order


def new_case_id(kind: str) -> str:
    return f"rec-{kind}-{uuid.uuid4().hex[:10]}"


async def append(conn: Any, case_id: str, events: list[ev.Event]) -> list[str]:
    batch = [NewEvent(event_id=str(uuid.uuid4()), event=e) for e in events]
    await append_events(conn, case_id=case_id, expected_seq=0, events=batch)
    return [n.event_id for n in batch]


# --- fixtures -------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session")
async def db_url(embedded_pool: asyncpg.Pool) -> str:
    """The URL of the session's embedded database (trust auth over its unix socket)."""
    async with embedded_pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT current_user AS user, current_database() AS db, "
            "split_part(current_setting('unix_socket_directories'), ',', 1) AS socket, "
            "current_setting('port') AS port"
        )
    return f"postgresql://{row['user']}@/{row['db']}?host={row['socket']}&port={row['port']}"


@pytest_asyncio.fixture(scope="session")
async def seeded(embedded_pool: asyncpg.Pool) -> Seeded:
    ids = Seeded(new_case_id("breach"), new_case_id("moved"), new_case_id("general"), [])
    async with embedded_pool.acquire() as conn:
        ids.event_ids.extend(await append(conn, ids.breach, breach(ids.breach)))
        await append(conn, ids.moved, moved(ids.moved))
        await append(conn, ids.general, general(ids.general))
    return ids


@pytest_asyncio.fixture
async def fresh_db(embedded_pool: asyncpg.Pool, db_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database in the same cluster, dropped afterwards."""
    name = f"kosh_rec_{uuid.uuid4().hex[:10]}"
    async with embedded_pool.acquire() as conn:
        await conn.execute(f'CREATE DATABASE "{name}"')
    yield re.sub(r"@/[^?]+", f"@/{name}", db_url)
    async with embedded_pool.acquire() as conn:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> Iterator[Path]:
    """A fresh cwd and state dir; the database comes from KOSH_DATABASE_URL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KOSH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KOSH_DATABASE_URL", db_url)
    monkeypatch.delenv("KOSH_TEMPORAL_ADDRESS", raising=False)
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps at 80 otherwise
    yield tmp_path
    assert not (tmp_path / ".kosh").exists()


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main.app, list(args))


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def ok_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json"))


def flat(text: str) -> str:
    """Output with rich's wrapping and box drawing undone, for substring checks."""
    return " ".join(re.sub(r"[\u2500-\u257f]", " ", text).split())


def sql(url: str, query: str, *args: Any) -> Any:
    """Run one statement on its own connection (the CLI runs its own event loop too)."""

    async def go() -> Any:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    return asyncio.run(go())


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- help -----------------------------------------------------------------------------------

RECORD_HELP = [
    (("events",), "case_id"),
    (("payments",), "case_id"),
    (("quotas",), "--year"),
    (("cases",), "--limit"),
    (("db", "migrate"), "twice"),
    (("projections", "rebuild"), "--check"),
]


def test_top_level_help_lists_the_record_commands() -> None:
    text = flat(ok("--help"))
    for path, _ in RECORD_HELP:
        assert re.search(rf"\b{path[0]}\b", text), path[0]


@pytest.mark.parametrize(("path", "detail"), RECORD_HELP, ids=[" ".join(p) for p, _ in RECORD_HELP])
def test_each_command_helps(path: tuple[str, ...], detail: str) -> None:
    text = flat(ok(*path, "--help"))
    for expected in ("--json", "--state", detail):
        assert expected in text, f"{' '.join(path)} --help does not mention {expected}"


# --- events ---------------------------------------------------------------------------------


def test_events_lists_the_history_in_order_without_personal_data(seeded: Seeded) -> None:
    output = ok("events", seeded.breach)
    text = flat(output)
    types = re.findall(r"\b(" + "|".join(set(SEEDED_TYPES)) + r")\b", output)
    assert types == SEEDED_TYPES
    assert f"case {seeded.breach}: 13 events" in text
    assert "1 2026-03-02 09:00 ApplicationSubmitted track=kandas household=2" in text
    assert "regions=Pavlodar,Kostanay" in text
    assert "decision=approve score=71" in text
    assert "region=Pavlodar year=2090 capacity=3" in text
    assert "measure=rent period=2026-04 amount=150,000.50 KZT reference=TRN-2026-04" in text
    assert 'reason="family moved"' not in text  # another case's event
    for secret in (NAME, "Zhanibek", BORN, PASSPORT, "P-7731", "K-5521", "answered clearly"):
        assert secret not in output, secret


def test_events_json_is_the_stored_events_in_full(seeded: Seeded) -> None:
    stored = ok_json("events", seeded.breach)
    assert [s["seq"] for s in stored] == list(range(1, 14))
    assert [s["event_id"] for s in stored] == seeded.event_ids
    assert [s["event"]["type"] for s in stored] == SEEDED_TYPES
    assert {s["case_id"] for s in stored} == {seeded.breach}
    application = stored[0]["event"]["application"]
    assert (application["full_name"], application["born_on"]) == (NAME, BORN)
    assert application["document"]["number"] == PASSPORT
    assert stored[8]["event"]["amount_tiyn"] == 15_000_050
    positions = [s["position"] for s in stored]
    assert positions == sorted(positions)


@pytest.mark.parametrize("command", ["events", "payments"])
def test_an_unknown_case_exits_1(command: str) -> None:
    result = run(command, "rec-nobody")
    assert result.exit_code == 1
    assert "case rec-nobody: no events in the log" in flat(result.stderr)
    assert result.stdout == ""


# --- quotas ---------------------------------------------------------------------------------


def test_quotas_per_region_and_year(seeded: Seeded) -> None:
    text = flat(ok("quotas", "--year", str(YEAR)))
    assert "Region Year Capacity Reserved Released In use Left" in text
    assert "Kostanay 2090 5 1 0 1 4" in text
    assert "Pavlodar 2090 3 2 1 1 2" in text
    assert ok_json("quotas", "--year", str(YEAR))["kandas"] == [
        {
            "region": "Kostanay",
            "year": YEAR,
            "capacity": 5,
            "reserved": 1,
            "released": 0,
            "in_use": 1,
            "available": 4,
        },
        {
            "region": "Pavlodar",
            "year": YEAR,
            "capacity": 3,
            "reserved": 2,
            "released": 1,
            "in_use": 1,
            "available": 2,
        },
    ]
    every_year = ok_json("quotas")["kandas"]
    assert {(q["region"], q["year"]) for q in every_year} >= {
        ("Kostanay", YEAR),
        ("Pavlodar", YEAR),
    }


def test_quotas_of_a_year_without_places() -> None:
    text = flat(ok("quotas", "--year", "1999"))
    assert "no kandas quota places reserved in 1999" in text
    assert "no foreign-labour places reserved in 1999" in text
    assert ok_json("quotas", "--year", "1999") == {"kandas": [], "labour": []}


# --- payments -------------------------------------------------------------------------------


def test_payments_list_every_payment_and_the_balance_owed(seeded: Seeded) -> None:
    case = seeded.breach
    text = flat(ok("payments", case))
    assert "Date Kind Measure Period Amount (KZT) Reference Idempotency key" in text
    assert (
        "2026-04-01 disbursement rent 2026-04 150,000.50 TRN-2026-04 "
        f"{case}:support:rent:2026-04" in text
    )
    assert "2026-05-01 disbursement rent 2026-05 150,000.50 TRN-2026-05" in text
    assert f"2026-09-18 repayment 100,000.00 REP-0001 {case}:repayment:REP-0001" in text
    assert "paid out 300,001.00 KZT, repaid 100,000.00 KZT, balance owed 200,001.00 KZT" in text

    data = ok_json("payments", case)
    assert [(p["kind"], p["amount_tiyn"], p["reference"]) for p in data["payments"]] == [
        ("disbursement", 15_000_050, "TRN-2026-04"),
        ("disbursement", 15_000_050, "TRN-2026-05"),
        ("repayment", 10_000_000, "REP-0001"),
    ]
    assert data["payments"][0]["idempotency_key"] == f"{case}:support:rent:2026-04"
    assert (data["paid_out_tiyn"], data["repaid_tiyn"], data["balance_owed_tiyn"]) == (
        30_000_100,
        10_000_000,
        20_000_100,
    )


def test_payments_of_a_case_without_any(seeded: Seeded) -> None:
    text = flat(ok("payments", seeded.general))
    assert f"case {seeded.general}: no payments" in text
    assert "balance owed 0.00 KZT" in text
    assert ok_json("payments", seeded.general)["payments"] == []


# --- cases ----------------------------------------------------------------------------------


def listed(*filters: str) -> list[str]:
    return [c["case_id"] for c in ok_json("cases", *filters)]


def test_cases_filters_by_stage_region_and_track(seeded: Seeded) -> None:
    relocating = listed("--stage", "relocation", "--region", "Kostanay", "--track", "kandas")
    assert seeded.moved in relocating
    assert {seeded.breach, seeded.general}.isdisjoint(relocating)
    closed = listed("--track", "general", "--stage", "closed")
    assert seeded.general in closed
    assert seeded.moved not in closed
    assert seeded.breach in listed("--stage", "REPAYMENT", "--region", "pavlodar")
    assert len(listed("--limit", "1")) == 1


def test_cases_human_table(seeded: Seeded) -> None:
    text = flat(ok("cases", "--stage", "repayment", "--region", "Pavlodar"))
    assert (
        f"{seeded.breach} kandas repayment Pavlodar 71 approve 2031-04-01 300,001.00 200,001.00"
    ) in text
    row = next(c for c in ok_json("cases", "--stage", "closed") if c["case_id"] == seeded.general)
    assert (row["track"], row["closed_reason"], row["score"]) == ("general", "departed", 64)
    assert "no cases match" in flat(ok("cases", "--region", "Ulytau", "--stage", "new"))


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("--stage", "approved", "new, documents, scoring, decision, referral, permit,"),
        ("--track", "tourist", "kandas, general"),
        ("--region", "Atlantis", "Abai, Akmola, Aktobe, Almaty Region,"),
    ],
)
def test_cases_refuses_an_unknown_value_naming_the_option(
    monkeypatch: pytest.MonkeyPatch, option: str, value: str, allowed: str
) -> None:
    # Refused before any connection: a database that cannot be reached does not matter.
    monkeypatch.setenv("KOSH_DATABASE_URL", f"postgresql://kosh@127.0.0.1:{closed_port()}/kosh")
    result = run("cases", option, value)
    assert result.exit_code == 2
    text = flat(result.stderr)
    assert f"{option} '{value}' is not one of: {allowed}" in text
    assert result.stdout == ""


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


def test_staff_are_added_listed_and_deactivated() -> None:
    member = new_case_id("staff").replace("case", "staff")[:60]
    assert "interviewer, active" in flat(ok("staff", "add", member, "--role", "interviewer"))
    listed = {m["staff_id"]: m for m in ok_json("staff", "list")}
    assert (listed[member]["roles"], listed[member]["active"]) == (["interviewer"], True)
    assert "deactivated" in ok("staff", "deactivate", member)
    assert {m["staff_id"]: m["active"] for m in ok_json("staff", "list")}[member] is False
    bad_role = run("staff", "add", member, "--role", "janitor")
    assert bad_role.exit_code == 2 and "--role janitor" in flat(bad_role.output)
    assert run("staff", "deactivate", "nobody-here").exit_code == 1


def test_a_member_signs_in_with_the_token_the_registry_issued(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOSH_TEMPORAL_ADDRESS", "127.0.0.1:1")  # nothing listens
    member = new_case_id("staff").replace("case", "staff")[:60]
    ok("staff", "add", member, "--role", "interviewer")
    token = ok_json("staff", "token", member)["token"]

    wrong = CliRunner().invoke(cli.main.app, ["login", member], input="not-the-token\n")
    assert wrong.exit_code == 2 and "wrong token" in flat(wrong.output)
    assert not (isolated / "state" / "session.json").exists()
    signed = CliRunner().invoke(cli.main.app, ["login", member], input=f"{token}\n")
    assert signed.exit_code == 0 and f"signed in as {member} (interviewer)" in signed.output
    session = isolated / "state" / "session.json"
    assert session.stat().st_mode & 0o777 == 0o600  # it holds a token
    assert ok_json("whoami")["staff_id"] == member

    # signed in: the interview goes as far as Temporal (none here), the actor is the member
    reached = run("interview", "c-1", "--pass", "--points", "60")
    assert reached.exit_code == 1 and "cannot reach Temporal" in flat(reached.output)

    ok("staff", "token", member)  # reissued: the session's token no longer signs in
    stale = run("interview", "c-1", "--pass", "--points", "60")
    assert stale.exit_code == 2 and "no longer valid" in flat(stale.output)
    newest = ok_json("staff", "token", member)["token"]
    assert CliRunner().invoke(cli.main.app, ["login", member], input=f"{newest}\n").exit_code == 0
    ok("staff", "deactivate", member)
    assert run("whoami").exit_code == 2  # deactivated: signed out everywhere at once
    assert "signed out" in ok("logout")
    assert not session.exists()
    assert run("whoami").exit_code == 2


def test_agency_feeds_are_registered_and_never_sign_in() -> None:
    listed = {m["staff_id"]: m["roles"] for m in ok_json("staff", "list")}
    assert listed["feed.address-registry"] == listed["feed.treasury"] == ["agency_feed"]
    refused = run("staff", "token", "feed.treasury")
    assert refused.exit_code == 2 and "agency feed" in flat(refused.output)
