"""Structured logs for activities: one canonical line per unit of work, no personal data."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import structlog
from pydantic import BaseModel
from temporalio import activity


def activity_log(**context: Any) -> Any:
    """A logger bound to the running activity's ids plus `context` (case id, key...)."""
    info = activity.info()
    return structlog.get_logger("kosh.activity").bind(
        workflow_id=info.workflow_id,
        activity_type=info.activity_type,
        attempt=info.attempt,
        **context,
    )


# Fields that hold personal data wherever they appear (domain/application.py, staff input).
PERSONAL_FIELDS = frozenset(
    {
        "application",
        "full_name",
        "name",
        "born_on",
        "birth_date",
        "citizenship",
        "ethnic_kazakh",
        "document",
        "passport",
        "number",
        "family",
        "questionnaire",
        "notes",
        "reason",
        "detail",
        "address",
    }
)
REDACTED = "[redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: REDACTED if k in PERSONAL_FIELDS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_personal(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: personal fields never reach a log line, however they got there."""
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if key in PERSONAL_FIELDS else _scrub(value)
    return event_dict
