"""Checkpoint files: the Ed25519 keys that sign them, the signature, the folder they live in.

The signing key file (KOSH_CHECKPOINT_KEY_FILE) is JSON: the active key id and every key
(32-byte seeds, base64); rotation adds a key and makes it sign, and the older ones stay so
their public keys can still be published. The public keys (KOSH_CHECKPOINT_PUBLIC_KEYS_FILE)
are `{"keys": {ID: base64 of 32 bytes}}`. The database never holds either.

A checkpoint file is `{"body": {...}, "signature": base64}`; the body names its `key_id` and
the signature covers the body's canonical JSON (keys sorted, compact, UTF-8). Files are named
`checkpoint-<written_at>-<last position>.json`, so the newest sorts last.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters.private_files import save_private

KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PREFIX, SUFFIX = "checkpoint-", ".json"
MAX_FILE_BYTES = 512 * 1024 * 1024


class CheckpointKeyError(ValueError):
    """A key file is missing, malformed, or holds no usable key."""


class CheckpointFileError(ValueError):
    """A checkpoint file cannot be read, is not JSON, or is not shaped like a checkpoint."""


class CheckpointSignatureError(ValueError):
    """A checkpoint's signature does not verify, or its key is not among the public keys."""

    def __init__(self, message: str, *, unknown_key: bool = False) -> None:
        super().__init__(message)
        self.unknown_key = unknown_key


def canonical_json(body: Any) -> bytes:
    """The bytes a checkpoint's signature covers: its body, keys sorted, compact, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _b64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointKeyError(f"{what}: not base64") from None


@dataclass(frozen=True)
class CheckpointPublicKeys:
    keys: Mapping[str, Ed25519PublicKey]

    def to_json(self) -> str:
        shown = {k: base64.b64encode(v.public_bytes_raw()).decode() for k, v in self.keys.items()}
        return json.dumps({"keys": shown}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, source: str) -> CheckpointPublicKeys:
        try:
            entries = json.loads(text)["keys"]
            keys = {
                str(kid): Ed25519PublicKey.from_public_bytes(_b64(raw, f"key {kid!r}"))
                for kid, raw in entries.items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CheckpointKeyError(
                f'{source}: expected {{"keys": {{ID: base64 of 32 bytes}}}} ({exc})'
            ) from None
        if not keys:
            raise CheckpointKeyError(f"{source}: holds no key")
        return cls(keys)

    @classmethod
    def load(cls, path: Path) -> CheckpointPublicKeys:
        try:
            return cls.from_json(path.read_text(), source=str(path))
        except OSError as exc:
            raise CheckpointKeyError(f"{path}: {exc.strerror}") from None

    def verified(self, envelope: Mapping[str, Any], *, source: str) -> dict[str, Any]:
        """The envelope's body once its signature verifies with the key it names."""
        body, signature = envelope["body"], envelope["signature"]
        key_id = body.get("key_id")
        key = self.keys.get(key_id) if isinstance(key_id, str) else None
        if key is None:
            raise CheckpointSignatureError(
                f"{source}: signed by key {key_id!r}, which the public keys do not hold",
                unknown_key=True,
            )
        try:
            key.verify(base64.b64decode(signature, validate=True), canonical_json(body))
        except (InvalidSignature, binascii.Error, ValueError):
            raise CheckpointSignatureError(f"{source}: signature does not verify") from None
        return dict(body)


@dataclass(frozen=True)
class CheckpointKeys:
    """The checkpoint writer's keys: the active one signs, every one stays publishable."""

    active: str
    keys: Mapping[str, bytes]  # key id -> 32-byte Ed25519 seed

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise CheckpointKeyError(f"the active key {self.active!r} is not among the keys")
        for key_id, seed in self.keys.items():
            if not KEY_ID.match(key_id):
                raise CheckpointKeyError(f"key id {key_id!r}: letters, digits, . _ - only")
            if len(seed) != 32:
                raise CheckpointKeyError(f"key {key_id!r}: Ed25519 needs 32 bytes")

    @classmethod
    def generate(cls, key_id: str = "c1") -> CheckpointKeys:
        return cls(active=key_id, keys={key_id: os.urandom(32)})

    def with_new_active(self, key_id: str) -> CheckpointKeys:
        """Rotation: the new key signs from now on; the older ones' public keys still verify."""
        if key_id in self.keys:
            raise CheckpointKeyError(f"key id {key_id!r} is already in the file")
        return CheckpointKeys(key_id, {**self.keys, key_id: os.urandom(32)})

    def public(self) -> CheckpointPublicKeys:
        return CheckpointPublicKeys(
            {k: Ed25519PrivateKey.from_private_bytes(v).public_key() for k, v in self.keys.items()}
        )

    def sign(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The envelope of `body`, which must name the active key."""
        if body.get("key_id") != self.active:
            raise CheckpointKeyError(f"the body names key {body.get('key_id')!r}, not the active")
        signer = Ed25519PrivateKey.from_private_bytes(self.keys[self.active])
        signature = base64.b64encode(signer.sign(canonical_json(body))).decode()
        return {"body": dict(body), "signature": signature}

    def to_json(self) -> str:
        keys = {k: base64.b64encode(v).decode() for k, v in self.keys.items()}
        return json.dumps({"active": self.active, "keys": keys}, indent=2)

    @classmethod
    def from_json(cls, text: str, *, source: str) -> CheckpointKeys:
        try:
            data = json.loads(text)
            keys = {str(k): _b64(v, f"key {k!r}") for k, v in data["keys"].items()}
            return cls(active=data["active"], keys=keys)
        except CheckpointKeyError as exc:
            raise CheckpointKeyError(f"{source}: {exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CheckpointKeyError(
                f'{source}: expected {{"active": ID, "keys": {{ID: base64 of 32 bytes}}}} ({exc})'
            ) from None

    def save(self, path: Path) -> None:
        """Written once, for this user only (0600), atomically."""
        save_private(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> CheckpointKeys:
        try:
            return cls.from_json(path.read_text(), source=str(path))
        except OSError as exc:
            raise CheckpointKeyError(f"{path}: {exc.strerror}") from None

    @classmethod
    def load_or_create(cls, path: Path) -> CheckpointKeys:
        """`kosh dev`: the state folder's key file, made on the first start."""
        if path.exists():
            return cls.load(path)
        keys = cls.generate()
        keys.save(path)
        return keys


# --- the folder -------------------------------------------------------------------------------


def file_name(written_at: str, last_position: int) -> str:
    stamp = re.sub(r"[^0-9TZ]", "", written_at)  # 2026-03-02T09:00:00.000001Z -> 20260302T...
    return f"{PREFIX}{stamp}-{last_position}{SUFFIX}"


def write(directory: Path, name: str, envelope: Mapping[str, Any]) -> Path:
    """Write the checkpoint whole or not at all (a reader never sees half of it)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    tmp = directory / f".{name}.tmp"
    tmp.write_text(json.dumps(envelope, separators=(",", ":")) + "\n")
    tmp.replace(path)
    return path


def written(directory: Path) -> list[Path]:
    """The folder's checkpoints, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX)
    )


def latest(directory: Path) -> Path | None:
    found = written(directory)
    return found[-1] if found else None


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` checkpoints; returns what was removed."""
    old = written(directory)[:-keep] if keep > 0 else []
    for path in old:
        path.unlink(missing_ok=True)
    return old


def read(path: Path) -> dict[str, Any]:
    """A checkpoint file's envelope, shaped right; CheckpointFileError naming what is wrong."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CheckpointFileError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise CheckpointFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise CheckpointFileError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or set(data) != {"body", "signature"}:
        raise CheckpointFileError(f'{path}: expected {{"body": {{...}}, "signature": base64}}')
    if not isinstance(data["body"], dict) or not isinstance(data["signature"], str):
        raise CheckpointFileError(f"{path}: body must be an object, signature a string")
    return data
