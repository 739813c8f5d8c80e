"""What a running labour request waits for, and until when: the next obligations review, the
worker's exit date. The workflow asks this module when to wake; it never computes a date."""

from __future__ import annotations

from datetime import date, timedelta

from domain.labour.model import LabourRules
from domain.labour.state import LabourState


def next_review(state: LabourState, rules: LabourRules) -> date | None:
    """The next obligations review: each `monitoring_interval_days` from the permit's first
    day, the last one on the day it ends; None when no permit runs or an exit is ordered."""
    if state.stage != "permit" or state.exit_by is not None:
        return None
    assert state.valid_from is not None and state.valid_until is not None
    interval = timedelta(days=rules.monitoring_interval_days)
    return min(state.valid_from + interval * (state.reviews + 1), state.valid_until)


def next_deadline(state: LabourState, rules: LabourRules) -> date | None:
    """The next date something must happen: the worker's exit, else the next review."""
    if state.stage == "closed":
        return None
    return state.exit_by or next_review(state, rules)


def waiting_for(state: LabourState) -> str:
    """One of the search attribute's words (domain.agenda.WAITING_FOR)."""
    if state.stage == "closed":
        return "nothing"
    if state.stage == "permit" or state.exit_by is not None:
        return "timer"
    return "activities"
