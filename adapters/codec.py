"""Payload encryption for everything kosh sends to Temporal: AES-256-GCM, one key active,
older keys kept for reading, each payload tagged with the id of the key that sealed it.

Temporal stores every workflow input, signal, activity argument and result in its history;
with this codec on every client, worker and replayer, the server (and anyone reading its
database or UI without the codec server) sees only ciphertext. Search attributes are never
encrypted: they must hold no personal data (a test checks).

A payload sealed for a workflow (the SDK's serialization context names it) carries the
workflow id in its metadata, bound into the seal as associated data: the codec server logs
whose file each decryption opened, and a stamp changed or removed does not open.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from adapters.private_files import save_private

ENCODING = b"binary/encrypted"
# What `decode` hands on for a sealed payload it cannot open (a key it does not hold, a broken
# ciphertext): the payload as it came, marked, with the reason. A staff input carrying one is
# refused by the case as `undecryptable_input` (workflows/inputs.py); anywhere else no
# converter reads it, and the error names this encoding.
UNDECRYPTABLE = b"binary/undecryptable"
REASON_HEADER = "kosh-undecryptable"
KEY_ID_HEADER = "encryption-key-id"
# The workflow a payload was sealed for (absent: sealed without a workflow, or before stamps).
WORKFLOW_HEADER = "kosh-workflow-id"
KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
NONCE_BYTES = 12


class CodecKeyError(ValueError):
    """Keys are missing, malformed, or a payload names a key this process does not have."""


@dataclass(frozen=True)
class CodecKeys:
    active: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise CodecKeyError(f"the active key {self.active!r} is not among the keys")
        for key_id, key in self.keys.items():
            if not KEY_ID.match(key_id):
                raise CodecKeyError(f"key id {key_id!r}: letters, digits, . _ - only")
            if len(key) != 32:
                raise CodecKeyError(f"key {key_id!r}: AES-256 needs 32 bytes, not {len(key)}")

    @classmethod
    def generate(cls, key_id: str = "k1") -> CodecKeys:
        return cls(active=key_id, keys={key_id: AESGCM.generate_key(bit_length=256)})

    def with_new_active(self, key_id: str) -> CodecKeys:
        """Rotation: a new key seals from now on; every older key still opens."""
        return CodecKeys(active=key_id, keys={**self.keys, key_id: AESGCM.generate_key(256)})

    # ---- files and settings -----------------------------------------------------------
    def to_json(self) -> str:
        keys = {k: base64.b64encode(v).decode() for k, v in self.keys.items()}
        return json.dumps({"active": self.active, "keys": keys}, indent=2)

    @classmethod
    def from_json(cls, text: str, *, source: str) -> CodecKeys:
        try:
            data = json.loads(text)
            keys = {k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            return cls(active=data["active"], keys=keys)
        except CodecKeyError as exc:
            raise CodecKeyError(f"{source}: {exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CodecKeyError(
                f'{source}: expected {{"active": ID, "keys": {{ID: base64 of 32 bytes}}}} ({exc})'
            ) from None

    def save(self, path: Path) -> None:
        """Write for this user only (0600), atomically."""
        save_private(path, self.to_json())

    @classmethod
    def load_or_create(cls, path: Path) -> CodecKeys:
        """`kosh dev`: the state folder's key file, made on the first start."""
        if path.exists():
            return cls.from_json(path.read_text(), source=str(path))
        keys = cls.generate()
        keys.save(path)
        return keys


def keys_from_env(env: Mapping[str, str]) -> CodecKeys | None:
    """KOSH_CODEC_KEYS_FILE (a key file) or KOSH_CODEC_KEYS (its JSON inline); None if unset."""
    path = env.get("KOSH_CODEC_KEYS_FILE")
    if path:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise CodecKeyError(f"KOSH_CODEC_KEYS_FILE={path}: {exc.strerror}") from None
        return CodecKeys.from_json(text, source=f"KOSH_CODEC_KEYS_FILE={path}")
    inline = env.get("KOSH_CODEC_KEYS")
    if inline:
        return CodecKeys.from_json(inline, source="KOSH_CODEC_KEYS")
    return None


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    def __init__(self, keys: CodecKeys, *, workflow_id: str | None = None) -> None:
        self.keys = keys
        self.workflow_id = workflow_id  # stamped into what this codec seals
        self._ciphers = {k: AESGCM(v) for k, v in keys.keys.items()}

    def with_context(self, context: SerializationContext) -> Self:
        """The same keys, sealing for the workflow `context` names (the SDK asks for this
        before each encode and decode of a workflow's or its activities' payloads)."""
        workflow_id = None
        if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            workflow_id = context.workflow_id
        if workflow_id == self.workflow_id:
            return self
        bound = copy.copy(self)
        bound.workflow_id = workflow_id
        return bound

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key_id = self.keys.active
        cipher = self._ciphers[key_id]
        stamp = self.workflow_id or None
        metadata = {"encoding": ENCODING, KEY_ID_HEADER: key_id.encode()}
        if stamp is not None:
            metadata[WORKFLOW_HEADER] = stamp.encode()
        aad = _associated_data(key_id, stamp)
        out = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), aad)
            out.append(Payload(metadata=metadata, data=nonce + sealed))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open each sealed payload; one that cannot be opened is handed on marked
        UNDECRYPTABLE (never an exception: one bad signal must not fail a workflow task)."""
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)  # written before encryption was on: readable as it is
                continue
            try:
                out.append(self.open(payload))
            except (CodecKeyError, InvalidTag, DecodeError, ValueError) as exc:
                reason = str(exc) or type(exc).__name__
                metadata = {**payload.metadata, "encoding": UNDECRYPTABLE}
                metadata[REASON_HEADER] = reason[:200].encode()
                out.append(Payload(metadata=metadata, data=payload.data))
        return out

    def open(self, payload: Payload) -> Payload:
        """The payload a sealed one holds; CodecKeyError or InvalidTag when it cannot (a key
        not loaded, a broken ciphertext, a workflow stamp changed or removed)."""
        key_id = payload.metadata.get(KEY_ID_HEADER, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecKeyError(f"payload sealed with key {key_id!r}, which is not loaded")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, _associated_data(key_id, stamp_of(payload)))
        except InvalidTag:
            raise CodecKeyError(f"payload sealed with key {key_id!r} does not open") from None
        inner = Payload()
        inner.ParseFromString(plain)
        return inner


def stamp_of(payload: Payload) -> str | None:
    """The workflow id a sealed payload claims to be for; trust it only once `open` succeeded
    (the seal covers it)."""
    raw = payload.metadata.get(WORKFLOW_HEADER)
    return None if raw is None else raw.decode(errors="replace")


def _associated_data(key_id: str, workflow_id: str | None) -> bytes:
    """What the seal authenticates besides the payload: the key id, and the workflow stamp
    when there is one (a payload sealed without one keeps the first format: the key id)."""
    if workflow_id is None:
        return key_id.encode()
    return b"%s\x00workflow\x00%s" % (key_id.encode(), workflow_id.encode())
