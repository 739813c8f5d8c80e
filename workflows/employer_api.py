"""The employer work-permit workflow's public surface: names, input, facts, status, result.

The CLI, the console, the demo and the tests depend on this module only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from domain.labour import EmployerRequest, GateOutcome, Violation
from domain.model import Model
from domain.text import PlainText
from workflows import api
from workflows.api import RefusedInput

WORKFLOW_NAME = "EmployerPermitWorkflow"
TRACK = "labour"  # KoshTrack of every labour request: beside "kandas" and "general"

# Search attributes of the labour path (beside KoshStage, KoshTrack, KoshRegion, KoshPolicy-
# Version, KoshCloseReason, KoshNextDeadline and KoshWaitingFor, which it shares). The
# employer is hashed (domain.labour.employer_key): never the BIN in the Temporal UI.
SA_INDUSTRY, SA_PROJECT, SA_EMPLOYER = api.SA_INDUSTRY, api.SA_PROJECT, api.SA_EMPLOYER

SIGNAL_FACT = "record_labour_fact"
UPDATE_FACT = "submit_labour_fact"
QUERY_STATUS = "status"


def request_workflow_id(request_id: str) -> str:
    """One labour request, one workflow id (and one stream in the record: labour-<id>)."""
    return f"labour-{request_id}"


class LabourInput(Model):
    request_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    request: EmployerRequest
    seconds_per_year: float | None = Field(default=None, ge=0.01)


LabourFactKind = Literal["violation", "employment_ended"]


class LabourFact(Model):
    """A fact a case officer records on a running permit: an inspection's finding
    (violation: violations + reason), or the end of the employment (employment_ended: on, and
    notified_on when the employer gave notice)."""

    kind: LabourFactKind
    violations: tuple[Violation, ...] = ()
    on: date | None = None
    notified_on: date | None = None
    reason: PlainText | None = Field(default=None, max_length=2000)
    request_id: str | None = Field(default=None, max_length=100)
    # the case officer who records it, proved (workflows/api.py)
    assertion: str | None = Field(default=None, max_length=api.ASSERTION_MAX)


# A staff fact's answer: accepted, or the refusal and its rule (the case's own model).
LabourUpdateResult = api.UpdateResult


class LabourStatus(Model):
    request_id: str
    stage: str
    industry: str
    region: str
    project: str | None
    employer_key: str
    policy_id: str
    case_time: datetime
    waiting_for: str
    checks: dict[str, GateOutcome] = Field(default_factory=dict)
    permit_number: str | None = None
    valid_until: date | None = None
    next_review: date | None = None
    reviews: int = 0
    violations: tuple[Violation, ...] = ()
    employer_fine_tiyn: int = 0
    quota_rights_suspended_until: date | None = None
    worker_exit_by: date | None = None
    refused_rule: str | None = None
    closed_reason: str | None = None
    closed_detail: str = ""
    events: int = 0
    refused: tuple[RefusedInput, ...] = ()
    fingerprints: str = ""  # each folded event's content fingerprint (as CaseStatus)


class LabourResult(Model):
    request_id: str
    closed_reason: str
    detail: str
    events: int
