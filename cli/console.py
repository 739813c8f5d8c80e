"""`kosh console`: the staff web console, against a running `kosh dev` or the environment."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from typing import Annotated

import typer
import uvicorn

from cli.common import StateOpt, codec_keys, err, fail
from cli.stack import find_stack
from console.app import ConsoleSettings, console_app, parse_staff
from store.errors import StoreError
from store.pool import create_pool
from worker import connect


def console_settings() -> ConsoleSettings:
    """KOSH_CONSOLE_STAFF (id:token,...) and KOSH_CONSOLE_SECRET (signs sessions; a random
    one per process if unset, so a restart signs everyone out)."""
    try:
        staff = parse_staff(os.environ.get("KOSH_CONSOLE_STAFF", ""))
    except ValueError as exc:
        fail(str(exc), 2)
    if not staff:
        fail("KOSH_CONSOLE_STAFF is not set: give each staff member id:token, comma-separated", 2)
    secret = os.environ.get("KOSH_CONSOLE_SECRET") or secrets.token_urlsafe(32)
    return ConsoleSettings(staff=staff, secret=secret)


def console(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    state: StateOpt = None,
) -> None:
    """Serve the staff console: interviews waiting, a case's picture, the interview form.
    Staff and their tokens come from KOSH_CONSOLE_STAFF (e.g. staff-7:long-token)."""
    settings = console_settings()
    stack = find_stack(state)

    async def go() -> None:
        try:
            client = await connect(stack.temporal_address, stack.namespace, keys=codec_keys(stack))
        except Exception as exc:
            fail(f"cannot reach Temporal at {stack.temporal_address} ({exc})", 1)
        pool = None
        if stack.database_url:
            try:
                pool = await create_pool(stack.database_url)
            except StoreError as exc:
                err.print(f"business record unavailable ({exc}); case history is not shown")
        app = console_app(client=client, pool=pool, settings=settings)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
        try:
            await server.serve()
        finally:
            if pool is not None:
                await pool.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())
