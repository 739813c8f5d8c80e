"""The business-record commands against the embedded PostgreSQL: events, quotas, payments and
cases, their --json, and every way they refuse bad input (tests/cli/records_seed.py seeds the
record they read)."""

from __future__ import annotations

import re

import pytest

from tests.cli.records_seed import (
    BORN,
    NAME,
    PASSPORT,
    SEEDED_TYPES,
    YEAR,
    Seeded,
    closed_port,
    db_url,
    flat,
    isolated,
    listed,
    ok,
    ok_json,
    run,
    seeded,
)

__all__ = ["db_url", "isolated", "seeded"]  # the record's fixtures, used here

# --- help -----------------------------------------------------------------------------------

RECORD_HELP = [
    (("events", "history"), "case_id"),
    (("events", "checkpoint"), "--every"),
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
    # the round that shared out the year's last place: one granted, one not reached
    assert "Region Round Period Places Candidates Granted Not reached Cut-off" in text
    assert f"West Kazakhstan 771 {YEAR}-03 1 2 1 1 655" in text  # round 771: 2090-03
    [held] = ok_json("quotas", "--year", str(YEAR))["rounds"]
    assert (held["number"], held["candidates"], held["granted"], held["not_reached"]) == (
        771,
        2,
        1,
        1,
    )
    every_year = ok_json("quotas")["kandas"]
    assert {(q["region"], q["year"]) for q in every_year} >= {
        ("Kostanay", YEAR),
        ("Pavlodar", YEAR),
    }


def test_quotas_of_a_year_without_places() -> None:
    text = flat(ok("quotas", "--year", "1999"))
    assert "no kandas quota places reserved in 1999" in text
    assert "no foreign-labour places reserved in 1999" in text
    assert "no allocation rounds held in 1999" in text
    assert ok_json("quotas", "--year", "1999") == {"kandas": [], "rounds": [], "labour": []}


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
