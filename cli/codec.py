"""`kosh codec-server`: decrypts payloads for the Temporal UI and CLI, for operators only."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

import worker
from cli.common import codec_keys, fail
from cli.stack import find_stack


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
) -> None:
    """Serve /decode and /encode with the payload keys (KOSH_CODEC_KEYS_FILE). Callers need
    the operator token KOSH_CODEC_OPERATOR_TOKEN: as a bearer token, or in the path
    (/t/<token>/decode) for the Temporal UI, which cannot send headers."""
    token = os.environ.get("KOSH_CODEC_OPERATOR_TOKEN", "")
    if len(token) < 16:
        fail("KOSH_CODEC_OPERATOR_TOKEN must be set, at least 16 characters", 2)
    keys = codec_keys(find_stack())
    if keys is None:
        fail("no payload keys: set KOSH_CODEC_KEYS_FILE (or KOSH_CODEC_KEYS)", 2)
    app = worker.codec_server(
        keys, token=token, ui_origins=tuple(ui_origin or ()), namespace=namespace
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
