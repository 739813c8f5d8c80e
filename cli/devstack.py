"""`kosh dev` as a child process, for the benchmarks, the end-to-end and fault tests and the
screenshots: on free loopback ports, in a state folder of its own, up once its stack file
says so, with the pids of its parts, `kosh worker` processes joining it, and everything it
started stopped by pid (SIGINT, a wait, then SIGKILL).

    with DevStack(tmp / "state", options=["--no-worker"], log=tmp / "dev.out") as stack:
        info = stack.start()  # the stack file's StackInfo, once the agencies are served
        stack.add_worker({"KOSH_LOG_LEVEL": "warning"})
        ...  # stopped, workers first, on the way out

Nothing in cli/ imports this module: `kosh dev` does not need it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import psutil

from cli.stack import STATE_FILE, StackInfo

KOSH = Path(sys.executable).parent / "kosh"
# Every port `kosh dev` opens: each on a free one unless the options name it.
PORT_OPTIONS = ("--port", "--ui-port", "--console-port", "--codec-port")
TEMPORAL, POSTGRES = "Temporal server", "PostgreSQL"
POLL = 0.2  # seconds between looks at the stack file


class DevStackError(RuntimeError):
    """`kosh dev` exited, failed or was not up in time; the message ends with its log's end."""


def free_port() -> int:
    """A loopback port that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def isolated_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment and `extra`, never a deployment's Temporal or database."""
    return {**os.environ, "KOSH_TEMPORAL_ADDRESS": "", "KOSH_DATABASE_URL": "", **(extra or {})}


def cohort_options(
    cases: int, *, seconds_per_year: float, seed: int, employers: int | None = None
) -> list[str]:
    """`kosh dev` options for a demo cohort run to the end, its JSON summary printed last
    (`employers` None: kosh dev's own default)."""
    options = ["--demo", str(cases), "--exit-when-done"]
    options += ["--seconds-per-year", str(seconds_per_year), "--seed", str(seed)]
    return options if employers is None else [*options, "--employers", str(employers)]


class DevStack:
    """`kosh dev --state STATE OPTIONS` and the processes that join it.

    `log` and `errors` take kosh dev's stdout and stderr (None: discarded; one path for both
    shares the file). `env` is added to an environment that never names a deployment.
    Every process is stopped with SIGINT, killed if it has not stopped in `stop_timeout`
    seconds; `preexec_fn` runs in every child before it starts.
    """

    def __init__(
        self,
        state: Path,
        *,
        options: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
        errors: Path | None = None,
        stop_timeout: float = 60.0,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.state = state.resolve()
        self.env = isolated_env(env)
        self.log, self.errors = log, errors
        self.stop_timeout, self.preexec_fn = stop_timeout, preexec_fn
        named = {a.split("=", 1)[0] for a in options}  # `--port 7233` or `--port=7233`
        ports = [arg for o in PORT_OPTIONS if o not in named for arg in (o, str(free_port()))]
        self.command = [str(KOSH), "dev", "--state", str(self.state), *options, *ports]
        self.dev: subprocess.Popen[bytes] | None = None
        self.info: StackInfo | None = None  # the stack file, as last read
        self.workers: list[subprocess.Popen[bytes]] = []
        self._joined: list[tuple[subprocess.Popen[bytes], float]] = []

    def __enter__(self) -> DevStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- kosh dev -------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self._dev().pid

    def launch(self) -> subprocess.Popen[bytes]:
        """Start `kosh dev` without waiting for it (a cohort run to the end needs no wait)."""
        if self.dev is not None:
            raise DevStackError(f"kosh dev was already started in {self.state}")
        with contextlib.ExitStack() as files:
            out = files.enter_context(_opened(self.log))
            shared = self.errors is not None and self.errors == self.log
            err = subprocess.STDOUT if shared else files.enter_context(_opened(self.errors))
            self.dev = self._popen(self.command, self.env, out, err)
        return self.dev

    def start(
        self,
        *,
        timeout: float | None = 120.0,
        ready: Callable[[StackInfo], bool] | None = None,
    ) -> StackInfo:
        """Start `kosh dev` and wait until it is up (see `wait_up`)."""
        self.launch()
        return self.wait_up(timeout=timeout, ready=ready)

    def wait_up(
        self,
        *,
        timeout: float | None = 120.0,
        ready: Callable[[StackInfo], bool] | None = None,
    ) -> StackInfo:
        """Until the stack file is this kosh dev's whole (and `ready(info)` holds, if given);
        no limit with `timeout` None. DevStackError if kosh dev exits first or time runs out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if not self.running():
                raise self._failure(f"kosh dev exited ({self._dev().returncode}) before it was up")
            info = self.read_info()
            if info is not None and (ready is None or ready(info)):
                return info
            if deadline is not None and time.monotonic() > deadline:
                raise self._failure(f"kosh dev was not up after {timeout:.0f} s")
            time.sleep(POLL)

    def read_info(self) -> StackInfo | None:
        """The stack file once this kosh dev has written it whole (the agencies' addresses are
        its last part), else None."""
        with contextlib.suppress(OSError, ValueError):
            info = StackInfo.model_validate_json((self.state / STATE_FILE).read_text())
            if self.dev is not None and info.pid == self.dev.pid and info.agencies_url:
                self.info = info
                return info
        return None

    def running(self) -> bool:
        return self._dev().poll() is None

    def wait(self, timeout: float | None = None) -> None:
        """Until `kosh dev` exits by itself (subprocess.TimeoutExpired after `timeout`);
        DevStackError if it failed."""
        code = self._dev().wait(timeout=timeout)
        if code != 0:
            raise self._failure(f"kosh dev failed ({code})")

    def summary(self) -> dict[str, Any]:
        """What a cohort run to the end printed last: its JSON summary (needs `log`)."""
        if self.log is None:
            raise DevStackError("kosh dev's output was not kept: no summary to read")
        for line in reversed(self.log.read_text().strip().splitlines()):
            with contextlib.suppress(ValueError):
                found = json.loads(line)
                if isinstance(found, dict):
                    return found
        raise DevStackError(f"kosh dev printed no JSON summary; see {self.log}")

    def pids(self) -> dict[str, int]:
        """The process of each part that runs now: "kosh dev", "Temporal server" and
        "PostgreSQL" (its postmaster), from the stack file."""
        if self.info is None:
            raise DevStackError("kosh dev is not up: its parts are not known yet")
        out = {"kosh dev": self.pid}
        for pid in self.info.children:
            with contextlib.suppress(psutil.Error):
                name = psutil.Process(pid).name()
                out[TEMPORAL if name.startswith("temporal") else POSTGRES] = pid
        return out

    # ---- the processes that join it ---------------------------------------------------------
    def add_worker(
        self,
        env_extra: Mapping[str, str] | None = None,
        *,
        log: Path | None = None,
        stop_timeout: float | None = None,
    ) -> subprocess.Popen[bytes]:
        """A `kosh worker` joining this stack (through KOSH_STATE_DIR), its output in `log`."""
        extra = {"KOSH_STATE_DIR": str(self.state), **(env_extra or {})}
        proc = self.spawn([str(KOSH), "worker"], extra, log=log, stop_timeout=stop_timeout)
        self.workers.append(proc)
        return proc

    def spawn(
        self,
        command: Sequence[str],
        env_extra: Mapping[str, str] | None = None,
        *,
        log: Path | None = None,
        stop_timeout: float | None = None,
    ) -> subprocess.Popen[bytes]:
        """Any other process that belongs with the stack: stopped with it, before kosh dev."""
        with _opened(log) as out:
            proc = self._popen(command, {**self.env, **(env_extra or {})}, out, subprocess.STDOUT)
        self._joined.append((proc, self.stop_timeout if stop_timeout is None else stop_timeout))
        return proc

    # ---- the end ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop what joined (all signalled at once), then kosh dev; then any part of the stack
        a kosh dev that died left running (only processes whose command line names the state
        folder)."""
        if self.dev is not None:
            self.read_info()  # its parts, even if it was never waited for
        for proc, _ in self._joined:
            _interrupt(proc)
        for proc, timeout in self._joined:
            _stopped(proc, timeout)
        if self.dev is not None:
            _interrupt(self.dev)
            _stopped(self.dev, self.stop_timeout)
        for pid in self.info.children if self.info is not None else []:
            with contextlib.suppress(psutil.Error):
                part = psutil.Process(pid)
                if str(self.state) in " ".join(part.cmdline()):
                    part.terminate()
                    _gone_or_killed(part)

    # ---- inside -------------------------------------------------------------------------------
    def _dev(self) -> subprocess.Popen[bytes]:
        if self.dev is None:
            raise DevStackError(f"kosh dev was not started in {self.state}")
        return self.dev

    def _popen(
        self,
        command: Sequence[str],
        env: dict[str, str],
        out: IO[bytes] | int,
        err: IO[bytes] | int,
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            list(command), env=env, stdout=out, stderr=err, preexec_fn=self.preexec_fn
        )

    def _failure(self, what: str) -> DevStackError:
        said = self.errors or self.log
        tail = said.read_text(errors="replace")[-3000:] if said and said.exists() else ""
        where = f"its log: {self.state / 'worker.log'}"
        return DevStackError(f"{what}; {where}" + (f"; {said} ends:\n{tail}" if tail else ""))


@contextlib.contextmanager
def _opened(path: Path | None) -> Iterator[IO[bytes] | int]:
    """The file a child's output is appended to (processes may share one); None: discarded."""
    if path is None:
        yield subprocess.DEVNULL
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        yield file


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)


def _stopped(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for a process told to stop; SIGKILL it if it has not in `timeout` seconds."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _gone_or_killed(part: psutil.Process) -> None:
    try:
        part.wait(timeout=10)
    except psutil.TimeoutExpired:
        part.kill()
