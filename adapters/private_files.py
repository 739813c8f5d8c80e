"""Writing a secret to a file: readable by this user only (0600), whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def save_private(path: Path, text: str) -> None:
    """Write `text` to `path` for this user only, atomically (a reader never sees half)."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.replace(path)
