"""Issue #20, attack A: the codec server decrypts a real case's payloads only for a signed-in
operator, and writes who read which workflow before it answers.

Each attack is reproduced as it was tried: the old token-in-path route, no credentials, a
member who is no operator, a deactivated operator, an OIDC token forged, expired or without
the role, a signed-in browser asked from another site, a payload whose workflow stamp was
changed. Each gets a 401/403 (or the payload back sealed) and leaves no decryption logged.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

import worker
from adapters.codec import UNDECRYPTABLE, WORKFLOW_HEADER, EncryptionCodec
from adapters.codec_access import Reader, Refusal
from adapters.codec_server import codec_app
from adapters.codec_signin import SESSION_COOKIE
from store.access_log import AccessRow, access_log
from store.staff import issue_token, put_staff
from tests.adapters.idp import IdentityProvider
from tests.conftest import ModuleServer
from tests.workflows.test_encryption import KEYS_A, client_with, closed_case

UI = "http://localhost:8233"


@dataclass
class Case:
    workflow_id: str
    name: str
    passport: str
    body: str  # the case's input, sealed, as the UI posts it to /decode


@dataclass
class Staff:
    operator: str  # "<staff id>:<token>"
    interviewer: str
    deactivated: str


@pytest_asyncio.fixture(scope="module")
async def case(time_server: ModuleServer, embedded_pool: asyncpg.Pool) -> Case:
    time_env = await time_server.current()
    workflow_id, name, passport = await closed_case(time_env, embedded_pool)
    stored = await client_with(time_env, None).get_workflow_handle(workflow_id).fetch_history()
    started = stored.events[0].workflow_execution_started_event_attributes.input
    body = json_format.MessageToJson(Payloads(payloads=list(started.payloads)))
    assert name not in body and passport not in body
    return Case(workflow_id, name, passport, body)


async def member(pool: asyncpg.Pool, roles: list[str], *, active: bool = True) -> str:
    staff_id = f"m-{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        await put_staff(conn, staff_id=staff_id, roles=roles)
        token = await issue_token(conn, staff_id=staff_id)
        if not active:  # deactivated after signing in: the token stops working
            await put_staff(conn, staff_id=staff_id, roles=roles, active=False)
    return f"{staff_id}:{token}"


@pytest_asyncio.fixture(scope="module")
async def staff(embedded_pool: asyncpg.Pool) -> Staff:
    return Staff(
        operator=await member(embedded_pool, ["operator"]),
        interviewer=await member(embedded_pool, ["interviewer", "case_officer"]),
        deactivated=await member(embedded_pool, ["operator"], active=False),
    )


@pytest_asyncio.fixture(scope="module")
async def idp() -> AsyncIterator[tuple[IdentityProvider, str]]:
    """The identity provider's keys, served by the test on the loopback."""
    provider = IdentityProvider()
    async with worker.serving(provider.app(), "127.0.0.1:0") as url:
        yield provider, f"{url}/jwks"


@pytest_asyncio.fixture
async def http(
    embedded_pool: asyncpg.Pool, idp: tuple[IdentityProvider, str]
) -> AsyncIterator[httpx.AsyncClient]:
    provider, jwks = idp
    app = worker.codec_server(
        KEYS_A, pool=embedded_pool, oidc=provider.settings(jwks), ui_origins=[UI]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8081") as client:
        yield client


async def logged(pool: asyncpg.Pool, workflow_id: str) -> list[AccessRow]:
    async with pool.acquire() as conn:
        return await access_log(conn, workflow_id=workflow_id)


def opened(answer: httpx.Response) -> str:
    decoded = json_format.Parse(answer.content, Payloads())
    return b"".join(p.data for p in decoded.payloads).decode()


def bearer(credentials: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials}", "X-Namespace": "default"}


async def test_an_operators_credentials_decrypt_and_the_reading_is_logged(
    http: httpx.AsyncClient, case: Case, staff: Staff, embedded_pool: asyncpg.Pool
) -> None:
    before = len(await logged(embedded_pool, case.workflow_id))
    answer = await http.post("/decode", content=case.body, headers=bearer(staff.operator))
    assert answer.status_code == 200
    assert case.name in opened(answer) and case.passport in opened(answer)
    [row, *_] = await logged(embedded_pool, case.workflow_id)
    assert len(await logged(embedded_pool, case.workflow_id)) == before + 1
    assert (row.member, row.via, row.workflow_id) == (
        staff.operator.partition(":")[0],
        "staff_token",
        case.workflow_id,
    )
    assert (row.namespace, row.payloads) == ("default", 1)


@pytest.mark.parametrize(
    ("who", "status", "said"),
    [
        (None, 401, "sign in"),
        ("interviewer", 403, "is not an operator"),
        ("deactivated", 401, "unknown or inactive staff id, or wrong token"),
        ("wrong-token", 401, "wrong token"),
        ("not-bearer", 401, "expected Authorization: Bearer"),
    ],
)
async def test_without_an_operators_credentials_nothing_is_decrypted(
    http: httpx.AsyncClient,
    case: Case,
    staff: Staff,
    embedded_pool: asyncpg.Pool,
    who: str | None,
    status: int,
    said: str,
) -> None:
    before = await logged(embedded_pool, case.workflow_id)
    headers = {
        None: {},
        "interviewer": bearer(staff.interviewer),
        "deactivated": bearer(staff.deactivated),
        "wrong-token": bearer(staff.operator.partition(":")[0] + ":not-the-token"),
        "not-bearer": {"Authorization": staff.operator},
    }[who]
    answer = await http.post("/decode", content=case.body, headers=headers)
    assert answer.status_code == status and said in answer.json()["error"]
    assert case.name not in answer.text and case.passport not in answer.text
    assert await logged(embedded_pool, case.workflow_id) == before


async def test_no_route_takes_a_token_in_its_path(
    http: httpx.AsyncClient, case: Case, staff: Staff
) -> None:
    """The attack: the UI's public settings handed out `/t/<token>` and the path opened."""
    token = staff.operator.partition(":")[2]
    for path in (f"/t/{token}/decode", f"/t/{staff.operator}/decode"):
        answer = await http.post(path, content=case.body)
        assert answer.status_code == 404 and case.name not in answer.text


async def test_an_oidc_operators_access_token_decrypts_and_is_logged(
    http: httpx.AsyncClient,
    case: Case,
    embedded_pool: asyncpg.Pool,
    idp: tuple[IdentityProvider, str],
) -> None:
    provider, _ = idp
    answer = await http.post("/decode", content=case.body, headers=bearer(provider.token()))
    assert answer.status_code == 200 and case.name in opened(answer)
    [row, *_] = await logged(embedded_pool, case.workflow_id)
    assert (row.member, row.via, row.workflow_id) == ("a.operator", "oidc", case.workflow_id)


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"forged": True}, 401),
        ({"exp": 1_700_000_000}, 401),
        ({"groups": ["staff"]}, 403),
        ({"aud": "someone-else"}, 401),
    ],
    ids=["forged", "expired", "no-operator-role", "audience"],
)
async def test_a_bad_oidc_token_decrypts_nothing(
    http: httpx.AsyncClient,
    case: Case,
    embedded_pool: asyncpg.Pool,
    idp: tuple[IdentityProvider, str],
    claims: dict[str, Any],
    status: int,
) -> None:
    provider, _ = idp
    # forged: the same claims and key id, signed with another key
    forged = claims.pop("forged", False)
    token = IdentityProvider().token() if forged else provider.token(**claims)
    before = await logged(embedded_pool, case.workflow_id)
    answer = await http.post("/decode", content=case.body, headers=bearer(token))
    assert answer.status_code == status and case.name not in answer.text
    assert await logged(embedded_pool, case.workflow_id) == before


async def test_a_signed_in_browser_decrypts_from_the_ui_only(
    http: httpx.AsyncClient, case: Case, embedded_pool: asyncpg.Pool
) -> None:
    credentials = await member(embedded_pool, ["operator"])
    staff_id, _, token = credentials.partition(":")
    refused = await http.post("/sign-in", data={"staff_id": staff_id, "token": "wrong"})
    assert refused.status_code == 401 and SESSION_COOKIE not in refused.cookies
    signed = await http.post("/sign-in", data={"staff_id": staff_id, "token": token})
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = await http.get("/sign-in")
    assert f"Signed in as <strong>{staff_id}</strong>" in page.text

    from_ui = {"Origin": UI, "X-Namespace": "default", "Content-Type": "application/json"}
    preflight = await http.options("/decode", headers={"Origin": UI})
    assert preflight.headers["Access-Control-Allow-Origin"] == UI
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    answer = await http.post("/decode", content=case.body, headers=from_ui)
    assert answer.status_code == 200 and case.name in opened(answer)
    assert answer.headers["Access-Control-Allow-Origin"] == UI
    [row, *_] = await logged(embedded_pool, case.workflow_id)
    assert (row.member, row.via) == (staff_id, "staff_session")

    before = await logged(embedded_pool, case.workflow_id)
    elsewhere = {**from_ui, "Origin": "https://evil.example"}
    stolen = await http.post("/decode", content=case.body, headers=elsewhere)
    assert stolen.status_code == 403 and case.name not in stolen.text
    assert "Access-Control-Allow-Origin" not in stolen.headers
    no_origin = await http.post("/decode", content=case.body)
    assert no_origin.status_code == 403
    async with embedded_pool.acquire() as conn:  # deactivated: signed out at the next request
        await put_staff(conn, staff_id=staff_id, roles=["operator"], active=False)
    gone = await http.post("/decode", content=case.body, headers=from_ui)
    assert gone.status_code == 401 and case.name not in gone.text
    again = await http.post("/decode", content=case.body, headers=from_ui)
    assert again.json()["error"].startswith("sign in")  # the session was ended
    assert await logged(embedded_pool, case.workflow_id) == before


async def test_a_forged_workflow_stamp_does_not_open(
    http: httpx.AsyncClient, case: Case, staff: Staff, embedded_pool: asyncpg.Pool
) -> None:
    """A payload of this case relabelled as another workflow's (to hide whose file was read,
    or to blame another) is handed back sealed and marked; nothing is logged for either."""
    [sealed] = json_format.Parse(case.body, Payloads()).payloads
    other = f"case-{uuid.uuid4().hex[:8]}"
    forged = Payload(
        metadata={**sealed.metadata, WORKFLOW_HEADER: other.encode()}, data=sealed.data
    )
    body = json_format.MessageToJson(Payloads(payloads=[forged]))
    before = await logged(embedded_pool, case.workflow_id)
    answer = await http.post("/decode", content=body, headers=bearer(staff.operator))
    assert answer.status_code == 200
    [back] = json_format.Parse(answer.content, Payloads()).payloads
    assert back.metadata["encoding"] == UNDECRYPTABLE and back.data == sealed.data
    assert case.name not in answer.text
    assert await logged(embedded_pool, case.workflow_id) == before
    assert await logged(embedded_pool, other) == []


class BrokenLog:
    async def record(self, reads: Any) -> None:
        raise ConnectionError("kosh-db is away")


class OneOperator:
    async def operator(self, staff_id: str, token: str) -> Reader | Refusal:
        if (staff_id, token) == ("op-1", "secret"):
            return Reader("op-1", "staff_token")
        return Refusal(401, "unknown or inactive staff id, or wrong token")


async def test_nothing_is_decrypted_when_the_access_log_cannot_be_written(case: Case) -> None:
    app = codec_app(EncryptionCodec(KEYS_A), access_log=BrokenLog(), staff=OneOperator())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost:8081"
    ) as client:
        answer = await client.post("/decode", content=case.body, headers=bearer("op-1:secret"))
        assert answer.status_code == 503 and case.name not in answer.text
        assert "nothing was decrypted" in answer.json()["error"]
        # a sign-in form posted from another site is refused (no session is started)
        forged = await client.post(
            "/sign-in",
            data={"staff_id": "op-1", "token": "secret"},
            headers={"Origin": "https://evil.example"},
        )
        assert forged.status_code == 403 and SESSION_COOKIE not in forged.cookies
