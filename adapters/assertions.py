"""Staff assertions: proof of who sent a staff input, verified by the case itself.

kosh issues an assertion only to a member who is signed in (the console, or the CLI through
the console's issuer), or to an agency feed whose callback kosh's receiver authenticated. It
is a short-lived Ed25519 signature over who (`sub`), which workflow (`wf`), which request
(`req`) and until when (`exp`), by a key of one scope: `staff` keys are held by the issuer
alone, `feed` keys by the callback receiver, and a feed key asserts only agency feeds. Workers
hold the public keys; the case verifies each input from its worker (an activity, whose answer
its history keeps) and takes the actor from the verified assertion, never from the input.

Wire form: `ka1.<base64url claims JSON>.<base64url signature>`, the signature over
`ka1.<claims>`. Keys rotate like the payload keys: a new key signs, the old ones still verify.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters.ports import ASSERTION_PREFIX, AssertionClaims, peek_assertion
from adapters.private_files import save_private

Scope = Literal["staff", "feed"]
SCOPES: tuple[Scope, ...] = ("staff", "feed")
TTL_SECONDS = 300  # long enough for a person's click, short enough to be worthless later
LEEWAY_SECONDS = 30  # clocks of issuer and worker a little apart
EXPIRED = "the assertion expired"  # how a refusal for expiry begins its reason


class AssertionKeyError(ValueError):
    """A key file is missing, malformed, or names a scope kosh does not know."""


class UnauthenticatedError(Exception):
    """The assertion does not prove the sender: the message says why (for the refusal)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SigningKeys:
    """An issuer's keys: the active one signs, every one is published for verifying."""

    scope: Scope
    active: str
    keys: Mapping[str, bytes]  # key id -> 32-byte Ed25519 private seed

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise AssertionKeyError(f"scope {self.scope!r}: one of {', '.join(SCOPES)}")
        if self.active not in self.keys:
            raise AssertionKeyError(f"the active key {self.active!r} is not among the keys")
        for key_id, seed in self.keys.items():
            if len(seed) != 32:
                raise AssertionKeyError(f"key {key_id!r}: Ed25519 needs 32 bytes")

    @classmethod
    def generate(cls, scope: Scope, key_id: str = "a1") -> SigningKeys:
        return cls(scope=scope, active=key_id, keys={key_id: os.urandom(32)})

    def with_new_active(self, key_id: str) -> SigningKeys:
        """Rotation: a new key signs from now on; the older ones still verify."""
        if key_id in self.keys:
            raise AssertionKeyError(f"key id {key_id!r} is already in the file")
        return SigningKeys(self.scope, key_id, {**self.keys, key_id: os.urandom(32)})

    def public(self) -> VerifyKeys:
        keys = {
            kid: (self.scope, Ed25519PrivateKey.from_private_bytes(seed).public_key())
            for kid, seed in self.keys.items()
        }
        return VerifyKeys(keys)

    def to_json(self) -> str:
        keys = {k: base64.b64encode(v).decode() for k, v in self.keys.items()}
        return json.dumps({"scope": self.scope, "active": self.active, "keys": keys}, indent=2)

    @classmethod
    def from_json(cls, text: str, *, source: str) -> SigningKeys:
        try:
            data = json.loads(text)
            keys = {k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            return cls(scope=data["scope"], active=data["active"], keys=keys)
        except AssertionKeyError as exc:
            raise AssertionKeyError(f"{source}: {exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AssertionKeyError(
                f'{source}: expected {{"scope": "staff"|"feed", "active": ID, '
                f'"keys": {{ID: base64 of 32 bytes}}}} ({exc})'
            ) from None

    def save(self, path: Path) -> None:
        """Write for this user only (0600), atomically."""
        save_private(path, self.to_json())

    @classmethod
    def load_or_create(cls, path: Path, scope: Scope) -> SigningKeys:
        """`kosh dev`: the state folder's key file, made on the first start."""
        if path.exists():
            return cls.from_json(path.read_text(), source=str(path))
        keys = cls.generate(scope, f"{scope[0]}1")
        keys.save(path)
        return keys

    @classmethod
    def load(cls, path: str | Path) -> SigningKeys:
        try:
            return cls.from_json(Path(path).read_text(), source=str(path))
        except OSError as exc:
            raise AssertionKeyError(f"{path}: {exc.strerror}") from None


@dataclass(frozen=True)
class VerifyKeys:
    """The public keys a worker verifies with, each with its scope."""

    keys: Mapping[str, tuple[Scope, Ed25519PublicKey]] = field(default_factory=dict)

    def merged(self, *others: VerifyKeys) -> VerifyKeys:
        keys = dict(self.keys)
        for other in others:
            for kid, entry in other.keys.items():
                if kid in keys:
                    raise AssertionKeyError(f"key id {kid!r} stands in two key files")
                keys[kid] = entry
        return VerifyKeys(keys)

    def to_json(self) -> str:
        keys = {
            kid: {"scope": scope, "public": base64.b64encode(key.public_bytes_raw()).decode()}
            for kid, (scope, key) in self.keys.items()
        }
        return json.dumps({"keys": keys}, indent=2)

    @classmethod
    def from_json(cls, text: str, *, source: str) -> VerifyKeys:
        try:
            data = json.loads(text)
            keys: dict[str, tuple[Scope, Ed25519PublicKey]] = {}
            for kid, entry in data["keys"].items():
                scope = entry["scope"]
                if scope not in SCOPES:
                    raise AssertionKeyError(f"key {kid!r}: scope {scope!r}")
                raw = base64.b64decode(entry["public"], validate=True)
                keys[kid] = (scope, Ed25519PublicKey.from_public_bytes(raw))
            return cls(keys)
        except AssertionKeyError as exc:
            raise AssertionKeyError(f"{source}: {exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AssertionKeyError(
                f'{source}: expected {{"keys": {{ID: {{"scope": ..., "public": base64}}}}}} ({exc})'
            ) from None

    @classmethod
    def load(cls, path: str | Path) -> VerifyKeys:
        try:
            return cls.from_json(Path(path).read_text(), source=str(path))
        except OSError as exc:
            raise AssertionKeyError(f"{path}: {exc.strerror}") from None


class Issuer:
    """Signs assertions with the active key (held by the console, or the callback receiver
    for the agency feeds)."""

    def __init__(
        self,
        keys: SigningKeys,
        *,
        ttl_seconds: int = TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys, self.ttl, self.clock = keys, ttl_seconds, clock
        self._signer = Ed25519PrivateKey.from_private_bytes(keys.keys[keys.active])

    @property
    def scope(self) -> Scope:
        return self.keys.scope

    def issue(self, *, staff_id: str, workflow_id: str, request_id: str) -> str:
        now = int(self.clock())
        claims = AssertionClaims(
            kid=self.keys.active,
            sub=staff_id,
            wf=workflow_id,
            req=request_id,
            iat=now,
            exp=now + self.ttl,
        )
        body = _b64(claims.model_dump_json().encode())
        signed = f"{ASSERTION_PREFIX}.{body}"
        return f"{signed}.{_b64(self._signer.sign(signed.encode()))}"


@dataclass(frozen=True)
class Verified:
    staff_id: str
    scope: Scope


class Verifier:
    """Checks an assertion for one workflow and one request: its signature by a known key,
    its binding and its expiry. Who the member is now (active, roles) the caller asks the
    staff registry."""

    def __init__(
        self,
        keys: VerifyKeys,
        *,
        leeway_seconds: int = LEEWAY_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys, self.leeway, self.clock = keys, leeway_seconds, clock

    def verify(self, token: str, *, workflow_id: str, request_id: str) -> Verified:
        claims = peek_assertion(token)
        if claims is None:
            raise UnauthenticatedError("the assertion is not one kosh issues")
        entry = self.keys.keys.get(claims.kid)
        if entry is None:
            raise UnauthenticatedError(f"the assertion is signed by an unknown key {claims.kid!r}")
        scope, public = entry
        signed, _, signature = token.rpartition(".")
        try:
            public.verify(_unb64(signature), signed.encode())
        except (InvalidSignature, ValueError):
            raise UnauthenticatedError("the assertion's signature does not verify") from None
        if claims.wf != workflow_id:
            raise UnauthenticatedError(f"the assertion was issued for {claims.wf}")
        if claims.req != request_id:
            raise UnauthenticatedError(
                f"the assertion was issued for request {claims.req!r}, not {request_id!r}"
            )
        now = self.clock()
        if now > claims.exp + self.leeway:
            raise UnauthenticatedError(f"{EXPIRED} {int(now - claims.exp)} s ago")
        if claims.iat > now + self.leeway:
            raise UnauthenticatedError("the assertion was issued in the future")
        return Verified(staff_id=claims.sub, scope=scope)
