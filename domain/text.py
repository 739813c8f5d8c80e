"""Text that people type: names and notes, refused when they carry characters that break or
deceive (PostgreSQL's jsonb cannot store NUL; bidirectional overrides make a name read
differently from what it is; other control characters have no place in a name)."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# Explicit bidirectional formatting: embeddings, overrides and isolates.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\r\t")


def _controls(value: str, allowed: frozenset[str]) -> list[str]:
    return [
        f"U+{ord(ch):04X}"
        for ch in value
        if ch not in allowed and (unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI_CONTROLS)
    ]


def plain_line(value: str) -> str:
    """One line of plain text (a name, a reference): no control or bidi characters."""
    bad = _controls(value, frozenset())
    if bad:
        raise ValueError(f"must be plain text, without control characters ({', '.join(bad[:3])})")
    if value != value.strip() or not value:
        raise ValueError("must not be blank or start or end with spaces")
    return value


def plain_text(value: str) -> str:
    """Free text (notes, reasons): line breaks allowed, no other control or bidi characters."""
    bad = _controls(value, LINE_BREAKS)
    if bad:
        raise ValueError(f"must be plain text, without control characters ({', '.join(bad[:3])})")
    return value


PlainLine = Annotated[str, AfterValidator(plain_line)]
PlainText = Annotated[str, AfterValidator(plain_text)]
