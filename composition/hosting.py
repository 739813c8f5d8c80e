"""kosh's small ASGI apps (the callback receiver, the codec server, the console, the stand-ins
of `kosh dev`) served by uvicorn inside a process that owns its signal handling."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn


class _QuietServer(uvicorn.Server):
    """uvicorn inside a process that owns its own signal handling."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: Any, listen: str) -> AsyncIterator[str]:
    """Serve an ASGI app on `listen` (host:port; port 0 picks a free one) until the block
    ends; yields its base URL."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"{listen!r}: expected host:port")
    server = _QuietServer(uvicorn.Config(app, host=host, port=int(port), log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():  # could not bind, say: the error is in the task
            await task
            raise SystemExit(f"could not serve on {listen}")
        await asyncio.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound}"
    finally:
        server.should_exit = True
        await task
