"""Who may read decrypted payloads, and the record of each reading: the codec server's ports
(adapters/codec_server.py), implemented by the staff registry, an identity provider
(adapters/oidc.py) and kosh's database (composition/codec_access.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Via = Literal["staff_token", "staff_session", "oidc"]


@dataclass(frozen=True)
class Reader:
    """Who is reading: a staff id, or the identity provider's name for the person."""

    member: str
    via: Via


@dataclass(frozen=True)
class Refusal:
    status: int  # 401: not signed in (or not who they say); 403: signed in, not allowed
    reason: str


@dataclass(frozen=True)
class Read:
    """One access-log entry: a reader opened `payloads` payloads of one workflow (None: the
    payloads carried no workflow stamp) in `namespace`."""

    member: str
    via: Via
    namespace: str
    workflow_id: str | None
    payloads: int


class StaffOperators(Protocol):
    """The staff registry: is `token` the active member's sign-in token, and are they an
    operator?"""

    async def operator(self, staff_id: str, token: str) -> Reader | Refusal: ...


class TokenOperators(Protocol):
    """An identity provider's access tokens: valid, and the person an operator?"""

    async def operator(self, token: str) -> Reader | Refusal: ...


class AccessLog(Protocol):
    """Where every decryption is written before the payloads leave (kosh's database)."""

    async def record(self, reads: Sequence[Read]) -> None: ...


class AccessLogUnavailableError(RuntimeError):
    """The access log could not be written: nothing is decrypted."""
