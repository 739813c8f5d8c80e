"""The staff forms of the picture pages, read into the update they send: the interview outcome
of a case, an inspection's violation on a labour request. The actor is always the signed-in
member, proved by the assertion the console adds (console/issuing.py), never a form field;
what keeps a form from being sent is named field by field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from workflows import api
from workflows import employer_api as eapi


@dataclass(frozen=True)
class Read:
    """A form, read: the update's payload, or the errors that kept it from being sent and
    what was typed (shown again for correction)."""

    payload: BaseModel | None = None
    errors: list[str] = field(default_factory=list)
    kept: dict[str, Any] = field(default_factory=dict)
    form_id: str | None = None  # the form's idempotency id, kept for the corrected submit


@dataclass(frozen=True)
class StaffForm:
    update: str  # the workflow's update that takes it
    read: Callable[[str, FormData], Read]  # (signed-in member, form) -> Read
    done: str  # the flash once it is accepted


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(form)"


def read_interview(member: str, form: FormData) -> Read:
    outcome = str(form.get("outcome", ""))
    form_id = str(form.get("request_id", "")) or None
    raw = {
        "passed": {"pass": True, "fail": False}.get(outcome),
        "points": str(form.get("points", "")).strip(),
        "notes": str(form.get("notes", "")),
        "request_id": form_id,
    }
    try:
        return Read(payload=api.InterviewOutcome.model_validate(raw))
    except ValidationError as exc:
        errors = [
            f"{_field(e['loc'])}: {e['msg']}"
            if e["loc"] != ("passed",)
            else "outcome: choose pass or fail"
            for e in exc.errors()
        ]
    kept = {k: str(form.get(k, "")) for k in ("outcome", "points", "notes")}
    return Read(errors=errors, kept=kept, form_id=form_id)


def read_violation(member: str, form: FormData) -> Read:
    ticked = [str(v) for v in form.getlist("violations")]
    kept = {"reason": str(form.get("reason", "")), "ticked": ticked}
    try:
        fact = eapi.LabourFact.model_validate(
            {
                "kind": "violation",
                "violations": ticked,
                "reason": str(form.get("reason", "")).strip() or None,
                "request_id": str(form.get("form_id", "")) or None,
            }
        )
    except ValidationError as exc:
        return Read(errors=[f"{_field(e['loc'])}: {e['msg']}" for e in exc.errors()], kept=kept)
    if not fact.violations:
        return Read(errors=["violations: tick at least one"], kept=kept)
    return Read(payload=fact)


INTERVIEW = StaffForm(api.UPDATE_INTERVIEW, read_interview, "Interview recorded.")
VIOLATION = StaffForm(eapi.UPDATE_FACT, read_violation, "Violation recorded.")
