"""`kosh keys checkpoint`: the keys that sign checkpoints of the record (the checkpoint
writer's alone; the database never holds them) and the public keys that verify them. A
signing key file is JSON: the active key id and every key, so rotation keeps old checkpoints
verifiable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from adapters.checkpoints import KEY_ID, CheckpointKeyError, CheckpointKeys, CheckpointPublicKeys
from cli.common import fail, out

checkpoint_keys_app = typer.Typer(
    no_args_is_help=True, help="Keys that sign and verify checkpoints of the record."
)


def _check_id(key_id: str) -> None:
    if not KEY_ID.match(key_id):
        fail(f"--id {key_id!r}: letters, digits, . _ - only (at most 64)", 2)


def _load(file: Path) -> CheckpointKeys:
    try:
        return CheckpointKeys.load(file)
    except CheckpointKeyError as exc:
        fail(str(exc), 2)


@checkpoint_keys_app.command("new")
def new(
    file: Annotated[
        Path, typer.Argument(help="Where to write it (KOSH_CHECKPOINT_KEY_FILE); never replaced.")
    ],
    key_id: Annotated[str, typer.Option("--id", help="Id of the first key.")] = "c1",
) -> None:
    """Write a new signing key file (one active Ed25519 key), readable by you only."""
    _check_id(key_id)
    if file.exists():
        fail(f"{file} exists: a signing key is written once (rotate it instead)", 2)
    try:
        CheckpointKeys.generate(key_id).save(file)
    except OSError as exc:
        fail(f"{file}: {exc.strerror}", 2)
    out.print(f"{file}: {key_id} signs checkpoints; publish `kosh keys checkpoint public {file}`")


@checkpoint_keys_app.command("rotate")
def rotate(
    file: Annotated[Path, typer.Argument(help="The signing key file to rotate, in place.")],
    key_id: Annotated[str, typer.Option("--id", help="Id of the new active key.")],
) -> None:
    """Add a key and make it sign; the older ones stay, so their checkpoints still verify.
    Publish the public keys again (`kosh keys checkpoint public`) before the next verify."""
    _check_id(key_id)
    keys = _load(file)
    try:
        keys.with_new_active(key_id).save(file)
    except CheckpointKeyError as exc:
        fail(str(exc), 2)
    out.print(f"{file}: {key_id} signs; {', '.join(sorted(keys.keys))} still verify")


@checkpoint_keys_app.command("public")
def public(
    file: Annotated[Path, typer.Argument(help="The signing key file.")],
) -> None:
    """Print the public keys of every key in the file (KOSH_CHECKPOINT_PUBLIC_KEYS_FILE)."""
    keys: CheckpointPublicKeys = _load(file).public()
    sys.stdout.write(keys.to_json() + "\n")
