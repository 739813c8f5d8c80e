"""The rates' figures: starts and updates per second, kosh against bare Temporal, what an
update adds to a history, and their section of docs/performance.md (bench/rates.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.common import machine, marks, per_second, when

MARK_BEGIN, MARK_END = marks("rates")


@dataclass(frozen=True)
class Rate:
    """`done` of `count` operations succeeded in `seconds` (wall, all in flight together)."""

    count: int
    done: int
    seconds: float

    @property
    def per_second(self) -> float:
        return per_second(self.done, self.seconds)

    def __add__(self, other: Rate) -> Rate:
        """Two timed batches as one."""
        return Rate(self.count + other.count, self.done + other.done, self.seconds + other.seconds)


@dataclass(frozen=True)
class Row:
    what: str
    kosh: Rate
    bare: Rate

    @property
    def ratio(self) -> float:
        return self.kosh.per_second / self.bare.per_second if self.bare.per_second else 0.0


@dataclass(frozen=True)
class UpdateCost:
    """What one update added to a history, from its acceptance to its completion."""

    events: int
    workflow_tasks: int
    activities: tuple[str, ...]
    upserts: int


@dataclass(frozen=True)
class Measured:
    starts: Row
    updates: Row
    actor: str
    start_bytes: tuple[int, int]  # the started event as stored: (kosh, bare)
    costs: tuple[UpdateCost, UpdateCost]  # (kosh, bare)


def table(rows: list[Row]) -> str:
    lines = [
        "| what | kosh per second | bare per second | ratio (kosh/bare) | kosh done | bare done |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.what} | {r.kosh.per_second:.1f} | {r.bare.per_second:.1f} | {r.ratio:.2f} | "
            f"{r.kosh.done}/{r.kosh.count} | {r.bare.done}/{r.bare.count} |"
        )
    return "\n".join(lines)


def _many(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _activities(names: tuple[str, ...]) -> str:
    if not names:
        return "no activity"
    counts = Counter(names)
    listed = ", ".join(f"{n} x{c}" if c > 1 else n for n, c in sorted(counts.items()))
    return f"{_many(len(names), 'activity', 'activities')} ({listed})"


def where_it_goes(m: Measured) -> str:
    kosh_bytes, bare_bytes = m.start_bytes
    kosh, bare = m.costs
    return (
        f"Where the difference goes: a kosh start carries {kosh_bytes / 1024:.1f} KiB (the "
        "application as pydantic JSON sealed by the payload codec, with the case's summary "
        f"and details) where the bare start carries {bare_bytes} bytes; kosh sets its search "
        "attributes from the workflow's first task, not at the start. From the workflow task "
        "that accepted it to the one that answered, an interview update took "
        f"{_many(kosh.workflow_tasks, 'workflow task', 'workflow tasks')}, "
        f"{_activities(kosh.activities)} one after the other, "
        f"{_many(kosh.upserts, 'search-attribute upsert', 'search-attribute upserts')} and "
        f"{kosh.events} history events, against "
        f"{_many(bare.workflow_tasks, 'workflow task', 'workflow tasks')}, "
        f"{_activities(bare.activities)} and {bare.events} events for the bare update: "
        "the validator runs the decider on the "
        "case dry, then the case asks the staff registry in PostgreSQL whether the actor is "
        "an interviewer (verify_actor: its assertion, then the registry), decides, appends "
        "the events to the record "
        "(append_events) and publishes its stage before it answers; it asks both from the "
        "worker running its workflow task (local activities: a marker each, no activity "
        "task); every payload, both ways, "
        "goes through the codec's AES-256-GCM."
    )


def report(m: Measured, argv: list[str]) -> str:
    command = " ".join(["python -m bench.rates", *argv])
    return "\n".join(
        [
            MARK_BEGIN,
            f"Measured {when()} on {machine()}, with",
            f"`{command}`:",
            "",
            table([m.starts, m.updates]),
            "",
            f"Every interview update was sent as the signed-in staff member `{m.actor}` "
            f"(an interviewer) and answered accepted: {m.updates.kosh.done} of "
            f"{m.updates.kosh.count}; bare updates completed: {m.updates.bare.done} of "
            f"{m.updates.bare.count}. Starts were timed with no worker polling either queue, "
            "half the cases at a time in the order bare, kosh, kosh, bare; updates bare first "
            "(a case that has answered carries on with its decision and permit on the same "
            "worker while the others' updates are timed).",
            "",
            where_it_goes(m),
            MARK_END,
        ]
    )
