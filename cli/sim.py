"""`kosh sim`: the simulated agencies on their own, over HTTP (for a worker, compose, a demo).

Outcomes are seeded from --seed and each applicant's data, so a scenario replays the same;
the world has no planned moves or departures (`kosh dev` plans those for its demo cohort).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from adapters.sim_server import AgencySimulator
from adapters.simulator import SimConfig, Simulator
from cli.common import fail


def sim(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8090,
    seed: Annotated[int, typer.Option(help="Seed of the agencies' outcomes.")] = 7,
    error_rate: Annotated[
        float, typer.Option(help="Share of calls answered 503 (some after doing the work).")
    ] = 0.0,
    stall_rate: Annotated[float, typer.Option(help="Share of calls that hang.")] = 0.0,
    stall_ms: Annotated[int, typer.Option(help="How long a stalled call hangs.", min=1)] = 15000,
    latency_ms: Annotated[
        str, typer.Option(help="Latency of every call, LOW,HIGH milliseconds.")
    ] = "2,25",
    reply_ms: Annotated[
        str, typer.Option(help="Delay of authority verdicts by callback, LOW,HIGH ms.")
    ] = "20,400",
) -> None:
    """Serve the simulated agencies (documents, KAZTEST, authorities, address registry,
    border, permits, treasury). Tokens: KOSH_SIM_API_TOKEN (callers must present it) and
    KOSH_CALLBACK_TOKEN (presented on callbacks to kosh)."""
    for name, rate in (("--error-rate", error_rate), ("--stall-rate", stall_rate)):
        if not 0.0 <= rate <= 0.9:
            fail(f"{name} must be between 0 and 0.9, not {rate}", 2)
    config = SimConfig(
        seed=seed,
        latency_ms=_range("--latency-ms", latency_ms),
        reply_latency_ms=_range("--reply-ms", reply_ms),
        failure_rate=error_rate,
        stall_rate=stall_rate,
        stall_ms=stall_ms,
    )
    agencies = AgencySimulator(
        Simulator(config),
        api_token=os.environ.get("KOSH_SIM_API_TOKEN") or None,
        callback_token=os.environ.get("KOSH_CALLBACK_TOKEN") or None,
    )
    uvicorn.run(agencies.app(), host=host, port=port, log_level="info")


def _range(option: str, raw: str) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in raw.split(","))
    except ValueError:
        fail(f"{option} {raw!r}: expected LOW,HIGH in milliseconds, e.g. 2,25", 2)
    if not 0 <= low <= high:
        fail(f"{option} {raw!r}: need 0 <= LOW <= HIGH", 2)
    return low, high
