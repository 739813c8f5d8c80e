"""The limits on what a kosh client accepts from a person and sends to a case: one place for
every size and shape limit on input.

A person's JSON file (`kosh submit`, `kosh employer request`) is read by `read_json`: a file
over `MAX_FILE_BYTES` is refused by its size and never read whole, JSON nested deeper than
`MAX_JSON_DEPTH` is refused before it is parsed (the parser would recurse out of the stack),
and a key given twice in one object is refused naming the key and where it stands (JSON
leaves it undefined which one wins; Python keeps the later one silently). Each refusal is an
`InputFileError` naming its rule.

What a client sends to a case is limited too, before it reaches Temporal.

Temporal refuses a payload over its blob limit (2 MB by default) and, worse, fails or
terminates a workflow whose own commands carry one. So every kosh client (the CLI, the
console, the reply bridge, the demo) measures what it is about to send (a case's start
input, a signal, an update) and refuses it locally when it exceeds `MAX_INPUT_BYTES`: the
caller gets a clear error, nothing is sent, no case ever sees it. Valid input is far below
the limit (every text field of an application or a fact has a maximum length).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio import client
from temporalio.converter import PayloadConverter

MAX_INPUT_BYTES = 128 * 1024
MAX_FILE_BYTES = 256 * 1024  # an input file; a valid application is a few KiB
MAX_JSON_DEPTH = 32  # objects and arrays within each other; an application needs 3


class InputFileError(ValueError):
    """A person's input file refused before (or instead of) parsing it; `rule` names why."""

    def __init__(self, path: Path | str, rule: str, message: str) -> None:
        super().__init__(f"{path}: {message} (rule {rule})")
        self.rule = rule


def read_json(path: Path) -> Any:
    """The JSON document in the file at `path`, within kosh's limits: InputFileError for a file
    too large, nested too deep or with a key given twice; OSError, UnicodeDecodeError or
    json.JSONDecodeError as reading and parsing raise them."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _too_large(path, f"{size:,} bytes")
    with path.open("rb") as f:  # at most one byte past the limit: a pipe has no size to stat
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(path, f"more than {MAX_FILE_BYTES:,} bytes")
    text = data.decode("utf-8")
    _check_depth(path, text)
    document = json.loads(text, object_pairs_hook=_Object.of)
    _check_keys(path, document, "")
    return document


def _too_large(path: Path, size: str) -> InputFileError:
    limit = f"{MAX_FILE_BYTES:,} bytes ({MAX_FILE_BYTES // 1024} KiB)"
    return InputFileError(path, "input_file_size", f"{size}: an input file may be at most {limit}")


# A string (to its end, closed or not), an opening bracket or a closing one.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[{]|[\]}]', re.DOTALL)


def _check_depth(path: Path, text: str) -> None:
    depth = 0
    for token in _TOKENS.finditer(text):
        mark = token.group()[0]
        if mark in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                column = token.start() - text.rfind("\n", 0, token.start())
                raise InputFileError(
                    path,
                    "json_depth",
                    f"JSON nested more than {MAX_JSON_DEPTH} levels deep "
                    f"(line {line}, column {column})",
                )
        elif mark in "]}":
            depth -= 1


class _Object(dict[str, Any]):
    """A JSON object that remembers the first key it was given twice."""

    duplicate: str | None = None

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _Object:
        made = cls()
        for key, value in pairs:
            if key in made and made.duplicate is None:
                made.duplicate = key
            made[key] = value
        return made


def _check_keys(path: Path, value: Any, where: str) -> None:
    if isinstance(value, _Object):
        if value.duplicate is not None:
            raise InputFileError(
                path,
                "json_duplicate_key",
                f"key {value.duplicate!r} appears twice in {where or 'the document'}",
            )
        for key, item in value.items():
            _check_keys(path, item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_keys(path, item, f"{where}.{i}" if where else str(i))


class PayloadTooLargeError(ValueError):
    """Input over kosh's limit; nothing was sent."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"{what}: the input is {size:,} bytes; a case accepts at most {limit:,} bytes "
            "per input (nothing was sent)"
        )
        self.what, self.size, self.limit = what, size, limit


class InputSizeLimit(client.Interceptor):
    """Refuse a start, signal or update whose arguments encode to more than `limit` bytes."""

    def __init__(self, converter: PayloadConverter, limit: int = MAX_INPUT_BYTES) -> None:
        self.converter, self.limit = converter, limit

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _Outbound(next, self)


class _Outbound(client.OutboundInterceptor):
    def __init__(self, next: client.OutboundInterceptor, limit: InputSizeLimit) -> None:
        super().__init__(next)
        self._limit = limit

    def _check(self, what: str, args: Sequence[Any]) -> None:
        if not args:
            return
        size = sum(p.ByteSize() for p in self._limit.converter.to_payloads(args))
        if size > self._limit.limit:
            raise PayloadTooLargeError(what, size, self._limit.limit)

    async def start_workflow(
        self, input: client.StartWorkflowInput
    ) -> client.WorkflowHandle[Any, Any]:
        self._check(f"start {input.workflow}", input.args)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: client.SignalWorkflowInput) -> None:
        self._check(f"signal {input.signal}", input.args)
        await super().signal_workflow(input)

    async def start_workflow_update(
        self, input: client.StartWorkflowUpdateInput
    ) -> client.WorkflowUpdateHandle[Any]:
        self._check(f"update {input.update}", input.args)
        return await super().start_workflow_update(input)
