"""OIDC access tokens at the codec server: the Temporal UI signs operators in against the
ministry's identity provider and passes their access token to the codec server (codec
`passAccessToken`), which checks it here: the signature against the provider's published
keys (JWKS), the issuer, the audience, the expiry, and the operator role in a claim.

Only asymmetric signatures are accepted (a token signed with a shared secret, or unsigned,
is refused whatever it claims). The keys are fetched from the provider and kept; a token
signed by a key not yet seen fetches them again, at most every MIN_REFETCH_SECONDS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from adapters.codec_access import Reader, Refusal

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY_SECONDS = 30  # clock skew between the provider and this server
MIN_REFETCH_SECONDS = 30
KEYS_TTL_SECONDS = 3600


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    audience: str
    jwks_url: str
    roles_claim: str = "groups"  # a dotted path: "realm_access.roles"
    operator_role: str = "kosh-operator"
    member_claim: str = "preferred_username"  # `sub` when missing


class OidcOperators:
    """Implements adapters.codec_access.TokenOperators for one issuer."""

    def __init__(
        self, settings: OidcSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        for name in ("issuer", "audience", "jwks_url"):
            if not getattr(settings, name):
                raise ValueError(f"OIDC needs its {name}")
        self.settings = settings
        self.transport = transport  # tests: the provider's keys served in process
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched = -float("inf")

    async def operator(self, token: str) -> Reader | Refusal:
        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            return Refusal(401, "not an access token")
        algorithm = header.get("alg", "")
        if algorithm not in ALGORITHMS:
            return Refusal(401, f"tokens signed with {algorithm or 'nothing'} are not accepted")
        try:
            key = await self._key(str(header.get("kid", "")))
        except (httpx.HTTPError, jwt.PyJWKSetError, ValueError):
            return Refusal(503, "the identity provider's keys cannot be fetched")
        if key is None:
            return Refusal(401, "the token is signed by a key the identity provider does not list")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=s.audience,
                issuer=s.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            return Refusal(401, "the access token has expired: sign in again")
        except jwt.InvalidTokenError as exc:
            return Refusal(401, f"the access token is not valid here ({exc})")
        member = str(claims.get(s.member_claim) or claims["sub"])
        if s.operator_role not in _roles(claims, s.roles_claim):
            return Refusal(403, f"{member} is not an operator ({s.roles_claim} lacks it)")
        return Reader(member=member, via="oidc")

    async def _key(self, kid: str) -> jwt.PyJWK | None:
        stale = time.monotonic() - self._fetched > KEYS_TTL_SECONDS
        may_refetch = time.monotonic() - self._fetched > MIN_REFETCH_SECONDS
        if stale or (kid not in self._keys and may_refetch):
            async with httpx.AsyncClient(transport=self.transport, timeout=5.0) as http:
                answer = await http.get(self.settings.jwks_url)
                answer.raise_for_status()
            found = jwt.PyJWKSet.from_dict(answer.json())
            self._keys = {k.key_id or "": k for k in found.keys}
            self._fetched = time.monotonic()
        if not kid and len(self._keys) == 1:  # a provider with one key may not name it
            return next(iter(self._keys.values()))
        return self._keys.get(kid)


def _roles(claims: dict[str, Any], path: str) -> list[str]:
    """The roles or groups at a dotted path: a list, or one space-separated string."""
    found: Any = claims
    for part in path.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    if isinstance(found, str):
        return found.split()
    if isinstance(found, list):
        return [str(r) for r in found]
    return []
