"""Shared base for domain models: frozen, strict, serialisable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Immutable value: unknown fields are refused, never silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")


TIYN_PER_TENGE = 100


def tenge(tiyn: int) -> str:
    """Human form of an amount held in tiyn, e.g. 302,750.00 KZT."""
    return f"{tiyn // TIYN_PER_TENGE:,}.{tiyn % TIYN_PER_TENGE:02d} KZT"
