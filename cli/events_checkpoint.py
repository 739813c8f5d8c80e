"""`kosh events checkpoint`: sign and write a checkpoint of the whole record now, or every
SECONDS until stopped (the compose service `kosh-checkpoint` runs it so)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from adapters.checkpoints import (
    CheckpointFileError,
    CheckpointKeyError,
    CheckpointSignatureError,
)
from cli.checkpoints import Written, places, write_checkpoint
from cli.common import JsonFlag, StateOpt, _emit, err, fail, out
from cli.connect import with_record
from cli.tables import utc
from store.errors import StoreError
from store.pool import Conn

EVERY = "Keep writing one every SECONDS until stopped (Ctrl-C); each file is whole or absent."


def checkpoint(
    every: Annotated[float | None, typer.Option("--every", min=1.0, help=EVERY)] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a signed checkpoint of the whole record (KOSH_CHECKPOINT_DIR, signed with
    KOSH_CHECKPOINT_KEY_FILE), after checking the record still extends the newest one there;
    exit 1 naming what broke if it does not (nothing is written then)."""
    where = places(state)
    if where.directory is None:
        fail("no checkpoint folder: set KOSH_CHECKPOINT_DIR (or start `kosh dev`)", 2)
    directory = where.directory
    try:
        keys = where.signing_keys()
    except CheckpointKeyError as exc:
        fail(escape(str(exc)), 2)

    async def once(conn: Conn) -> Written:
        return await write_checkpoint(conn, keys=keys, directory=directory, keep=where.keep)

    async def repeatedly(conn: Conn) -> Written:
        while True:
            try:
                _show(await once(conn), as_json, exit_on_refusal=False)
            except StoreError as exc:
                if exc.retryable:  # the connection is gone: exit 1, to be restarted
                    raise
                err.print(f"[red]error:[/red] {escape(str(exc))}; trying again in {every} s")
            await asyncio.sleep(every or 0)

    try:
        result = with_record(state, once if every is None else repeatedly)
    except KeyboardInterrupt:
        return
    except CheckpointSignatureError as exc:
        fail(f"{escape(str(exc))}: the newest checkpoint in {directory} is not trusted", 1)
    except (CheckpointFileError, CheckpointKeyError) as exc:
        fail(escape(str(exc)), 2)
    _show(result, as_json, exit_on_refusal=True)


def _show(result: Written, as_json: bool, *, exit_on_refusal: bool) -> None:
    if as_json:
        _emit(result.model_dump(mode="json"), True, "")
    elif result.written is not None:
        c = result.written
        out.print(
            f"checkpoint written: {escape(c.file)} (key {escape(c.key_id)}, {utc(c.written_at)}): "
            f"{c.events} events of {c.streams} streams up to position {c.last_position}; "
            f"running hash {c.running_hash[:16]}…"
        )
    elif result.previous is not None and result.outcome == "unchanged":
        name = Path(result.previous.file).name
        out.print(f"nothing appended since {escape(name)}: no checkpoint written")
    if result.outcome != "refused":
        return
    previous = Path(result.previous.file).name if result.previous else "the newest checkpoint"
    for finding in result.findings:
        err.print(f"[red]changed[/red] {escape(finding.message)}")
    message = (
        f"the record no longer extends {escape(previous)} ({len(result.findings)} change(s)): "
        "no checkpoint written; investigate, then see docs/operators.md"
    )
    if exit_on_refusal:
        fail(message, 1)
    err.print(f"[red]error:[/red] {message}")
