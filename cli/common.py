"""What every kosh command shares: consoles, common options, errors and output."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from adapters.codec import CodecKeyError, CodecKeys, keys_from_env
from cli.stack import StackInfo

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
