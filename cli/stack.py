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


def state_dir(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get("KOSH_STATE_DIR", ".kosh")).resolve()


def write_stack(folder: Path, info: StackInfo) -> None:
    (folder / STATE_FILE).write_text(info.model_dump_json(indent=2))


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


def find_stack(folder: str | Path | None = None) -> StackInfo:
    """Environment first (KOSH_TEMPORAL_ADDRESS, KOSH_DATABASE_URL), then a live `kosh dev`."""
    env_address = os.environ.get("KOSH_TEMPORAL_ADDRESS")
    env_db = os.environ.get("KOSH_DATABASE_URL")
    path = state_dir(folder) / STATE_FILE
    found: StackInfo | None = None
    if path.exists():
        info = StackInfo.model_validate(json.loads(path.read_text()))
        if _alive(info.pid):
            found = info
    if env_address or found is None:
        return StackInfo(
            temporal_address=env_address or "localhost:7233",
            namespace=os.environ.get("KOSH_NAMESPACE", "default"),
            database_url=env_db or (found.database_url if found else None),
        )
    if env_db:
        found = found.model_copy(update={"database_url": env_db})
    return found
