"""What the workflow, the registries' answers and staff ask a labour request to do."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from domain.labour.model import (
    EmployerRequest,
    EmploymentReport,
    GateOutcome,
    LabourAuthority,
    VacancyRecord,
    Violation,
)
from domain.model import Model
from domain.text import PlainText


class SubmitRequest(Model):
    kind: Literal["SubmitRequest"] = "SubmitRequest"
    request_id: str = Field(min_length=1, max_length=64)
    request: EmployerRequest
    # model.employer_key of the request's employer, made by the worker (which holds the key)
    employer_key: str = Field(pattern=r"^[0-9a-f]{16}$")
    # The version in force in the request's region that day, asked from the record
    # (activities/policies.py); None: the built-in version in force that day.
    policy_id: str | None = Field(default=None, max_length=50)


class RecordVacancy(Model):
    """The labour market's record of the vacancy (None: it has none), as of `on`."""

    kind: Literal["RecordVacancy"] = "RecordVacancy"
    vacancy: VacancyRecord | None
    on: date


class ReservePlace(Model):
    kind: Literal["ReservePlace"] = "ReservePlace"
    year: int


PlaceRefusal = Literal["quota_exhausted", "employer_suspended"]


class RefusePlace(Model):
    """The record refused the reservation: no place left, or the employer's rights suspended."""

    kind: Literal["RefusePlace"] = "RefusePlace"
    rule: PlaceRefusal
    reason: str


class WorkerCheck(Model):
    authority: LabourAuthority
    outcome: GateOutcome
    reason: str


class RecordWorkerChecks(Model):
    kind: Literal["RecordWorkerChecks"] = "RecordWorkerChecks"
    results: tuple[WorkerCheck, ...]


class IssueWorkPermit(Model):
    kind: Literal["IssueWorkPermit"] = "IssueWorkPermit"
    number: str = Field(min_length=1, max_length=100)


class RecordReview(Model):
    """What the registries said on an obligations review."""

    kind: Literal["RecordReview"] = "RecordReview"
    report: EmploymentReport


class RecordViolation(Model):
    """An inspection's finding, recorded by a case officer."""

    kind: Literal["RecordViolation"] = "RecordViolation"
    violations: tuple[Violation, ...] = Field(min_length=1)
    detail: PlainText = Field(max_length=2000)
    found_by: str


class RecordEmploymentEnded(Model):
    kind: Literal["RecordEmploymentEnded"] = "RecordEmploymentEnded"
    ended_on: date
    notified_on: date | None = None
    recorded_by: str  # the officer: a late notice is their finding


class RecordExit(Model):
    """Border control's answer at the exit date: the worker's departure, or none."""

    kind: Literal["RecordExit"] = "RecordExit"
    departed_on: date | None


LabourCommand = Annotated[
    SubmitRequest
    | RecordVacancy
    | ReservePlace
    | RefusePlace
    | RecordWorkerChecks
    | IssueWorkPermit
    | RecordReview
    | RecordViolation
    | RecordEmploymentEnded
    | RecordExit,
    Field(discriminator="kind"),
]
