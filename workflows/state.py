"""All of a running case's workflow state in one serialisable model (handed over on
continue-as-new whole)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.case import CaseState
from domain.clock import CaseClock
from workflows.api import RefusedInput, UpdateResult


class InboxItem(BaseModel):
    name: Literal["interview", "fact", "authority"]
    raw: Any
    received_at: datetime
    update_id: str | None = None


class RunState(BaseModel):
    case: CaseState = Field(default_factory=CaseState)
    clock: CaseClock
    human_floor_seconds: float = 0.0
    seq: int = 0
    inbox: list[InboxItem] = Field(default_factory=list)
    refused: list[RefusedInput] = Field(default_factory=list)  # the newest REFUSALS_KEPT
    refused_total: int = 0
    request_results: dict[str, UpdateResult] = Field(default_factory=dict)
    notified: list[str] = Field(default_factory=list)
    run_year: int | None = None
    interview_deadline: date | None = None
    next_reminder: date | None = None
    arrival_deadline: date | None = None
    referral_deadline: date | None = None
    # What the case waits for (api.WAITING_FOR) and since when, in case time.
    waiting_word: str | None = None
    waiting_since: datetime | None = None
    # Authority replies that arrived while their check is awaited, by authority.
    authority_replies: dict[str, InboxItem] = Field(default_factory=dict)
    # Rule changes this case follows (workflow.patched, decided once when the case starts).
    rules: dict[str, bool] = Field(default_factory=dict)
