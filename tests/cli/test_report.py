"""`kosh report` against a record of its own with known answers: places held per region and
year, the clawback demanded equal to the departed families' support, refusals by gate,
families still in their region by months since arrival; as JSON, tables and SVG charts."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import asyncpg
import pytest

from domain import events as ev
from store.events import append_events
from store.records import NewEvent
from tests.cli.records_seed import db_url, flat, fresh_db, isolated, ok, run
from tests.domain.test_simulation import departed, relocated, scored

__all__ = ["db_url", "fresh_db", "isolated"]  # the record's fixtures, used here


async def _seed(url: str, cases: list[list[ev.Event]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for events in cases:
            case_id = next(e for e in events if isinstance(e, ev.ApplicationSubmitted)).case_id
            new = [NewEvent(event_id=str(uuid.uuid4()), event=e) for e in events]
            await append_events(conn, case_id=case_id, expected_seq=0, events=new)
    finally:
        await conn.close()


@pytest.fixture
def record(monkeypatch: pytest.MonkeyPatch, fresh_db: str) -> str:
    monkeypatch.setenv("KOSH_DATABASE_URL", fresh_db)
    ok("db", "migrate")
    return fresh_db


def test_the_regions_picture_counts_the_recorded_facts(record: str, tmp_path: Path) -> None:
    stayed = [relocated("stay-long", seed=1, months=24), relocated("stay-short", seed=1)]
    gone = [departed("gone-1", seed=1), departed("gone-2", seed=1)]
    refused = scored("weak-1", [{"reading": 10, "listening": 10, "writing": 10}] * 3)
    asyncio.run(_seed(record, [*stayed, *gone, refused]))

    found = json.loads(ok("report", "--json"))
    assert found["cases"] == 5 and found["closed"] == {"rejected": 1}  # the departed owe
    [places] = found["quota"]
    assert (places["region"], places["reserved"], places["held"]) == ("Pavlodar", 4, 4)
    support = {
        cid: sum(e.amount_tiyn for e in events if isinstance(e, ev.SupportPaid))
        for cid, events in (("1", gone[0]), ("2", gone[1]))
    }
    [money] = found["money"]
    assert money["contracts"] == 4
    assert money["demanded_tiyn"] == sum(support.values()) > 0  # all support, clawed back
    assert [(r["gate"], r["cases"]) for r in found["refusals"]] == [("language_test", 1)]
    [kept] = found["retention"]
    months = {m: (seen, stayed) for m, seen, stayed in kept["months"]}
    assert months[6] == (4, 4) and months[12] == (3, 1)

    shown = flat(ok("report"))
    assert "Pavlodar 2026" in shown and "language_test" in shown

    drawn = json.loads(ok("report", "--charts", str(tmp_path / "charts"), "--json"))["charts"]
    names = sorted(Path(p).name for p in drawn)
    assert names == sorted(
        f"{n}.svg"
        for n in (
            "quota-use",
            "retention",
            "support-and-clawback",
            "stage-waits",
            "refusals-by-gate",
            "labour-places",
        )
    )
    assert (
        "Kandas families still in their region" in (tmp_path / "charts/retention.svg").read_text()
    )


def test_an_empty_record_reports_nothing_and_draws_empty_charts(
    record: str, tmp_path: Path
) -> None:
    found = json.loads(ok("report", "--json", "--charts", str(tmp_path / "c")))
    assert (found["cases"], found["quota"], found["retention"]) == (0, [], [])
    assert "no quota places in the record" in (tmp_path / "c/quota-use.svg").read_text()
    assert run("report", "--charts", str(tmp_path / "c" / "quota-use.svg")).exit_code == 2
