"""`kosh console`: the staff web console, against a running `kosh dev` or the environment."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

import worker
from adapters.assertions import AssertionKeyError, Issuer, SigningKeys
from cli.common import StateOpt, fail
from cli.connect import temporal
from cli.stack import find_stack, state_dir
from console.app import ConsoleSettings, console_app
from settings import Settings
from store.errors import StoreError


def console_settings() -> ConsoleSettings:
    """KOSH_CONSOLE_SECRET signs session cookies (a random one per process if unset, so a
    restart signs everyone out); KOSH_CONSOLE_PUBLIC_URL, when https, makes them Secure."""
    settings = Settings.from_env()
    secret = settings.console_secret.get_secret_value() if settings.console_secret else ""
    return ConsoleSettings(
        secret=secret or secrets.token_urlsafe(32), public_url=settings.console_public_url
    )


def staff_issuer(state: Path | None) -> Issuer:
    """The console signs its members' assertions: KOSH_ASSERTION_KEYS_FILE, else a running
    `kosh dev`'s keys (its state folder); without keys no staff input could be sent."""
    path = Settings.from_env().assertion_keys_file
    if path is None:
        candidate = state_dir(state) / "assertion-keys.json"
        path = candidate if candidate.exists() else None
    if path is None:
        fail(
            "the console signs its members' input: set KOSH_ASSERTION_KEYS_FILE "
            "(`kosh keys assertion new --scope staff`)",
            2,
        )
    try:
        keys = SigningKeys.load(path)
    except AssertionKeyError as exc:
        fail(str(exc), 2)
    if keys.scope != "staff":
        fail(f"{path}: the console signs with staff keys, not {keys.scope} keys", 2)
    return Issuer(keys)


def console(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    state: StateOpt = None,
) -> None:
    """Serve the staff console: interviews waiting, a case's picture, the interview form.
    Staff sign in with the token `kosh staff token` issued them (the app database's staff
    registry: KOSH_DATABASE_URL, or a running `kosh dev`). Served behind TLS, set
    KOSH_CONSOLE_PUBLIC_URL to its https:// address: the session cookie is then Secure."""
    settings = console_settings()
    stack = find_stack(state)
    issuer = staff_issuer(state)

    async def go() -> None:
        client = await temporal(state, hint="")
        if not stack.database_url:
            fail("the console signs staff in against the staff registry: set KOSH_DATABASE_URL", 2)
        async with contextlib.AsyncExitStack() as opened:
            try:
                pool = await opened.enter_async_context(worker.database(stack.database_url))
            except StoreError as exc:
                fail(f"cannot reach the app database ({exc})", 1)
            app = console_app(client=client, pool=pool, settings=settings, issuer=issuer)
            server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
            await server.serve()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())
