"""Where the running stack is: a small state file written by `kosh dev`, or the environment."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel

STATE_FILE = "stack.json"


class StackInfo(BaseModel):
    temporal_address: str
    namespace: str = "default"
    ui_url: str | None = None
    database_url: str | None = None
    pid: int | None = None
    children: list[int] = []
    # `kosh dev`'s staff console and its demo staff member's sign-in (this machine only)
    console_url: str | None = None
    console_staff: str | None = None
    console_token: str | None = None
    # payload encryption: the key file of `kosh dev`, its codec server and the demo operator's
    # sign-in (staff id and token: the codec server's /sign-in, or a bearer "ID:TOKEN")
    codec_keys_file: str | None = None
    codec_url: str | None = None
    codec_staff: str | None = None
    codec_token: str | None = None
    # the employer key of `kosh dev` (employers' keyed ids; a joining worker needs it)
    employer_key_file: str | None = None
    # who sent staff input: the public keys a joining worker verifies with, the feeds' keys
    assertion_public_keys_file: str | None = None
    feed_keys_file: str | None = None
    # signed checkpoints of the record: where `kosh dev` writes them, its keys and their
    # public keys (`kosh events checkpoint`, `kosh events --verify` beside a running kosh dev)
    checkpoint_dir: str | None = None
    checkpoint_key_file: str | None = None
    checkpoint_public_keys_file: str | None = None
    # what a second worker needs to join this stack (`kosh worker` beside `kosh dev`)
    agencies_url: str | None = None
    agencies_timeout: float | None = None
    callback_url: str | None = None
    callback_token: str | None = None
    notices_url: str | None = None
    notices_token: str | None = None


def state_dir(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get("KOSH_STATE_DIR", ".kosh")).resolve()


def write_stack(folder: Path, info: StackInfo) -> None:
    """Write atomically: a reader never sees a half-written file."""
    tmp = folder / f".{STATE_FILE}.tmp"
    tmp.write_text(info.model_dump_json(indent=2))
    tmp.chmod(0o600)  # it holds the demo staff member's console token
    tmp.replace(folder / STATE_FILE)


def clear_stack(folder: Path) -> None:
    (folder / STATE_FILE).unlink(missing_ok=True)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _read(path: Path) -> StackInfo | None:
    try:
        return StackInfo.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None  # missing or unreadable: as if no stack were running


def find_stack(folder: str | Path | None = None) -> StackInfo:
    """Environment first (KOSH_TEMPORAL_ADDRESS, KOSH_DATABASE_URL), then a live `kosh dev`.

    An address from the environment means another deployment: its database is then taken
    only from KOSH_DATABASE_URL, never borrowed from a local dev stack.
    """
    env_address = os.environ.get("KOSH_TEMPORAL_ADDRESS")
    env_db = os.environ.get("KOSH_DATABASE_URL")
    namespace = os.environ.get("KOSH_NAMESPACE", "default")
    if env_address:
        return StackInfo(temporal_address=env_address, namespace=namespace, database_url=env_db)
    found = _read(state_dir(folder) / STATE_FILE)
    if found is None or not _alive(found.pid):
        return StackInfo(
            temporal_address="localhost:7233", namespace=namespace, database_url=env_db
        )
    return found.model_copy(update={"database_url": env_db or found.database_url})
