"""All of a labour request's workflow state in one serialisable model."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.clock import CaseClock
from domain.labour import LabourState
from workflows.inputs import InputLog


class RequestRun(BaseModel):
    # Names the workflow in the record for life (domain.record.event_id): its first run's id.
    writer: str = ""
    request: LabourState = Field(default_factory=LabourState)
    clock: CaseClock
    seq: int = 0  # the record's last sequence number for the request's stream
    # Each folded event's content fingerprint (store.records.fingerprint), in seq order.
    fingerprints: str = ""
    inputs: InputLog = Field(default_factory=InputLog)
    # What the request waits for (domain.agenda.WAITING_FOR) and since when, in case time.
    waiting_word: str | None = None
    waiting_since: datetime | None = None
    # Rule changes this request follows (workflow.patched, decided once when it starts).
    rules: dict[str, bool] = Field(default_factory=dict)
