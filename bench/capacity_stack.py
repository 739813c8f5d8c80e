"""The capacity bench's stack and what it samples: `kosh dev --no-worker` with one `kosh
worker` joining it (cli/devstack.py), each part's RSS and CPU, and the worker's Prometheus
metrics (bench/capacity.py)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil

from bench.capacity_prototypes import KANDAS_FULFILLED
from bench.capacity_report import Wave
from cli.demo import DemoBook
from cli.devstack import TEMPORAL, DevStack, free_port
from cli.stack import StackInfo

MIB = 2**20
# The worker's SDK metrics (Prometheus names, summed over their labels).
TASKS = "temporal_workflow_task_execution_latency_count"
MISSES = "temporal_sticky_cache_miss"
EVICTIONS = "temporal_sticky_cache_total_forced_eviction"
CACHED = "temporal_sticky_cache_size"
FAILED = ("temporal_workflow_task_execution_failed", "temporal_activity_execution_failed")


def _interruptible() -> None:
    """SIGINT stops the child even when this bench runs in the background of a shell (which
    ignores SIGINT for its background jobs, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Stack:
    """`kosh dev --no-worker` and one `kosh worker` joining it, in a state folder."""

    def __init__(self, state: Path, *, cache: int, prototypes: list[str]) -> None:
        self.cache = cache
        self.metrics_url = f"http://127.0.0.1:{free_port()}/metrics"
        self.worker: subprocess.Popen[bytes] | None = None
        state.mkdir(parents=True)
        # The demo's staff answer the prototypes' interview and arrival notices.
        DemoBook(dict.fromkeys(prototypes, KANDAS_FULFILLED.name)).save(state / "demo.json")
        log = state / "dev.out"
        self.dev = DevStack(
            state, options=["--no-worker"], log=log, errors=log, preexec_fn=_interruptible
        )

    def start(self) -> StackInfo:
        info = self.dev.start(timeout=None)
        env = {
            "KOSH_MAX_CACHED_WORKFLOWS": str(self.cache),
            "KOSH_METRICS_LISTEN": self.metrics_url.split("/")[2],
            "KOSH_LOG_LEVEL": "warning",
        }
        self.worker = self.dev.add_worker(env, log=self.dev.state / "worker.out")
        return info

    def pids(self) -> dict[str, int]:
        """The process of each part (PostgreSQL: its postmaster)."""
        assert self.worker is not None
        out = self.dev.pids() | {"kosh worker": self.worker.pid}
        if TEMPORAL not in out:
            raise SystemExit("the Temporal dev server is not among kosh dev's children")
        return out

    def stop(self) -> None:
        self.dev.stop()  # the worker first: without its server it would wait for it


def rss_mib(pid: int) -> float:
    try:
        return float(psutil.Process(pid).memory_info().rss) / MIB
    except psutil.Error:
        return 0.0


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each part, its child processes included."""
    out: dict[str, float] = {}
    for part, pid in pids.items():
        try:
            root = psutil.Process(pid)
            procs = [root, *(root.children(recursive=True) if part == "PostgreSQL" else [])]
        except psutil.Error:
            continue
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                out[part] = out.get(part, 0.0) + t.user + t.system
        if part == "PostgreSQL":  # backends that have exited, reaped by the postmaster
            with contextlib.suppress(psutil.Error):
                t = root.cpu_times()
                out[part] = out.get(part, 0.0) + t.children_user + t.children_system
    return out


def scrape(url: str) -> dict[str, float]:
    """The worker's Prometheus metrics, summed over their labels."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        return parse_metrics(reply.read().decode())


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text: each metric's value summed over its labels."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        with contextlib.suppress(ValueError):
            totals[name] = totals.get(name, 0.0) + float(value)
    return totals


def metric(totals: dict[str, float], name: str) -> float:
    return totals.get(name, totals.get(name + "_total", 0.0))


async def sample_until(until: float, pids: dict[str, int], wave: Wave | None = None) -> None:
    while time.time() < until:
        if wave is not None:
            wave.worker_mib.append(rss_mib(pids["kosh worker"]))
            wave.server_mib.append(rss_mib(pids["Temporal server"]))
        await asyncio.sleep(max(0.0, min(1.0, until - time.time())))


async def wait_asleep(metrics_url: str, tasks_before: float, cases: int, timeout: float) -> None:
    """Until the worker has run every clone's first workflow task (each then sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = metric(await asyncio.to_thread(scrape, metrics_url), TASKS) - tasks_before
        if done >= cases:
            return
        await asyncio.sleep(1.0)
    raise SystemExit(f"the worker had not run every clone's first task after {timeout:.0f} s")
