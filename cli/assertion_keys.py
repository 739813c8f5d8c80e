"""`kosh keys assertion`: the keys that sign staff assertions (the console's, scope staff) and
the agency feeds' (a worker's callback receiver, scope feed), and the public keys workers
verify with. A signing key file is JSON: its scope, the active key id and every key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from adapters.assertions import AssertionKeyError, SigningKeys, VerifyKeys
from adapters.codec import KEY_ID
from cli.common import fail, out

assertion_app = typer.Typer(
    no_args_is_help=True, help="Keys that sign and verify staff and feed assertions."
)


def _load(file: Path) -> SigningKeys:
    try:
        return SigningKeys.load(file)
    except AssertionKeyError as exc:
        fail(str(exc), 2)


@assertion_app.command("new")
def new(
    scope: Annotated[
        Literal["staff", "feed"],
        typer.Option(
            help="staff: the console's (KOSH_ASSERTION_KEYS_FILE); feed: the callback "
            "receiver's (KOSH_FEED_KEYS_FILE)."
        ),
    ],
    key_id: Annotated[str, typer.Option("--id", help="Id of the first key.")] = "a1",
) -> None:
    """Print a new signing key file (one active Ed25519 key) to standard output."""
    if not KEY_ID.match(key_id):
        fail(f"--id {key_id!r}: letters, digits, . _ - only (at most 64)", 2)
    sys.stdout.write(SigningKeys.generate(scope, key_id).to_json() + "\n")


@assertion_app.command("rotate")
def rotate(
    file: Annotated[Path, typer.Argument(help="The signing key file to rotate, in place.")],
    key_id: Annotated[str, typer.Option("--id", help="Id of the new active key.")],
) -> None:
    """Add a key and make it sign; the older ones still verify. Publish the public keys again
    (`kosh keys assertion public`) to the workers before restarting the issuer."""
    if not KEY_ID.match(key_id):
        fail(f"--id {key_id!r}: letters, digits, . _ - only (at most 64)", 2)
    keys = _load(file)
    try:
        keys.with_new_active(key_id).save(file)
    except AssertionKeyError as exc:
        fail(str(exc), 2)
    out.print(f"{file}: {key_id} signs; {', '.join(sorted(keys.keys))} still verify")


@assertion_app.command("public")
def public(
    files: Annotated[list[Path], typer.Argument(help="Signing key files (staff and feed).")],
) -> None:
    """Print the public keys of the signing key files: the workers' verification keys
    (KOSH_ASSERTION_PUBLIC_KEYS_FILE)."""
    merged = VerifyKeys()
    try:
        for file in files:
            merged = merged.merged(_load(file).public())
    except AssertionKeyError as exc:
        fail(str(exc), 2)
    sys.stdout.write(merged.to_json() + "\n")
