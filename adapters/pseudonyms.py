"""The employer key: the deployment's secret behind employers' keyed ids
(domain.labour.employer_key), kept as base64 text in a file (`kosh keys employer`), or inline.

Every worker of a deployment must hold the same key, or one employer would get a different id
from each; `kosh dev` makes one in its state folder on the first start. Losing it changes
nothing recorded: a request keeps the id it was given; only new requests are keyed anew.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path

from adapters.private_files import save_private
from domain.labour import EMPLOYER_KEY_MIN_BYTES


class EmployerKeyError(ValueError):
    """The employer key is missing, unreadable or too short."""


def generate() -> str:
    """A fresh key as the file holds it: base64 of 32 random bytes."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def parse(text: str, *, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise EmployerKeyError(f"{source}: expected base64 (`kosh keys employer`)") from None
    if len(key) < EMPLOYER_KEY_MIN_BYTES:
        raise EmployerKeyError(
            f"{source}: the employer key needs {EMPLOYER_KEY_MIN_BYTES} bytes, not {len(key)}"
        )
    return key


def load(path: Path, *, source: str) -> bytes:
    try:
        text = path.read_text()
    except OSError as exc:
        raise EmployerKeyError(f"{source}: {exc.strerror}") from None
    return parse(text, source=source)


def load_or_create(path: Path) -> bytes:
    """`kosh dev`: the state folder's key file, made (0600) on the first start."""
    if not path.exists():
        save_private(path, generate() + "\n")
    return load(path, source=str(path))
