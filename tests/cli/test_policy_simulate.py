"""`kosh policy simulate` against a record of its own: the recorded cases re-decided under a
draft, the record read and never written (its events, positions and case rows unchanged)."""

from __future__ import annotations

import asyncio
import json
import random
import re
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from bench.event_store_lives import case_life
from cli.policy_charts import DECISIONS
from store.events import append_events
from store.labour import append_labour_events
from store.records import NewEvent, NewLabourEvent
from tests.cli.records_seed import db_url, flat, fresh_db, isolated, ok, run
from tests.domain.test_labour_simulation import START, lines_with, recorded

__all__ = ["db_url", "fresh_db", "isolated"]  # the record's fixtures, used here

DRAFT = """\
id: "2027.1"
effective_from: 2027-03-01
note: a draft
changes:
  questionnaire.min_points:
    value: {minimum}
    provenance: {{kind: illustrative, reason: "a draft"}}
"""
FINGERPRINT = (
    "SELECT count(*), coalesce(max(position), 0), "
    "(SELECT string_agg(case_id || last_seq || updated_at, ',' ORDER BY case_id) FROM cases) "
    "FROM events"
)


async def _seed(url: str, lives: int) -> dict[str, int]:
    """Cases appended as the activities append them: each case's questionnaire points."""
    conn = await asyncpg.connect(url)
    points = {}
    try:
        for i in range(lives):
            case_id = f"sim-{uuid.uuid4().hex[:8]}"
            seq = 0
            for batch in case_life(case_id, random.Random(i), months=3, year=2026):
                new = [NewEvent(event_id=str(uuid.uuid4()), event=e) for e in batch]
                await append_events(conn, case_id=case_id, expected_seq=seq, events=new)
                seq += len(batch)
                for e in batch:
                    if e.type == "QuestionnaireScored":
                        points[case_id] = e.points  # type: ignore[attr-defined]
    finally:
        await conn.close()
    return points


async def _fingerprint(url: str) -> tuple[object, ...]:
    conn = await asyncpg.connect(url)
    try:
        return tuple(await conn.fetchrow(FINGERPRINT))
    finally:
        await conn.close()


@pytest.fixture
def record(monkeypatch: pytest.MonkeyPatch, fresh_db: str) -> str:
    monkeypatch.setenv("KOSH_DATABASE_URL", fresh_db)
    ok("db", "migrate")
    return fresh_db


def test_the_record_is_re_decided_under_a_draft_and_never_written(
    record: str, tmp_path: Path
) -> None:
    points = asyncio.run(_seed(record, 5))
    minimum = sorted(points.values())[2]
    path = tmp_path / "draft.yaml"
    path.write_text(DRAFT.format(minimum=minimum))
    before = asyncio.run(_fingerprint(record))

    result = run("policy", "simulate", str(path), "--json")
    assert result.exit_code == 0, result.output
    impact = json.loads(result.stdout)
    refused = {c["case_id"] for c in impact["cases"] if c["changed"]}
    assert refused == {cid for cid, p in points.items() if p < minimum} and refused
    assert all(
        c["draft"]["gate"] == "questionnaire_minimum"
        for c in impact["cases"]
        if c["case_id"] in refused
    )
    assert asyncio.run(_fingerprint(record)) == before

    shown = flat(run("policy", "simulate", str(path)).stdout)
    assert f"over {len(points)} recorded cases" in shown
    assert f"approve reject questionnaire_minimum {len(refused)}" in shown


def test_bad_options_are_refused_naming_them(record: str, tmp_path: Path) -> None:
    path = tmp_path / "draft.yaml"
    path.write_text(DRAFT.format(minimum=450))
    for args, said in (
        (("--from", "2026-02-30"), "--from '2026-02-30' is not a date"),
        (("--region", "Atlantis"), "--region 'Atlantis' is not one of"),
    ):
        result = run("policy", "simulate", str(path), *args)
        assert result.exit_code == 2 and said in flat(result.stderr), result.output


LINES_DRAFT = """\
id: "2027.1"
effective_from: 2027-03-01
note: a draft
changes:
  labour.quotas.2026:
    value: {lines}
    provenance: {{kind: illustrative, reason: "a draft"}}
"""


async def _seed_labour(url: str, requests: int) -> list[str]:
    """Labour requests on one line, a day apart, each holding a place."""
    conn = await asyncpg.connect(url)
    ids = [f"lr-{uuid.uuid4().hex[:8]}" for _ in range(requests)]
    try:
        for i, rid in enumerate(ids):
            events = recorded(rid, START + timedelta(days=i))
            new = [NewLabourEvent(event_id=str(uuid.uuid4()), event=e) for e in events]
            await append_labour_events(conn, request_id=rid, expected_seq=0, events=new)
    finally:
        await conn.close()
    return ids


def test_labour_places_per_line_and_the_requests_a_draft_refuses(
    record: str, tmp_path: Path
) -> None:
    ids = asyncio.run(_seed_labour(record, 3))
    path = tmp_path / "draft.yaml"
    path.write_text(LINES_DRAFT.format(lines=json.dumps(lines_with(2))))
    before = asyncio.run(_fingerprint(record))

    result = run("policy", "simulate", str(path), "--json")
    assert result.exit_code == 0, result.output
    labour = json.loads(result.stdout)["labour"]
    [line] = labour["lines"]
    assert (line["held"], line["needed"], line["draft_places"], line["short"]) == (3, 3, 2, 1)
    assert line["beyond_places"] == [ids[-1]]
    refused = [r for r in labour["requests"] if r["newly_refused"]]
    assert [(r["request_id"], r["draft_rule"]) for r in refused] == [(ids[-1], "quota_exhausted")]
    assert asyncio.run(_fingerprint(record)) == before

    shown = flat(run("policy", "simulate", str(path)).stdout)
    assert "Labour requests: 3 recorded, 1 the draft would refuse" in shown
    assert f"{ids[-1]} oil_and_gas in Atyrau place held quota_exhausted" in shown


def test_the_impact_is_drawn_as_charts_with_its_figures(record: str, tmp_path: Path) -> None:
    points = asyncio.run(_seed(record, 5))
    ids = asyncio.run(_seed_labour(record, 3))
    minimum = sorted(points.values())[2]
    path = tmp_path / "draft.yaml"
    path.write_text(DRAFT.format(minimum=minimum))
    folder = tmp_path / "charts"

    result = run("policy", "simulate", str(path), "--charts", str(folder), "--json")
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)
    names = sorted(Path(p).name for p in said["charts"])
    assert names == [
        "decisions.svg",
        "kandas-places.svg",
        "labour-lines.svg",
        "support-and-clawback.svg",
    ]
    decisions = (folder / "decisions.svg").read_text()
    assert "Scored cases by decision (5)" in decisions

    def count(side: str, decision: str) -> str:
        return str(sum(1 for c in said["cases"] if (c[side] or {}).get("decision") == decision))

    # the bars' own labels: recorded approve, refer, reject, then the draft's, undetermined
    bars = [count("recorded", d) for d in DECISIONS] + ["0"]
    undetermined = sum(1 for c in said["cases"] if c["recorded"] and c["draft"] is None)
    bars += [count("draft", d) for d in DECISIONS] + [str(undetermined)]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", decisions)
    assert any(texts[i : i + len(bars)] == bars for i in range(len(texts))), (bars, texts)
    assert count("draft", "reject") == str(sum(1 for c in said["cases"] if c["changed"]))
    places = (folder / "kandas-places.svg").read_text()
    for line in said["places"]:
        assert f"{line['region']} {line['year']}" in places
    labour = (folder / "labour-lines.svg").read_text()
    assert "oil_and_gas Atyrau 2026" in labour and len(ids) == 3
    again = tmp_path / "again"
    run("policy", "simulate", str(path), "--charts", str(again))
    assert (again / "decisions.svg").read_text() == decisions  # stable: no date, same ids

    missing = run("policy", "simulate", str(path), "--charts", str(path))
    assert missing.exit_code == 2 and "--charts" in flat(missing.stderr)
