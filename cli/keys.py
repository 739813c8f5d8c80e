"""`kosh keys`: payload encryption keys (a JSON file: the active key id and every key), and
the employer key that makes employers' ids (a file of base64)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from adapters import pseudonyms
from adapters.codec import KEY_ID, CodecKeyError, CodecKeys
from cli.assertion_keys import assertion_app
from cli.checkpoint_keys import checkpoint_keys_app
from cli.common import fail, out

keys_app = typer.Typer(
    no_args_is_help=True,
    help="Payload encryption keys, the employer key, assertion keys, checkpoint keys.",
)
keys_app.add_typer(assertion_app, name="assertion")
keys_app.add_typer(checkpoint_keys_app, name="checkpoint")


def _check_id(key_id: str) -> None:
    if not KEY_ID.match(key_id):
        fail(f"--id {key_id!r}: letters, digits, . _ - only (at most 64)", 2)


@keys_app.command("new")
def keys_new(
    key_id: Annotated[str, typer.Option("--id", help="Id of the first key.")] = "k1",
) -> None:
    """Print a new key file (one active AES-256 key) to standard output."""
    _check_id(key_id)
    sys.stdout.write(CodecKeys.generate(key_id).to_json() + "\n")


@keys_app.command("rotate")
def keys_rotate(
    file: Annotated[Path, typer.Argument(help="The key file to rotate, in place.")],
    key_id: Annotated[str, typer.Option("--id", help="Id of the new active key.")],
) -> None:
    """Add a new key and make it active; older keys stay, so old histories still open.
    Restart workers, codec server and tools with the new file."""
    _check_id(key_id)
    try:
        keys = CodecKeys.from_json(file.read_text(), source=str(file))
    except OSError as exc:
        fail(f"{file}: {exc.strerror}", 2)
    except CodecKeyError as exc:
        fail(str(exc), 2)
    if key_id in keys.keys:
        fail(f"--id {key_id!r} is already in {file}", 2)
    keys.with_new_active(key_id).save(file)
    out.print(f"{file}: {key_id} is active; still opens {', '.join(sorted(keys.keys))}")


@keys_app.command("employer")
def keys_employer() -> None:
    """Print a new employer key (base64 of 32 random bytes) to standard output: workers key
    employers' ids in search attributes and listings with it (KOSH_EMPLOYER_HMAC_KEY_FILE).
    Every worker of a deployment needs the same one; a new key changes only new requests."""
    sys.stdout.write(pseudonyms.generate() + "\n")
