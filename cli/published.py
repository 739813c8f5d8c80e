"""The policy versions published in the record this CLI points at (KOSH_DATABASE_URL or a
running `kosh dev`), read and registered before a command reads a version by id: `kosh policy
show`, `diff`, `simulate`, `publish` and `versions`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import worker
from cli.common import fail
from cli.connect import CONNECT_SECONDS
from cli.stack import find_stack
from domain.policy_record import PolicyVersionPublished
from store.errors import StoreError
from store.policies import published


def record_versions(
    state: Path | None, *, required: bool = True
) -> tuple[list[PolicyVersionPublished], str]:
    """The versions published in the record this CLI is pointed at (KOSH_DATABASE_URL or a
    running `kosh dev`), registered here; and where they were read from (or why not). A
    record that cannot be read: exit 1 when `required`, else the built-in versions only."""
    url = find_stack(state).database_url
    if not url:
        return [], "no record: only the versions built into kosh (start `kosh dev` or set "
        "KOSH_DATABASE_URL to read the published ones)"

    async def read() -> list[PolicyVersionPublished]:
        async with (
            worker.database(url, max_size=1, connect_timeout=CONNECT_SECONDS) as pool,
            pool.acquire() as conn,
        ):
            return await published(conn)

    try:
        found = asyncio.run(read())
    except (StoreError, TimeoutError, OSError) as exc:
        if required:
            fail(f"cannot read the published versions from the record: {exc}", 1)
        return [], f"the record could not be read ({exc}): only the versions built into kosh"
    return found, "the record"
