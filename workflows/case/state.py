"""All of a running case's workflow state in one serialisable model (handed over on
continue-as-new whole)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.agenda import Timers
from domain.case import CaseState
from domain.clock import CaseClock
from domain.policy import Policy
from workflows.api import AuthorityReplyInput
from workflows.inputs import InputLog


class RunState(BaseModel):
    # Names the workflow in the record for life (domain.record.event_id): its first run's id.
    writer: str = ""
    case: CaseState = Field(default_factory=CaseState)
    clock: CaseClock
    human_floor_seconds: float = 0.0
    seq: int = 0  # the record's last sequence number for this case
    # Each folded event's content fingerprint (store.records.fingerprint), in seq order.
    fingerprints: str = ""
    inputs: InputLog = Field(default_factory=InputLog)
    notified: list[str] = Field(default_factory=list)  # staff notices sent once
    run_year: int | None = None  # the case year this run started in (continue-as-new)
    timers: Timers = Field(default_factory=Timers)
    # What the case waits for (domain.agenda.WAITING_FOR) and since when, in case time.
    waiting_word: str | None = None
    waiting_since: datetime | None = None
    # An authority's reply that came before its request was recorded, applied right after.
    early_replies: dict[str, AuthorityReplyInput] = Field(default_factory=dict)
    # Rule changes this case follows (workflow.patched, decided once when the case starts).
    rules: dict[str, bool] = Field(default_factory=dict)
    # The published version the case was decided under (None: a built-in one), carried
    # whole so every run knows it before it reads it (domain.policy.register).
    policy: Policy | None = None
