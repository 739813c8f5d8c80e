"""`kosh codec-server`: decrypts payloads for the Temporal UI and CLI, for signed-in operators
only, and logs every decryption in kosh's database (`kosh audit access`)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer
import uvicorn

import worker
from adapters.oidc import OidcSettings
from cli.common import StateOpt, codec_keys, fail
from cli.stack import find_stack
from settings import Settings
from store.errors import StoreError


def oidc_settings(settings: Settings) -> OidcSettings | None:
    """The identity provider whose access tokens are accepted; None without an issuer."""
    if not settings.codec_oidc_issuer:
        return None
    for name in ("codec_oidc_audience", "codec_oidc_jwks_url"):
        if not getattr(settings, name):
            fail(f"KOSH_CODEC_OIDC_ISSUER is set: KOSH_{name.upper()} must be set too", 2)
    return OidcSettings(
        issuer=settings.codec_oidc_issuer,
        audience=settings.codec_oidc_audience,
        jwks_url=settings.codec_oidc_jwks_url,
        roles_claim=settings.codec_oidc_roles_claim,
        operator_role=settings.codec_oidc_operator_role,
        member_claim=settings.codec_oidc_member_claim,
    )


def codec_server(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8081,
    ui_origin: Annotated[
        list[str] | None,
        typer.Option(help="Origin of the Temporal UI allowed to call (CORS); repeatable."),
    ] = None,
    namespace: Annotated[
        str, typer.Option(help="Only this namespace's payloads (the UI's X-Namespace).")
    ] = "",
    proxied: Annotated[
        bool,
        typer.Option(help="Behind a TLS proxy: trust its X-Forwarded-Proto (secure cookies)."),
    ] = False,
    state: StateOpt = None,
) -> None:
    """Serve /decode and /encode with the payload keys (KOSH_CODEC_KEYS_FILE) to operators:
    staff signed in with their own credentials (a bearer `<staff id>:<sign-in token>` for
    tools, the /sign-in page for a browser) or, with KOSH_CODEC_OIDC_ISSUER, the access token
    the Temporal UI passes. Every decryption is logged in kosh's database (KOSH_DATABASE_URL,
    or a running `kosh dev`'s): `kosh audit access`."""
    settings = Settings.from_env()
    oidc = oidc_settings(settings)
    stack = find_stack(state)
    keys = codec_keys(stack)
    if keys is None:
        fail("no payload keys: set KOSH_CODEC_KEYS_FILE (or KOSH_CODEC_KEYS)", 2)
    url = stack.database_url
    if not url:
        fail("the codec server checks staff and logs each decryption: set KOSH_DATABASE_URL", 2)

    async def go() -> None:
        async with contextlib.AsyncExitStack() as opened:
            try:
                pool = await opened.enter_async_context(worker.database(url))
            except StoreError as exc:
                fail(f"cannot reach the app database ({exc})", 1)
            app = worker.codec_server(
                keys, pool=pool, oidc=oidc, ui_origins=tuple(ui_origin or ()), namespace=namespace
            )
            config = uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="info",
                proxy_headers=proxied,
                forwarded_allow_ips="*" if proxied else None,
            )
            await uvicorn.Server(config).serve()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())
