"""Console sessions end for good: a copy of the cookie replayed after sign-out, after `kosh
staff token` reissued the member's token, after `kosh staff deactivate`, or after the session
expired gets the sign-in page (303 to /login), never 200. A sign-in sends the browser to a
path on this site only, and the cookie is Secure when the console's public URL is https.

The console in-process over ASGI; the staff registry commands through the CLI (in a thread:
it runs its own event loop) against the same embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from typer.testing import CliRunner

import cli.main
from cli.console import console_settings
from console.app import ConsoleSettings, console_app
from console.signin import local_path
from store.staff import issue_token, put_staff
from tests.cli.records_seed import db_url
from tests.workflows.conftest import case_rig
from tests.workflows.harness import ISSUER, Rig

__all__ = ["case_rig", "db_url"]  # fixtures used here

PROBE = "/labour"  # a page from the record: 200 to a signed-in member


def console(rig: Rig, public_url: str = "http://127.0.0.1:8000") -> FastAPI:
    settings = ConsoleSettings(secret="test-secret-test-secret", public_url=public_url)
    return console_app(client=rig.env.client, pool=rig.pool, settings=settings, issuer=ISSUER)


def browser(app: FastAPI, **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://console", headers=headers)


@pytest_asyncio.fixture
async def member(case_rig: Rig) -> tuple[str, str]:
    """A fresh case officer and the sign-in token the registry issued them."""
    staff_id = f"officer-{uuid.uuid4().hex[:8]}"
    async with case_rig.pool.acquire() as conn:
        await put_staff(conn, staff_id=staff_id, roles=["case_officer"])
        token = await issue_token(conn, staff_id=staff_id)
    assert token is not None
    return staff_id, token


@pytest_asyncio.fixture
async def signed_in(
    case_rig: Rig, member: tuple[str, str]
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser signed in as `member`, and a copy of its session cookie."""
    async with browser(console(case_rig)) as b:
        staff_id, token = member
        answer = await b.post("/login", data={"staff_id": staff_id, "token": token, "next": "/"})
        assert answer.status_code == 303
        cookie = b.cookies["session"]
        assert (await b.get(PROBE)).status_code == 200
        yield b, cookie


async def replayed(rig: Rig, cookie: str) -> httpx.Response:
    """The copied cookie, sent from another browser."""
    async with browser(console(rig), Cookie=f"session={cookie}") as other:
        return await other.get(PROBE)


def to_sign_in(answer: httpx.Response) -> None:
    assert answer.status_code == 303, answer.status_code
    assert answer.headers["location"] == f"/login?next={PROBE}"


async def kosh(*args: str) -> None:
    result = await asyncio.to_thread(CliRunner().invoke, cli.main.app, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    """`kosh staff ...` on the console's database."""
    monkeypatch.setenv("KOSH_DATABASE_URL", db_url)
    monkeypatch.setenv("KOSH_TEMPORAL_ADDRESS", "127.0.0.1:1")  # a `kosh dev` is never used


async def test_a_copy_of_the_cookie_works_while_the_session_lasts(
    case_rig: Rig, signed_in: tuple[httpx.AsyncClient, str]
) -> None:
    _, cookie = signed_in
    assert (await replayed(case_rig, cookie)).status_code == 200  # the same session


async def test_sign_out_ends_the_session(
    case_rig: Rig, signed_in: tuple[httpx.AsyncClient, str]
) -> None:
    b, cookie = signed_in
    out = await b.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    to_sign_in(await b.get(PROBE))
    to_sign_in(await replayed(case_rig, cookie))


async def test_a_reissued_token_ends_the_session(
    case_rig: Rig, member: tuple[str, str], signed_in: tuple[httpx.AsyncClient, str]
) -> None:
    b, cookie = signed_in
    await kosh("staff", "token", member[0])
    to_sign_in(await replayed(case_rig, cookie))
    to_sign_in(await b.get(PROBE))


async def test_deactivation_ends_the_session(
    case_rig: Rig, member: tuple[str, str], signed_in: tuple[httpx.AsyncClient, str]
) -> None:
    b, cookie = signed_in
    await kosh("staff", "deactivate", member[0])
    to_sign_in(await replayed(case_rig, cookie))
    async with case_rig.pool.acquire() as conn:  # active again: the old session stays over
        await put_staff(conn, staff_id=member[0], roles=["case_officer"])
    to_sign_in(await replayed(case_rig, cookie))
    to_sign_in(await b.get(PROBE))


async def test_an_expired_session_is_over(
    case_rig: Rig, signed_in: tuple[httpx.AsyncClient, str]
) -> None:
    _, cookie = signed_in
    async with case_rig.pool.acquire() as conn:
        await conn.execute("UPDATE console_sessions SET expires_at = now() - interval '1 second'")
    to_sign_in(await replayed(case_rig, cookie))


async def test_signing_in_again_ends_the_previous_session(
    case_rig: Rig, member: tuple[str, str], signed_in: tuple[httpx.AsyncClient, str]
) -> None:
    b, cookie = signed_in
    staff_id, token = member
    assert (await b.post("/login", data={"staff_id": staff_id, "token": token})).status_code == 303
    assert b.cookies["session"] != cookie
    to_sign_in(await replayed(case_rig, cookie))
    assert (await b.get(PROBE)).status_code == 200


OFF_SITE = [
    "//evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "https://evil.example/x",
    "javascript:alert(1)",
    "/\t/evil.example/x",
    "/\r\nSet-Cookie: session=stolen",
    "evil.example/x",
    "",
]


@pytest.mark.parametrize("target", OFF_SITE)
async def test_sign_in_never_sends_the_browser_off_site(
    case_rig: Rig, member: tuple[str, str], target: str
) -> None:
    staff_id, token = member
    async with browser(console(case_rig)) as b:
        answer = await b.post("/login", data={"staff_id": staff_id, "token": token, "next": target})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/"
    async with browser(console(case_rig)) as b:
        form = await b.get("/login", params={"next": target})
        assert 'name="next" value="/"' in form.text


@pytest.mark.parametrize("target", ["/cases/c-1", "/labour/lr-1?x=1", "/"])
def test_a_local_path_is_kept(target: str) -> None:
    assert local_path(target) == target


async def test_the_path_asked_for_is_where_sign_in_leads(
    case_rig: Rig, member: tuple[str, str]
) -> None:
    async with browser(console(case_rig)) as b:
        asked = await b.get("/labour")
        assert asked.headers["location"] == "/login?next=/labour"
        staff_id, token = member
        data = {"staff_id": staff_id, "token": token, "next": "/labour"}
        assert (await b.post("/login", data=data)).headers["location"] == "/labour"


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [("https://console.kosh.example", True), ("http://127.0.0.1:8000", False)],
)
async def test_the_cookie_is_secure_behind_https(
    case_rig: Rig, member: tuple[str, str], public_url: str, secure: bool
) -> None:
    staff_id, token = member
    async with browser(console(case_rig, public_url)) as b:
        answer = await b.post("/login", data={"staff_id": staff_id, "token": token})
    assert answer.status_code == 303
    flags = [f.strip().lower() for f in answer.headers["set-cookie"].split(";")]
    assert ("secure" in flags) is secure
    assert "httponly" in flags and "samesite=strict" in flags


def test_the_public_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOSH_CONSOLE_PUBLIC_URL", raising=False)
    assert not console_settings().secure  # the local http default
    monkeypatch.setenv("KOSH_CONSOLE_PUBLIC_URL", "https://console.kosh.example")
    assert console_settings().secure
    monkeypatch.setenv("KOSH_CONSOLE_PUBLIC_URL", "console.kosh.example")
    with pytest.raises(SystemExit) as stopped:
        console_settings()
    assert "KOSH_CONSOLE_PUBLIC_URL='console.kosh.example'" in str(stopped.value)
