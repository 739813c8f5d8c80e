"""The baseline's figures: kosh's CPU per case against bare Temporal's playing the same
scripts, and their section of docs/performance.md (bench/baseline.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.baseline_scripts import Shape
from bench.common import machine, marks, when

MARK_BEGIN, MARK_END = marks("baseline")
GOAL = 0.8


@dataclass
class Workload:
    per_minute: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per part, whole run

    def per_case(self, cases: int) -> dict[str, float]:
        return {part: seconds / cases for part, seconds in self.cpu.items()} if cases else {}


@dataclass
class Result:
    cases: int
    closed: int
    books_agree: bool
    kosh: Workload
    bare: Workload
    shape: Shape
    # The bare scripts again, every call an ordinary activity (only when kosh made local ones).
    ordinary: Workload | None = None

    @property
    def ratio(self) -> float:
        """kosh's throughput at saturation relative to bare Temporal's: bare's CPU per case
        over kosh's."""
        k, b = sum(self.kosh.cpu.values()), sum(self.bare.cpu.values())
        return b / k if k else 0.0

    @property
    def ratio_ordinary(self) -> float:
        """kosh against the bare scripts with every call an ordinary activity."""
        if self.ordinary is None:
            return 0.0
        k, o = sum(self.kosh.cpu.values()), sum(self.ordinary.cpu.values())
        return o / k if k else 0.0

    @property
    def ratio_wall(self) -> float:
        k, b = self.kosh.per_minute, self.bare.per_minute
        return k / b if b else 0.0


def table(r: Result) -> str:
    rows = [
        "| workload | cases | CPU s per case: worker | temporal server | postgres | total"
        " | throughput at saturation (CPU) | cases/min (wall) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    workloads = [("kosh (ApplicantWorkflow)", r.kosh), ("bare Temporal, same scripts", r.bare)]
    if r.ordinary is not None:
        workloads.append(("bare, same scripts, every call an ordinary activity", r.ordinary))
    for name, w in workloads:
        per = w.per_case(r.cases)
        total = sum(per.values())
        bare_total = sum(r.bare.per_case(r.cases).values())
        ratio = bare_total / total if total else 0.0
        rows.append(
            f"| {name} | {r.cases} | {per.get('worker', 0):.2f} | "
            f"{per.get('temporal server', 0):.2f} | {per.get('postgres', 0):.2f} | "
            f"{total:.2f} | {ratio:.2f} | {w.per_minute:.1f} |"
        )
    return "\n".join(rows)


def shares(cpu: dict[str, float]) -> str:
    total = sum(cpu.values())
    if not total:
        return "no CPU measured"
    return ", ".join(f"{part} {100 * s / total:.0f}%" for part, s in sorted(cpu.items()))


def report(r: Result, argv: list[str]) -> str:
    s = r.shape
    per_case = (
        f"{s.runs / s.cases:.1f} runs, {s.activities / s.cases:.1f} activities and "
        f"{s.local_activities / s.cases:.1f} local activities, "
        f"{s.timers / s.cases:.1f} timers, {s.signals / s.cases:.1f} signals and "
        f"{s.updates / s.cases:.1f} updates per case"
        if s.cases
        else "no cases"
    )
    verdict = "meets" if r.ratio >= GOAL else "is below"
    return "\n".join(
        [
            MARK_BEGIN,
            f"Measured {when()} on {machine()}, with",
            f"`python -m bench.baseline {' '.join(argv)}`:",
            "",
            table(r),
            "",
            f"At saturation kosh runs at **{r.ratio:.2f}** of bare Temporal's throughput (bare's",
            f"CPU per case over kosh's), which {verdict} the goal of {GOAL}; by wall clock,",
            f"one after the other on a shared machine, {r.ratio_wall:.2f}. The bare scripts",
            f"replayed {per_case}, as the kosh cases had them ({s.unplayable_inputs} inputs",
            "with no activity before them in their run were left out). Every kosh case closed",
            f"and the three books agreed: {r.closed == r.cases and r.books_agree}. CPU shares,",
            f"kosh: {shares(r.kosh.cpu)}; bare: {shares(r.bare.cpu)}. The kosh worker's",
            "process also serves the simulated agencies, the demo's staff and the console.",
            *([] if r.ordinary is None else [ordinary_sentence(r)]),
            MARK_END,
        ]
    )


def ordinary_sentence(r: Result) -> str:
    assert r.ordinary is not None
    bare, ordinary = sum(r.bare.cpu.values()), sum(r.ordinary.cpu.values())
    return (
        "The same scripts with every call an ordinary activity (as kosh made them before it "
        "asked the record and the registry from the worker, decision 005) cost bare "
        f"Temporal {ordinary / r.cases:.2f} CPU s per case, "
        f"{ordinary / bare:.1f} times the scripts as played: against that, kosh runs at "
        f"{r.ratio_ordinary:.2f}."
        if bare and r.cases
        else "The same scripts with every call an ordinary activity measured no CPU."
    )
