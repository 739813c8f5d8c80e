"""What every kosh command shares: consoles, common options, errors and output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape

from adapters.codec import CodecKeyError, CodecKeys, keys_from_env
from adapters.limits import InputFileError, read_json
from cli.stack import StackInfo

M = TypeVar("M", bound=BaseModel)

out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
StateOpt = Annotated[Path | None, typer.Option("--state", help="State folder (default .kosh/).")]


def fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _validation_lines(exc: ValidationError) -> str:
    return "\n".join(
        f"  {'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}" for e in exc.errors()
    )


def read_input(
    path: Path,
    model: type[M],
    kind: str,
    problems: Callable[[M, date], list[tuple[str, str]]],
) -> M:
    """The JSON file at `path` as a `model` whose intake `problems` are none; exit 2 naming
    every field and rule it breaks (`kind` names the document: "application"), or the input
    limit it exceeds (adapters/limits.py)."""
    try:
        raw = read_json(path)
    except FileNotFoundError:
        fail(f"{path}: no such file", 2)
    except InputFileError as exc:
        fail(escape(str(exc)), 2)
    except ValueError as exc:  # not UTF-8, not JSON, a number too long to convert
        fail(f"{path}: not JSON ({exc})", 2)
    except OSError as exc:
        fail(f"{path}: cannot be read ({exc.strerror})", 2)
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        fail(f"{path} is not a valid {kind}:\n{_validation_lines(exc)}", 2)
    found = problems(parsed, date.today())
    if found:
        lines = "\n".join(f"  {field}: {rule}" for field, rule in found)
        fail(f"{path} is not a valid {kind}:\n{lines}", 2)
    return parsed


def _emit(data: Any, as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")
    else:
        out.print(human)


def codec_keys(stack: StackInfo) -> CodecKeys | None:
    """The payload keys: KOSH_CODEC_KEYS_FILE / KOSH_CODEC_KEYS, else a `kosh dev` stack's."""
    try:
        found = keys_from_env(os.environ)
        if found is None and stack.codec_keys_file:
            path = Path(stack.codec_keys_file)
            found = CodecKeys.from_json(path.read_text(), source=str(path))
    except (CodecKeyError, OSError) as exc:
        fail(f"payload keys: {exc}", 1)
    return found


def one_of(option: str, value: str | None, allowed: Sequence[str]) -> str | None:
    """The allowed spelling of `value` (case does not matter), or exit 2 naming the choices."""
    if value is None:
        return None
    for choice in allowed:
        if choice.casefold() == value.casefold():
            return choice
    fail(f"{option} {escape(repr(value))} is not one of: {', '.join(allowed)}", 2)


def date_option(option: str, raw: str | None) -> date | None:
    """An option's date, or exit 2 naming the option and the form."""
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        fail(f"{option} {escape(repr(raw))} is not a date (YYYY-MM-DD)", 2)
