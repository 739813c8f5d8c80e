"""The event store bench's figures: rates against raw asyncpg, where an append's time goes,
the quota check, and their section of docs/performance.md (bench/event_store.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.common import machine, marks, when
from bench.event_store_timing import PathRates

MARK_BEGIN, MARK_END = marks("store")
GOAL = 0.5  # issue #11: kosh's appends at half the raw driver's rate or better


def _option(default: int, help_text: str | None = None) -> Any:
    return field(default=default, metadata={"help": help_text} if help_text else {})


@dataclass(frozen=True)
class Options:
    """What a run is asked: each field is the command-line option of its name."""

    events: int = _option(1000, "events per path and round")
    batch: int = _option(0, "events per append (0: as the case's decisions emit them)")
    writers: int = _option(4, "concurrent appenders")
    reservers: int = _option(16)
    reservations: int = _option(
        200, "reservations per round; the round where capacity runs out has room for half"
    )
    rounds: int = _option(5)
    months: int = _option(12, "months of each case's contract in its life")
    seed: int = _option(7)


@dataclass(frozen=True)
class QuotaCheck:
    """The round where capacity runs out: what was granted, refused and recorded."""

    capacity: int
    attempts: int
    reservers: int
    granted: int
    refused: int
    ledger_reserved: int
    stored: int
    holding: int

    @property
    def ok(self) -> bool:
        refused = self.attempts - self.capacity
        counts = (self.granted, self.ledger_reserved, self.stored, self.holding)
        return counts == (self.capacity,) * 4 and self.refused == refused

    def sentence(self) -> str:
        verdict = "correct" if self.ok else "WRONG"
        return (
            f"Capacity running out: {self.attempts} reservations by {self.reservers} reservers "
            f"for {self.capacity} places: {self.granted} granted, {self.refused} refused with "
            f"QuotaExhaustedError; the ledger says {self.ledger_reserved} reserved, the log holds "
            f"{self.stored} reservations and {self.holding} cases hold a place: {verdict}."
        )


@dataclass
class Results:
    appends: list[PathRates]
    reservations: list[PathRates]
    check: QuotaCheck
    events: int
    cases: int
    mean_batch: float
    parts: tuple[int, dict[str, float]] = (0, {})


# ---- the report -----------------------------------------------------------------------------


def table(paths: list[PathRates], unit: str) -> str:
    """Median rates, their spread and each path's ratio to the first (kosh's)."""
    kosh = paths[0]
    rows = [
        f"| path | {unit}s/s | slowest–fastest round | kosh ÷ path (median of rounds) | "
        f"client CPU µs/{unit} | server CPU µs/{unit} |",
        "|---|---|---|---|---|---|",
    ]
    for p in paths:
        rates = [s.rate for s in p.samples]
        rows.append(
            f"| {p.name} | {p.rate:,.0f} | {min(rates):,.0f}–{max(rates):,.0f} | "
            f"{kosh.ratio_of(p):.2f} | {p.cpu_us('client'):,.0f} | {p.cpu_us('server'):,.0f} |"
        )
    return "\n".join(rows)


def verdict(appends: list[PathRates]) -> str:
    """What the ratio means and, below the goal, where kosh's time per event goes."""
    kosh, alone, many, copy = appends
    ratio = kosh.ratio_of(many)
    met = "meets" if ratio >= GOAL else "is below"
    text = (
        f"kosh appends at {ratio:.2f} of raw `executemany`'s rate and {kosh.ratio_of(copy):.2f} "
        f"of COPY's: it {met} the goal of {GOAL} of raw."
    )
    if ratio >= GOAL:
        return text
    per_event = 1e6 / kosh.rate
    insert_share = kosh.rate / alone.rate if alone.rate else 0.0
    return text + (
        f" Of its {per_event:,.0f} µs per event, kosh's INSERT alone (in a transaction, the "
        "chain's links computed by the writer from the previous event's hash it reads) would "
        f"take {insert_share:.0%}. The projections take the other "
        f"{1 - insert_share:.0%}, though they ride in the same statement as the events: the "
        "case's state is folded in the process (from the state it wrote last, so the row is not "
        "read back) and written back whole, a few KiB of jsonb at every append. The bench "
        "process spends "
        f"{kosh.cpu_us('client'):,.0f} µs of CPU per event on kosh's path and the server "
        f"{kosh.cpu_us('server'):,.0f} µs; raw `executemany` "
        f"{many.cpu_us('client'):,.0f} and {many.cpu_us('server'):,.0f} µs."
    )


def parts_table(parts: dict[str, float]) -> str:
    """µs per append by part, largest first, and each part's share of the whole."""
    whole = sum(parts.values())
    rows = ["| part of one kosh append | µs | share |", "|---|---|---|"]
    rows += [f"| {name} | {us:,.0f} | {us / whole:.0%} |" for name, us in parts.items()]
    return "\n".join(rows)


def report(results: Results, o: Options, argv: list[str]) -> str:
    command = " ".join(["python -m bench.event_store", *argv])
    batches = "as the decider emits them" if o.batch <= 0 else f"of {o.batch}"
    kosh, bare = results.reservations
    appends, parts = results.parts
    return "\n".join(
        [
            MARK_BEGIN,
            f"Measured {when()} on {machine()}, with",
            f"`{command}`, against kosh's embedded PostgreSQL (median of {o.rounds} rounds, "
            "their order rotated each round).",
            "",
            f"Appends: {results.events:,} events of {results.cases} kandas cases per path and "
            f"round, in batches {batches} (mean {results.mean_batch:.2f} events), "
            f"{o.writers} writers:",
            "",
            table(results.appends, "event"),
            "",
            f"Where the time of one append through kosh goes ({appends} appends one at a time "
            f"on one connection, {sum(parts.values()):,.0f} µs each):",
            "",
            parts_table(parts),
            "",
            verdict(results.appends),
            "",
            f"Quota reservations: {o.reservations} per round by {o.reservers} reservers, each "
            "on its own pooled connection, one ledger row with room for all:",
            "",
            table(results.reservations, "place"),
            "",
            results.check.sentence()
            + f" A reservation through kosh runs at {kosh.ratio_of(bare):.2f} of the bare "
            "UPDATE's rate: it is the same conditional update, made in the append's one "
            "statement with the event, its hash chain and the case row (one place per case, "
            "checked against the case's state), so each reserver holds the ledger row's lock "
            "for that whole statement and its commit, and the others queue behind it.",
            MARK_END,
        ]
    )
