"""A stand-in identity provider for the codec server's OIDC tests: a key pair made here, its
JWKS served by the test (a Starlette app: no network), and access tokens minted with it."""

from __future__ import annotations

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.oidc import OidcSettings

ISSUER = "https://idp.kosh.test/realms/ministry"
AUDIENCE = "temporal-ui"
KID = "ministry-2026"


class IdentityProvider:
    def __init__(self, kid: str = KID) -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.fetches = 0

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def app(self) -> Starlette:
        async def keys(request: Any) -> JSONResponse:
            self.fetches += 1
            return JSONResponse(self.jwks())

        return Starlette(routes=[Route("/jwks", keys)])

    def settings(self, jwks_url: str) -> OidcSettings:
        return OidcSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url)

    def token(self, *, key: Any = None, kid: str | None = None, **claims: Any) -> str:
        """An access token: an operator's, valid for five minutes, unless `claims` say
        otherwise (a claim given as None is left out)."""
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "8d1f6c1e-operator",
            "preferred_username": "a.operator",
            "groups": ["kosh-operator", "staff"],
            "iat": now,
            "exp": now + 300,
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(
            body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )
