"""The staff registry from the CLI (`kosh staff`) and signing in with the token it issued
(`kosh login`, `kosh whoami`, `kosh logout`), against the embedded PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli.main
from tests.cli.issuer import serving_issuer
from tests.cli.records_seed import (
    db_url,
    flat,
    isolated,
    new_case_id,
    ok,
    ok_json,
    run,
)

__all__ = ["db_url", "isolated"]  # the record's fixtures, used here


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
    isolated: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
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

    # signed in: the console proves the member sent it, and the interview goes as far as
    # Temporal (none here)
    no_console = run("interview", "c-1", "--pass", "--points", "60")
    assert no_console.exit_code == 1 and "no console to prove who you are" in flat(
        no_console.output
    )
    with serving_issuer(db_url) as console:
        monkeypatch.setenv("KOSH_CONSOLE_PUBLIC_URL", console)
        reached = run("interview", "c-1", "--pass", "--points", "60")
        assert reached.exit_code == 1 and "cannot reach Temporal" in flat(reached.output)
        proof = ok_json("assert", "c-1", "--request-id", "r-1")
        assert (proof["workflow_id"], proof["request_id"]) == ("case-c-1", "r-1")

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
