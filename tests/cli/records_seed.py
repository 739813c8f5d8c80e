"""The record the CLI's record tests read: cases seeded into the session's embedded
PostgreSQL (shared with the workflow tests: each case here has its own id, and the quota rows
use a year no other test reserves), the fixtures that point the CLI at it, and helpers to run
`kosh` and read what it printed. A test module imports the fixtures it uses (`isolated` makes
every test of the module run in a fresh folder with KOSH_DATABASE_URL set)."""

from __future__ import annotations

import asyncio
import json
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
from domain import events as ev
from domain.application import Application, Track
from domain.regions import Region
from domain.scoring import Component, Gate, ScoreBreakdown
from store.events import NewEvent, append_events

POLICY = "2026.1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
YEAR = 2090  # quota rows of this year are the record tests' alone
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


ROUND_DAY = date(YEAR, 3, 1)


async def seed_round(conn: Any) -> str:
    """A West Kazakhstan round of YEAR: two candidates, one place; the id of the round."""
    from domain.allocation import AllocationRoundClosed, Candidate, Told, hold_round
    from store.rounds import record_round

    rid = f"rec-{uuid.uuid4().hex[:6]}-west-kazakhstan-{YEAR}-03"
    when = datetime(YEAR, 3, 1, 9, tzinfo=UTC)
    people = [
        Candidate(case_id=f"{rid}-a", score=640, submitted_at=when, regions=("West Kazakhstan",)),
        Candidate(case_id=f"{rid}-b", score=655, submitted_at=when, regions=("West Kazakhstan",)),
    ]
    held = hold_round(
        rid=rid,
        region="West Kazakhstan",
        today=ROUND_DAY,
        now=when,
        policy_id="2026.1",
        capacity=30,
        in_use=29,
        size=None,
        candidates=people,
    )
    assert held is not None
    await record_round(conn, rid=rid, event=held)
    told = (
        Told(case_id=f"{rid}-b", answer="granted"),
        Told(case_id=f"{rid}-a", answer="not_reached"),
    )
    closed = AllocationRoundClosed(policy_id="2026.1", at=when, round_id=rid, told=told)
    await record_round(conn, rid=rid, event=closed)
    return rid


@pytest_asyncio.fixture(scope="session")
async def seeded(embedded_pool: asyncpg.Pool) -> Seeded:
    ids = Seeded(new_case_id("breach"), new_case_id("moved"), new_case_id("general"), [])
    async with embedded_pool.acquire() as conn:
        ids.event_ids.extend(await append(conn, ids.breach, breach(ids.breach)))
        await append(conn, ids.moved, moved(ids.moved))
        await append(conn, ids.general, general(ids.general))
        await seed_round(conn)
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


def listed(*filters: str) -> list[str]:
    return [c["case_id"] for c in ok_json("cases", *filters)]
