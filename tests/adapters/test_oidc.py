"""OIDC access tokens at the codec server (adapters/oidc.py): a token the Temporal UI passes
opens payloads only when its signature, issuer, audience, expiry and operator role hold."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.codec_access import Reader, Refusal
from adapters.oidc import OidcOperators, OidcSettings
from tests.adapters.idp import AUDIENCE, IdentityProvider


@pytest.fixture(scope="module")
def idp() -> IdentityProvider:
    return IdentityProvider()


@pytest.fixture
def operators(idp: IdentityProvider) -> OidcOperators:
    transport = httpx.ASGITransport(app=idp.app())
    return OidcOperators(idp.settings("http://idp/jwks"), transport=transport)


async def test_an_operators_token_names_them(
    idp: IdentityProvider, operators: OidcOperators
) -> None:
    assert await operators.operator(idp.token()) == Reader("a.operator", "oidc")
    # a provider without preferred_username: the subject
    assert await operators.operator(idp.token(preferred_username=None)) == Reader(
        "8d1f6c1e-operator", "oidc"
    )


def forged_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("claims", "status", "said"),
    [
        ({"key": forged_key()}, 401, "Signature verification failed"),
        ({"kid": "someone-else"}, 401, "a key the identity provider does not list"),
        ({"exp": int(time.time()) - 120}, 401, "expired"),
        ({"iss": "https://evil.example"}, 401, "issuer"),
        ({"aud": "another-app"}, 401, "Audience"),
        ({"exp": None}, 401, "exp"),
        ({"groups": ["staff"]}, 403, "a.operator is not an operator"),
        ({"groups": None}, 403, "not an operator"),
    ],
    ids=["forged", "unknown-key", "expired", "issuer", "audience", "no-expiry", "role", "none"],
)
async def test_a_bad_token_is_refused_naming_why(
    idp: IdentityProvider,
    operators: OidcOperators,
    claims: dict[str, Any],
    status: int,
    said: str,
) -> None:
    found = await operators.operator(idp.token(**claims))
    assert isinstance(found, Refusal) and found.status == status
    assert said in found.reason


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
async def test_a_token_without_an_asymmetric_signature_is_refused(
    idp: IdentityProvider, operators: OidcOperators, algorithm: str
) -> None:
    # signed with a shared secret, or not at all: the classic algorithm confusions
    secret: Any = b"x" * 32 if algorithm == "HS256" else None
    body = {
        "iss": idp.settings("").issuer,
        "aud": AUDIENCE,
        "sub": "x",
        "groups": ["kosh-operator"],
    }
    token = jwt.encode({**body, "exp": int(time.time()) + 60}, secret, algorithm=algorithm)
    found = await operators.operator(token)
    assert isinstance(found, Refusal) and found.status == 401
    assert "not accepted" in found.reason
    assert await operators.operator("not a token") == Refusal(401, "not an access token")


async def test_roles_may_sit_in_a_nested_claim() -> None:
    idp = IdentityProvider()
    settings = OidcSettings(
        issuer=idp.settings("").issuer,
        audience=AUDIENCE,
        jwks_url="http://idp/jwks",
        roles_claim="realm_access.roles",
        operator_role="operator",
    )
    operators = OidcOperators(settings, transport=httpx.ASGITransport(app=idp.app()))
    nested = idp.token(realm_access={"roles": ["operator"]})
    assert isinstance(await operators.operator(nested), Reader)
    assert isinstance(await operators.operator(idp.token()), Refusal)  # groups: not here
    assert idp.fetches == 1  # the keys were fetched once and kept


async def test_keys_that_cannot_be_fetched_refuse_with_503(idp: IdentityProvider) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502)

    operators = OidcOperators(idp.settings("http://idp/jwks"), transport=httpx.MockTransport(down))
    found = await operators.operator(idp.token())
    assert found == Refusal(503, "the identity provider's keys cannot be fetched")
