"""`kosh audit access`: who read decrypted payloads, of which workflow, when — filtered by
workflow, member and date, as a table or JSON; the log itself cannot be rewritten."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.cli.records_seed import db_url, flat, isolated, ok, ok_json, run, sql

__all__ = ["db_url", "isolated"]  # the record's fixtures, used here

INSERT = """
INSERT INTO codec_access_log (at, member, via, namespace, workflow_id, payloads)
VALUES ($1::text::timestamptz, $2, $3, 'default', $4, $5)
"""


@pytest.fixture
def readings(db_url: str) -> tuple[str, str, str]:
    """Three readings of one case by two people, and one unstamped payload."""
    case = f"case-audit-{uuid.uuid4().hex[:8]}"
    staff, person = f"op-{uuid.uuid4().hex[:6]}", f"idp-{uuid.uuid4().hex[:6]}"
    for at, member, via, workflow, n in (
        ("2026-11-30T09:00:00Z", staff, "staff_token", case, 3),
        ("2026-12-02T10:30:00Z", person, "oidc", case, 12),
        ("2026-12-03T08:15:00Z", staff, "staff_session", case, 1),
        ("2026-12-03T08:16:00Z", staff, "staff_session", None, 2),
    ):
        sql(db_url, INSERT, at, member, via, workflow, n)
    return case, staff, person


def test_who_looked_at_this_persons_file(readings: tuple[str, str, str]) -> None:
    case, staff, person = readings
    rows = ok_json("audit", "access", "--workflow", case)
    assert [(r["member"], r["via"], r["payloads"]) for r in rows] == [
        (staff, "staff_session", 1),
        (person, "oidc", 12),
        (staff, "staff_token", 3),
    ]  # newest first
    assert {r["workflow_id"] for r in rows} == {case}
    assert rows[0]["at"].startswith("2026-12-03T08:15:00")
    shown = flat(ok("audit", "access", "--workflow", case))
    assert "Decryptions: 3" in shown and f"2026-12-02 10:30 {person} oidc {case} 12" in shown


def test_filters_by_member_and_date(readings: tuple[str, str, str]) -> None:
    case, staff, _ = readings
    mine = ok_json("audit", "access", "--member", staff)
    assert [r["workflow_id"] for r in mine] == [None, case, case]
    assert "(unknown: sealed without a workflow stamp)" in flat(
        ok("audit", "access", "--member", staff)
    )
    recent = ok_json("audit", "access", "--member", staff, "--since", "2026-12-01")
    assert [r["payloads"] for r in recent] == [2, 1]
    moment = ok_json("audit", "access", "--workflow", case, "--since", "2026-12-03T08:15:00Z")
    assert [r["via"] for r in moment] == ["staff_session"]
    assert "no decryption logged that matches" in ok("audit", "access", "--member", "nobody")


def test_a_bad_date_exits_2_naming_the_option() -> None:
    result = run("audit", "access", "--since", "last tuesday")
    assert result.exit_code == 2 and "--since" in result.output


def test_the_log_cannot_be_rewritten(db_url: str, readings: tuple[str, str, str]) -> None:
    case, _, _ = readings
    for change in (
        "UPDATE codec_access_log SET member = 'someone-else' WHERE workflow_id = $1",
        "DELETE FROM codec_access_log WHERE workflow_id = $1",
    ):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            sql(db_url, change, case)
    assert len(ok_json("audit", "access", "--workflow", case)) == 3
