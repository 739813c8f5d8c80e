"""`kosh dev` as a child process for end-to-end tests: free ports, its own state folder,
started until its stack file says it is ready, and always stopped (SIGINT) afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.test_dev_demo import free_port

KOSH = Path(sys.executable).parent / "kosh"
# Never borrow a deployment's Temporal or database from the environment.
ENV = {**os.environ, "KOSH_TEMPORAL_ADDRESS": "", "KOSH_DATABASE_URL": ""}
PORT_OPTIONS = ("--port", "--ui-port", "--console-port", "--codec-port")


@contextmanager
def running_dev(
    state: Path, *args: str, ready: Callable[[Path, dict[str, Any]], bool] | None = None
) -> Iterator[dict[str, Any]]:
    """Run `kosh dev --state STATE ARGS` on free ports; yield its stack info once ready."""
    command = [str(KOSH), "dev", "--state", str(state), *args]
    for option in PORT_OPTIONS:
        command += [option, str(free_port())]
    proc = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (proc.stderr.read() if proc.stderr else b"")[-2000:]
            assert time.monotonic() < deadline, "kosh dev did not start"
            try:
                info: dict[str, Any] = json.loads((state / "stack.json").read_text())
            except (OSError, ValueError):
                info = {}
            if info.get("console_url") and (ready is None or ready(state, info)):
                break
            time.sleep(0.3)
        yield info
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        if proc.stderr is not None:
            proc.stderr.close()
