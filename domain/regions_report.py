"""The regions' picture from the record (issue #22, item 4; `kosh report`, the console's
analyst pages): pure functions over every case's and labour request's events, as
`store/streams.py` reads them. Nothing is estimated: each figure counts recorded facts, and
a family still under contract counts only for the months the record has seen it through.

- quota use per region and year: places reserved, released and held against the capacity the
  cases' versions gave (the quota ledger's own figures, from the events);
- kandas retention: of the families that arrived in a region in a year, the share still in
  the region after each 6 months since arrival (a family is seen through its last recorded day;
  it leaves the count when it leaves the region, moves, or departs the country);
- support paid against clawback demanded and repaid, per region of the contract;
- where cases wait and how long: per stage, the median and longest days of the stays that
  ended, and the cases in it now with the median days so far (case time);
- refusals by gate: each gate that denied a rejected case, with its reason;
- labour places held per industry, region and year.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from domain import events as ev
from domain.calendar import add_months
from domain.case import CaseState, evolve
from domain.labour import events as le

RETENTION_MONTHS = tuple(range(6, 61, 6))  # the months since arrival the share is given for


@dataclass(frozen=True)
class QuotaUse:
    region: str
    year: int
    capacity: int
    reserved: int
    released: int

    @property
    def held(self) -> int:
        return self.reserved - self.released


@dataclass(frozen=True)
class Retention:
    """Families that arrived in `region` in `arrived_in`: per month since arrival, how many
    the record has seen that far (`seen`) and how many of those were still there (`stayed`)."""

    region: str
    arrived_in: int
    families: int
    months: tuple[tuple[int, int, int], ...]  # (month, seen, stayed)


@dataclass(frozen=True)
class Money:
    region: str
    contracts: int
    paid_tiyn: int
    demanded_tiyn: int
    repaid_tiyn: int


@dataclass(frozen=True)
class StageWait:
    stage: str
    ended: int  # stays that ended
    median_days: float | None
    longest_days: int | None
    waiting_now: int
    waiting_median_days: float | None


@dataclass(frozen=True)
class Refusal:
    gate: str
    reason: str
    cases: int


@dataclass(frozen=True)
class LabourPlaces:
    industry: str
    region: str
    year: int
    held: int


@dataclass(frozen=True)
class Report:
    cases: int
    quota: list[QuotaUse]
    retention: list[Retention]
    money: list[Money]
    stages: list[StageWait]
    refusals: list[Refusal]
    labour: list[LabourPlaces]
    closed: dict[str, int] = field(default_factory=dict)


def report(
    cases: Iterable[Sequence[ev.Event]], requests: Iterable[Sequence[le.LabourEvent]] = ()
) -> Report:
    """The regions' picture of the recorded cases and labour requests."""
    builder = ReportBuilder()
    for events in cases:
        builder.add_case(events)
    for request in requests:
        builder.add_request(request)
    return builder.result()


class ReportBuilder:
    """The picture built one stream at a time (`kosh report` reads the record as a cursor:
    memory grows with the regions, years and stages, not with the cases)."""

    def __init__(self) -> None:
        self.count = 0
        self.quota: dict[tuple[str, int], list[int]] = {}
        self.families: list[tuple[str, date, date | None, date]] = []
        self.money: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self.ended: dict[str, list[int]] = defaultdict(list)
        self.waiting: dict[str, list[int]] = defaultdict(list)
        self.refusals: Counter[tuple[str, str]] = Counter()
        self.closed: Counter[str] = Counter()
        self.labour: Counter[tuple[str, str, int]] = Counter()

    def add_case(self, events: Sequence[ev.Event]) -> None:
        if not events:
            return
        self.count += 1
        _quota(events, self.quota)
        arrival = _family(events)
        if arrival is not None:
            self.families.append(arrival)
        _money(events, self.money)
        _stages(events, self.ended, self.waiting)
        self.refusals.update(_refused(events))
        self.closed.update(e.reason for e in events if isinstance(e, ev.CaseClosed))

    def add_request(self, events: Sequence[le.LabourEvent]) -> None:
        for e in events:
            if isinstance(e, le.LabourPlaceReserved):
                self.labour[(e.industry, e.region, e.year)] += 1
            elif isinstance(e, le.LabourPlaceReleased):
                self.labour[(e.industry, e.region, e.year)] -= 1

    def result(self) -> Report:
        refusals = sorted(self.refusals.items(), key=lambda x: (-x[1], x[0]))
        return Report(
            cases=self.count,
            quota=[QuotaUse(r, y, *tally) for (r, y), tally in sorted(self.quota.items())],
            retention=_retention(self.families),
            money=[Money(r, *sums) for r, sums in sorted(self.money.items())],
            stages=_waits(self.ended, self.waiting),
            refusals=[Refusal(g, r, n) for (g, r), n in refusals],
            labour=[LabourPlaces(i, r, y, n) for (i, r, y), n in sorted(self.labour.items())],
            closed=dict(sorted(self.closed.items())),
        )


def _quota(events: Sequence[ev.Event], quota: dict[tuple[str, int], list[int]]) -> None:
    for e in events:
        if isinstance(e, ev.QuotaPlaceReserved):
            tally = quota.setdefault((e.region, e.year), [e.capacity, 0, 0])
            tally[0] = e.capacity  # the latest reservation's capacity
            tally[1] += 1
        elif isinstance(e, ev.QuotaPlaceReleased):
            quota.setdefault((e.region, e.year), [0, 0, 0])[2] += 1


def _family(events: Sequence[ev.Event]) -> tuple[str, date, date | None, date] | None:
    """Where a family arrived and when, when it left the region (None: it has not), and the
    last day the record has seen it."""
    arrived = next((e for e in events if isinstance(e, ev.RelocationArrived)), None)
    if arrived is None:
        return None
    left: date | None = None
    for e in events:
        if isinstance(e, ev.RegionLeft):
            left = e.left_on
        elif isinstance(e, ev.DepartureRecorded):
            left = e.departed_on
        if left is not None:
            break
    seen_to = max(e.at.date() for e in events)
    return arrived.region, arrived.arrived_on, left, seen_to


def _retention(families: list[tuple[str, date, date | None, date]]) -> list[Retention]:
    groups: dict[tuple[str, int], list[tuple[date, date | None, date]]] = defaultdict(list)
    for region, arrived, left, seen_to in families:
        groups[(region, arrived.year)].append((arrived, left, seen_to))
    out = []
    for (region, year), members in sorted(groups.items()):
        months = []
        for m in RETENTION_MONTHS:
            seen = stayed = 0
            for arrived, left, seen_to in members:
                mark = add_months(arrived, m)
                if left is not None and left < mark:
                    seen += 1  # it left before the mark: seen to have gone
                elif seen_to >= mark:
                    seen += 1
                    stayed += 1
            months.append((m, seen, stayed))
        out.append(Retention(region, year, len(members), tuple(months)))
    return out


def _money(events: Sequence[ev.Event], money: dict[str, list[int]]) -> None:
    signed = next((e for e in events if isinstance(e, ev.SocialContractSigned)), None)
    if signed is None:
        return
    sums = money[signed.region]
    sums[0] += 1
    for e in events:
        if isinstance(e, ev.SupportPaid):
            sums[1] += e.amount_tiyn
        elif isinstance(e, ev.RepaymentDemanded):
            sums[2] += e.amount_tiyn
        elif isinstance(e, ev.RepaymentReceived):
            sums[3] += e.amount_tiyn


def _stages(
    events: Sequence[ev.Event], ended: dict[str, list[int]], waiting: dict[str, list[int]]
) -> None:
    """Each stage's stay, in case days: from the event that entered it to the one that left."""
    state = CaseState()
    stage, since = state.stage, events[0].at.date()
    for e in events:
        state = evolve(state, e)
        if state.stage != stage:
            if stage != "new":
                ended[stage].append((e.at.date() - since).days)
            stage, since = state.stage, e.at.date()
    if stage != "closed":
        waiting[stage].append((events[-1].at.date() - since).days)


def _waits(ended: dict[str, list[int]], waiting: dict[str, list[int]]) -> list[StageWait]:
    out = []
    for stage in sorted(set(ended) | set(waiting)):
        done, now = ended.get(stage, []), waiting.get(stage, [])
        out.append(
            StageWait(
                stage,
                len(done),
                statistics.median(done) if done else None,
                max(done) if done else None,
                len(now),
                statistics.median(now) if now else None,
            )
        )
    return out


def _refused(events: Sequence[ev.Event]) -> list[tuple[str, str]]:
    """The gates that denied a rejected case (a document found forged counts as the
    documents gate), each with its reason."""
    found = []
    for e in events:
        if isinstance(e, ev.DocumentsRejected):
            found += [("documents", reason) for reason in e.reasons]
        elif isinstance(e, ev.ScoreComputed) and e.breakdown.decision == "reject":
            found += [(g.name, g.reason) for g in e.breakdown.gates if g.outcome == "deny"]
    return found
