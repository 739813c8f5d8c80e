"""How the event store bench measures: rates and CPU per round and path, and where one
append's time goes, statement by statement (bench/event_store.py)."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
import psutil

from bench.common import per_second
from bench.event_store_lives import plan
from bench.event_store_paths import kosh_append
from domain import events as ev
from store.pool import Conn


@dataclass(frozen=True)
class Sample:
    """One path in one round: the units (events, places) it did, in wall seconds, and the CPU
    seconds of the bench process (client) and of the PostgreSQL server meanwhile."""

    units: int
    seconds: float
    client_cpu: float
    server_cpu: float

    @property
    def rate(self) -> float:
        return per_second(self.units, self.seconds)


@dataclass
class PathRates:
    """One path's samples, a round each."""

    name: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(s.rate for s in self.samples)

    def cpu_us(self, part: str) -> float:
        """Median CPU microseconds per unit, of the bench process or the server's."""
        return statistics.median(
            1e6 * getattr(s, f"{part}_cpu") / s.units for s in self.samples if s.units
        )

    def ratio_of(self, other: PathRates) -> float:
        """Median over rounds of this path's rate over `other`'s in the same round."""
        return statistics.median(
            a.rate / b.rate for a, b in zip(self.samples, other.samples, strict=True) if b.rate
        )


class CpuMeter:
    """CPU seconds of this process and of the PostgreSQL server (postmaster and backends)."""

    def __init__(self, postmaster: int | None) -> None:
        self.server = psutil.Process(postmaster) if postmaster else None

    def _server_times(self) -> dict[int, float]:
        if self.server is None:
            return {}
        times = {}
        for p in [self.server, *self.server.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                times[p.pid] = t.user + t.system
        return times

    @contextlib.contextmanager
    def measure(self, out: list[Sample]) -> Iterator[list[int]]:
        """Time the block; it appends the units it did to the list it is given."""
        units: list[int] = []
        server, client, start = self._server_times(), time.process_time(), time.perf_counter()
        yield units
        seconds = time.perf_counter() - start
        used = time.process_time() - client
        after = self._server_times()
        server_used = sum(t - server.get(pid, 0.0) for pid, t in after.items())
        out.append(Sample(sum(units), seconds, used, server_used))


# ---- where one append's time goes -----------------------------------------------------------

STATEMENTS = {
    "WITH ins AS": (
        "the one-statement append (events with their chain links, payments, case row, guard) "
        "and its commit"
    ),
    "SELECT last_seq, state::text AS state FROM cases WHERE case_id = $1 FOR UPDATE": (
        "case row read FOR UPDATE (the transactional path: reservations)"
    ),
    "SELECT last_seq, state::text": (
        "case row read (when this process did not write the case's last state itself)"
    ),
    "BEGIN": "BEGIN",
    "INSERT INTO events": "events INSERT (with the links the writer computed)",
    "INSERT INTO quota_ledger": "quota ledger row",
    "UPDATE quota_ledger SET": "quota ledger row",
    "INSERT INTO payments": "payments row",
    "INSERT INTO cases": "case row upsert (its JSON state)",
    "COMMIT": "COMMIT (the WAL flush)",
}
PYTHON = "the rest: Python (pydantic, the fold, JSON) and the driver"


def _statement(query: str) -> str:
    words = " ".join(query.split())
    return next((label for head, label in STATEMENTS.items() if words.startswith(head)), words)


class _TimedTransaction:
    def __init__(self, tx: Any, spent: defaultdict[str, float]) -> None:
        self.tx, self.spent = tx, spent

    async def __aenter__(self) -> None:
        start = time.perf_counter()
        await self.tx.__aenter__()
        self.spent[STATEMENTS["BEGIN"]] += time.perf_counter() - start

    async def __aexit__(self, *exc: Any) -> None:
        start = time.perf_counter()
        await self.tx.__aexit__(*exc)
        self.spent[STATEMENTS["COMMIT"]] += time.perf_counter() - start


class _TimedConn:
    """A connection whose statements (BEGIN and COMMIT too) are timed by kind."""

    def __init__(self, conn: Conn, spent: defaultdict[str, float]) -> None:
        self._conn, self.spent = conn, spent

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._conn, name)
        if name == "transaction":
            return lambda: _TimedTransaction(attr(), self.spent)
        if name not in ("fetch", "fetchrow", "fetchval", "execute"):
            return attr

        async def timed(query: str, *args: Any) -> Any:
            start = time.perf_counter()
            try:
                return await attr(query, *args)
            finally:
                self.spent[_statement(query)] += time.perf_counter() - start

        return timed


async def breakdown(
    pool: asyncpg.Pool, templates: Sequence[list[list[ev.Event]]], *, events: int, batch: int
) -> tuple[int, dict[str, float]]:
    """Appends through kosh one at a time on one connection: (appends, µs per append by part)."""
    cases = plan(templates, events=min(events, 1000), batch=batch, tag="parts", year0=1)
    spent: defaultdict[str, float] = defaultdict(float)
    appends, total = 0, 0.0
    async with pool.acquire() as conn:
        timed = cast(Conn, _TimedConn(conn, spent))
        for k in range(max(len(c.batches) for c in cases)):
            for case in cases:
                if k < len(case.batches):
                    start = time.perf_counter()
                    await kosh_append(timed, case, k)
                    total += time.perf_counter() - start
                    appends += 1
    parts = {
        label: 1e6 * seconds / appends
        for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1])
    }
    parts[PYTHON] = 1e6 * (total - sum(spent.values())) / appends
    return appends, parts
