"""`kosh sim` serves the simulated agencies over HTTP, as a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters import agency_api as wire
from adapters.http import AgencySettings, HttpAgencies
from adapters.ports import RejectedRequestError
from tests.cli.test_cli import free_port
from tests.workflows.harness import application

KOSH = Path(sys.executable).parent / "kosh"


@pytest.fixture
def sim_url() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "KOSH_SIM_API_TOKEN": "s3cret"}
    proc = subprocess.Popen(
        [str(KOSH), "sim", "--port", str(port), "--seed", "11", "--latency-ms", "0,1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + wire.LEDGER, timeout=0.5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "kosh sim did not start"
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


async def test_kosh_sim_answers_the_http_clients(sim_url: str) -> None:
    agencies = HttpAgencies(AgencySettings(base_url=sim_url, token="s3cret"))
    try:
        app = application()
        verdict = await agencies.verify(case_id="c-1", application=app)
        receipt = await agencies.disburse(
            idempotency_key="c-1:support:once", case_id="c-1", amount_tiyn=500, purpose="rent"
        )
        again = await agencies.disburse(
            idempotency_key="c-1:support:once", case_id="c-1", amount_tiyn=500, purpose="rent"
        )
        ledger = await agencies.ledger()
    finally:
        await agencies.aclose()
    assert verdict.authentic
    assert (again.reference, again.duplicate) == (receipt.reference, True)
    assert [(p.idempotency_key, p.amount_tiyn) for p in ledger] == [("c-1:support:once", 500)]


async def test_kosh_sim_refuses_a_caller_without_its_token(sim_url: str) -> None:
    agencies = HttpAgencies(AgencySettings(base_url=sim_url, token="wrong"))
    try:
        with pytest.raises(RejectedRequestError, match="401"):
            await agencies.verify(case_id="c-1", application=application())
    finally:
        await agencies.aclose()


def test_kosh_sim_names_a_bad_option() -> None:
    done = subprocess.run(
        [str(KOSH), "sim", "--latency-ms", "fast"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "--latency-ms" in done.stderr and "LOW,HIGH" in done.stderr
