"""Structured logs for activities: one canonical line per unit of work, no personal data."""

from __future__ import annotations

from typing import Any

import structlog
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
