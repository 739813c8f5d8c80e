"""How a command reaches kosh's Temporal and its database: with the parts the composition root
(worker.py) builds, at the addresses of a running `kosh dev` or of the environment
(cli/stack.py), and with the one message a person reads when that fails."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from rich.markup import escape
from temporalio.client import Client

import worker
from cli.common import codec_keys, fail
from cli.stack import StackInfo, find_stack, state_dir
from store.errors import StoreError
from store.pool import Conn

T = TypeVar("T")

CONNECT_SECONDS = 10
START_HINT = "; start `kosh dev` or set KOSH_TEMPORAL_ADDRESS"

# --- Temporal ---------------------------------------------------------------------------------


async def connect_to(stack: StackInfo) -> Client:
    """A client of the stack's Temporal, sealing payloads with its keys."""
    return await worker.connect(stack.temporal_address, stack.namespace, keys=codec_keys(stack))


async def temporal(state: Path | None, *, hint: str = START_HINT) -> Client:
    """The one way a command reaches Temporal; exit 1 naming the address if it cannot."""
    stack = find_stack(state)
    try:
        return await connect_to(stack)
    except Exception as exc:
        fail(f"cannot reach Temporal at {stack.temporal_address} ({exc}){hint}", 1)


# --- the database -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str
    source: str  # where the URL was found, for messages


def database_of(state: Path | None) -> Database:
    """KOSH_DATABASE_URL, else a running `kosh dev`'s; exit 1 saying where it looked."""
    url = find_stack(state).database_url
    folder = state_dir(state)
    if not url:
        ignored = (
            " (KOSH_TEMPORAL_ADDRESS is set, so a `kosh dev` state is not used)"
            if os.environ.get("KOSH_TEMPORAL_ADDRESS")
            else ""
        )
        fail(
            "no database: KOSH_DATABASE_URL is not set and no running `kosh dev` has its state "
            f"in {folder}{ignored}; start `kosh dev` or set KOSH_DATABASE_URL",
            1,
        )
    if os.environ.get("KOSH_DATABASE_URL"):
        return Database(url, "KOSH_DATABASE_URL")
    return Database(url, f"the `kosh dev` state in {folder}")


def redacted(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(//[^:/@]*):[^@/]+@", r"\1:***@", url)


def with_record(state: Path | None, work: Callable[[Conn], Awaitable[T]]) -> T:
    """Run `work` on one connection to the business record; exit 1 if that fails."""
    db = database_of(state)

    async def go() -> T:
        async with contextlib.AsyncExitStack() as opened:
            try:
                pool = await opened.enter_async_context(
                    worker.database(db.url, max_size=1, connect_timeout=CONNECT_SECONDS)
                )
            except (StoreError, TimeoutError) as exc:
                reason = str(exc) or f"no answer in {CONNECT_SECONDS}s"
                fail(
                    f"cannot reach PostgreSQL at {escape(redacted(db.url))} "
                    f"(from {db.source}): {escape(reason)}",
                    1,
                )
            async with pool.acquire() as conn:
                return await work(conn)

    try:
        return asyncio.run(go())
    except StoreError as exc:
        missing_table = getattr(exc.__cause__, "sqlstate", None) == "42P01"
        fail(escape(str(exc)) + ("; run `kosh db migrate`" if missing_table else ""), 1)
