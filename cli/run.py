"""The commands that run kosh's processes: `kosh dev` (the embedded stack) and `kosh worker`
(a worker on its own, or joining a running `kosh dev`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from typing import Annotated

import typer

import worker
from cli.common import StateOpt, err, fail
from cli.stack import find_stack, state_dir
from settings import Settings


def dev(
    state: StateOpt = None,
    port: Annotated[int, typer.Option(help="Temporal gRPC port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port.")] = 8233,
    demo: Annotated[int, typer.Option(help="Submit N synthetic applicants.", min=0)] = 0,
    seconds_per_year: Annotated[
        float,
        typer.Option(
            help="Demo clock: wall seconds per case year (real time: 31536000).", min=0.01
        ),
    ] = 24.0,
    exit_when_done: Annotated[
        bool, typer.Option(help="Stop when every case is closed; print a JSON summary last.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the demo cohort and the simulator.")] = 7,
    sim_error_rate: Annotated[
        float,
        typer.Option(
            help="Share of agency calls that fail (503; some after the work was done).",
            min=0.0,
            max=0.9,
        ),
    ] = 0.0,
    console_port: Annotated[
        int, typer.Option(help="Staff console port (0: any free port).", min=0, max=65535)
    ] = 8000,
    codec_port: Annotated[
        int, typer.Option(help="Codec server port (the UI decrypts through it).", min=1)
    ] = 8081,
    sim_stall_rate: Annotated[
        float,
        typer.Option(help="Share of agency calls that hang past kosh's timeout.", min=0.0, max=0.9),
    ] = 0.0,
    human_floor_seconds: Annotated[
        float,
        typer.Option(
            help="Demo clock: staff have at least this many wall seconds to answer a notice.",
            min=0.0,
        ),
    ] = 5.0,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run a worker in this process (--no-worker: `kosh worker` processes join).",
        ),
    ] = True,
    demo_open: Annotated[
        int,
        typer.Option(
            help="At most this many demo cases open at once; the next starts as one closes "
            "(0: the whole cohort at once).",
            min=0,
        ),
    ] = 0,
    employers: Annotated[
        int | None,
        typer.Option(
            help="Employers' work-permit requests beside the demo's applicants "
            "(default: a quarter of --demo, at least one with a demo).",
            min=0,
        ),
    ] = None,
) -> None:
    """Run the embedded stack: Temporal dev server + UI, PostgreSQL, worker (and a demo)."""
    # The dev stack's modules load for `kosh dev` only.
    from cli.dev import DevOptions, run_dev
    from cli.devserver import PortTakenError
    from cli.release import OtherReleaseError

    opts = DevOptions(
        state=state_dir(state),
        port=port,
        ui_port=ui_port,
        demo=demo,
        seconds_per_year=seconds_per_year,
        exit_when_done=exit_when_done,
        seed=seed,
        sim_error_rate=sim_error_rate,
        sim_stall_rate=sim_stall_rate,
        console_port=console_port,
        codec_port=codec_port,
        worker=worker,
        human_floor_seconds=human_floor_seconds,
        demo_open=demo_open,
        employers=employers if employers is not None else (max(1, demo // 4) if demo else 0),
    )
    try:
        summary = asyncio.run(run_dev(opts, err))
    except (PortTakenError, OtherReleaseError) as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        err.print("kosh dev: stopped; open cases resume on the next start")
        return
    if summary is not None:
        sys.stdout.write(json.dumps(summary) + "\n")
        books = summary.get("reconciliation")
        if books is not None and not books["ok"]:
            fail("the workflows, the record and the agencies disagree (see reconciliation)", 1)


def worker_cmd() -> None:
    """Run a worker and its callback receiver. Settings from the environment (KOSH_*,
    docs/configuration.md); beside a running `kosh dev`, whatever the environment leaves
    unset is taken from it, so a second worker joins the same task queue (README, "More
    workers")."""
    stack = find_stack()
    env = os.environ
    own_keys = env.get("KOSH_CODEC_KEYS_FILE") or env.get("KOSH_CODEC_KEYS")
    own_employer_key = env.get("KOSH_EMPLOYER_HMAC_KEY_FILE") or env.get("KOSH_EMPLOYER_HMAC_KEY")
    joined = {
        "codec_keys_file": None if own_keys else stack.codec_keys_file,
        "employer_hmac_key_file": None if own_employer_key else stack.employer_key_file,
        "assertion_public_keys_file": stack.assertion_public_keys_file,
        "feed_keys_file": stack.feed_keys_file,
        "agencies_url": stack.agencies_url,
        "agencies_timeout": stack.agencies_timeout,
        "callback_url": stack.callback_url,
        "callback_token": stack.callback_token,
        "staff_notices_url": stack.notices_url,
        "staff_notices_token": stack.notices_token,
        # agencies call back `kosh dev`'s receiver; this worker's own listens anywhere free
        "callback_listen": "127.0.0.1:0" if stack.callback_url else None,
    }
    settings = Settings.from_env(
        temporal_address=stack.temporal_address,
        database_url=stack.database_url,
        **{k: v for k, v in joined.items() if not env.get(f"KOSH_{k.upper()}")},
    )
    worker.configure_logging(json=settings.json_logs, level=settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(worker.run_worker(settings))
