"""The console's issuer of staff assertions, served on a free loopback port in a thread of its
own, for CLI tests that send staff input (`kosh interview`, `kosh fact`, `kosh assert`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

import worker
from console.issuing import issuer_routes
from tests.workflows.harness import ISSUER


@contextmanager
def serving_issuer(database_url: str) -> Iterator[str]:
    """The issuer's base URL (the tests' staff keys, the given database's staff registry)."""
    url: list[str] = []
    up, stop = threading.Event(), threading.Event()

    async def serve() -> None:
        async with worker.database(database_url, max_size=2) as pool:
            app = FastAPI()
            app.include_router(issuer_routes(pool, ISSUER))
            async with worker.serving(app, "127.0.0.1:0") as where:
                url.append(where)
                up.set()
                while not stop.is_set():
                    await asyncio.sleep(0.05)

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert up.wait(30), "the issuer did not start"
    try:
        yield url[0]
    finally:
        stop.set()
        thread.join(30)
