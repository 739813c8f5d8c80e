"""Staff and agency input as both workflows take it, written once.

Every signal and update reaches a workflow through one dynamic handler, as raw payloads: a
payload the SDK would have to drop (wrong shape, wrong count) or fail on is decoded here, so
it is refused with a reason, never lost without trace and never a failed workflow task. The
one JSON value an input carries is parsed once, into its typed model, or refused naming the
field and the rule. Refusals are kept (the newest REFUSALS_KEPT) and counted in the
workflow's state, so its status lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, Field, ValidationError
from temporalio import workflow
from temporalio.common import RawValue

from domain.errors import DomainError
from workflows.api import RefusedInput, UpdateResult

REFUSALS_KEPT = 50
ANSWERS_KEPT = 200  # refused requests' answers kept for the `input_answer` query
M = TypeVar("M", bound=BaseModel)


class InputRefusedError(DomainError):
    """Input refused before it is decided: the rule is `invalid_input`, `missing_field`,
    `unknown_input` or `undecryptable_input`."""


class Input(NamedTuple):
    """One input, parsed: its kind (the name its refusals are listed under) and its model."""

    kind: str
    value: Any

    @property
    def request_id(self) -> str | None:
        """The sender's id for this request: a retry of it is applied once."""
        return getattr(self.value, "request_id", None)


class InputLog(BaseModel):
    """What a workflow did with its input: the refusals, each request id it applied with the
    answer it gave (a retried request gets the same answer, and is applied once), and the
    newest refused requests' answers (a sender that signalled reads either by a query)."""

    refused: list[RefusedInput] = Field(default_factory=list)
    refused_total: int = 0
    applied: dict[str, UpdateResult] = Field(default_factory=dict)
    answers: dict[str, UpdateResult] = Field(default_factory=dict)

    def answered(self, request_id: str | None, result: UpdateResult) -> None:
        """Keep a request's answer for its sender (what was applied is in `applied`)."""
        if request_id is None or request_id in self.applied:
            return
        self.answers.pop(request_id, None)
        self.answers[request_id] = result
        while len(self.answers) > ANSWERS_KEPT:
            del self.answers[next(iter(self.answers))]

    def awaited(self, request_id: str | None) -> None:
        """A request arrived again: an earlier refusal is no longer its answer (the sender
        asks for the answer to this one; what was applied stays applied)."""
        if request_id is not None:
            self.answers.pop(request_id, None)

    def answer(self, request_id: str) -> UpdateResult | None:
        """The answer a request got: applied (for good), else its newest refusal, else None."""
        return self.applied.get(request_id) or self.answers.get(request_id)

    def refuse(self, name: str, rule: str, reason: str) -> UpdateResult:
        """Keep the refusal (a flood of bad input cannot grow the state, and so the history and
        the continue-as-new snapshot, without bound: the newest are kept, all are counted)."""
        refusal = RefusedInput(
            received_at=workflow.now(), name=name, rule=rule, reason=reason[:500]
        )
        self.refused.append(refusal)
        del self.refused[:-REFUSALS_KEPT]
        self.refused_total += 1
        workflow.metric_meter().create_counter(
            "kosh_inputs_refused", "staff and agency input refused, by rule"
        ).add(1, {"input": name, "rule": rule})
        workflow.logger.info("input refused", extra={"input": name, "rule": rule})
        return UpdateResult(accepted=False, reason=f"{rule}: {reason}", rule=rule)


# How the payload codec marks a sealed payload it could not open (adapters/codec.py; a test
# holds the two equal: workflows may not import the codec).
UNDECRYPTABLE = "binary/undecryptable"
SEALED = "binary/encrypted"
REASON_HEADER = "kosh-undecryptable"


def decode(args: Sequence[RawValue]) -> Any:
    """The one JSON value an input carries, or InputRefusedError: `undecryptable_input` for a
    sealed payload this worker cannot open, `invalid_input` for anything else unreadable."""
    if len(args) != 1:
        raise InputRefusedError("invalid_input", f"(input): expected one value, got {len(args)}")
    metadata = args[0].payload.metadata
    encoding = metadata.get("encoding", b"").decode(errors="replace")
    if encoding in (UNDECRYPTABLE, SEALED):
        why = metadata.get(REASON_HEADER, b"no payload codec on this worker")
        raise InputRefusedError("undecryptable_input", f"(input): {why.decode(errors='replace')}")
    try:
        return workflow.payload_converter().from_payload(args[0].payload)
    except Exception as exc:  # a payload no converter reads: refused, never a failed task
        raise InputRefusedError(
            "invalid_input", f"(input): cannot be read as JSON ({encoding or 'no encoding'})"
        ) from exc


def request_id_of(args: Sequence[RawValue]) -> str | None:
    """The request id an input names, read from its raw payload when it could not be parsed,
    so that even a refused shape is answered to its sender; None when it names none."""
    try:
        value = decode(args)
    except InputRefusedError:
        return None
    rid = value.get("request_id") if isinstance(value, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= 300 else None


def validated(model: type[M], value: Any) -> M:
    """`value` as `model`, or InputRefusedError naming each field that breaks a rule."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(input)"
            parts.append(f"{field}: {err['msg']}")
        raise InputRefusedError("invalid_input", "; ".join(parts)) from None


def unproved(value: Any) -> None:
    """Refuse as `unauthenticated`, before anything else, a staff input that carries no
    assertion: whatever it claims about its sender, nothing proves it."""
    if isinstance(value, dict) and not value.get("assertion"):  # not a dict: invalid_input
        raise InputRefusedError(
            "unauthenticated",
            "no assertion: staff input is sent by kosh (the console, the CLI), or carries one "
            "from `kosh assert`",
        )
