"""A draft's impact on the recorded labour requests: each request re-decided under the draft's
labour rules by the same pure functions (`wage_floor`, `quota_line`) from what its record
holds, and the draft's quota lines set against the places the requests would need.

The record holds a shortage's figures (days on the market, the regional average wage) only
when the shortage was confirmed; a request refused for its shortage is left undetermined
under a draft that changes those figures, never guessed. Places on a line go first come,
first served, as the record's reservations do: beyond a line's places the latest requests
are the ones a draft would refuse."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from domain.labour import events as le
from domain.labour.model import LabourYearError, quota_line
from domain.labour.rules import wage_floor
from domain.policy import Policy

# Refusals the draft re-decides from the shortage's recorded figures or from its quota lines;
# any other (a vacancy of another employer, a local hire, rights suspended) stands as recorded.
SHORTAGE_FIGURES = ("shortage_not_proven", "wage_below_floor")
QUOTA_RULES = ("no_quota", "quota_exhausted")


@dataclass(frozen=True)
class RequestImpact:
    request_id: str
    employer_key: str  # the employer's keyed id, as the record holds it (never the BIN)
    industry: str
    region: str
    project: str | None
    year: int  # the quota year its place is (or would be) drawn from
    submitted_on: date
    recorded: str  # "refused", "place held", or "undecided" (still before its place)
    recorded_rule: str | None
    # "refused" or "place held" (on the way: "needs a place"); None: undetermined or undecided
    drafted: str | None
    drafted_rule: str | None = None
    unknown: str | None = None

    @property
    def newly_refused(self) -> bool:
        """Recorded as taken further than the draft would take it."""
        return self.recorded != "refused" and self.drafted == "refused"


@dataclass(frozen=True)
class LabourLine:
    """One quota line (an industry in a region, or a named project) in one year."""

    industry: str
    region: str
    project: str | None
    year: int
    held: int  # places reserved in the record
    needed: int  # requests the draft takes as far as a place
    places: int | None  # the draft's (0: no line); None when it has no lines that year
    over: tuple[str, ...]  # the requests beyond the draft's places, latest submitted

    @property
    def short(self) -> int:
        return 0 if self.places is None else max(self.needed - self.places, 0)


@dataclass
class LabourImpact:
    requests: list[RequestImpact] = field(default_factory=list)
    lines: list[LabourLine] = field(default_factory=list)

    @property
    def refused(self) -> list[RequestImpact]:
        """The employers' requests the draft would refuse that the record took further."""
        return [r for r in self.requests if r.newly_refused]

    @property
    def undetermined(self) -> list[RequestImpact]:
        return [r for r in self.requests if r.unknown is not None]


def simulate_labour(
    streams: Iterable[Sequence[le.LabourEvent]],
    draft: Policy,
    *,
    since: date | None = None,
    until: date | None = None,
    region: str | None = None,
) -> LabourImpact:
    """Each labour request's stream re-decided under `draft`, then its quota lines filled."""
    impact = LabourImpact()
    for events in streams:
        r = re_decide_request(events, draft)
        if r is None or (region is not None and r.region != region):
            continue
        if (since is not None and r.submitted_on < since) or (
            until is not None and r.submitted_on > until
        ):
            continue
        impact.requests.append(r)
    impact.requests, impact.lines = _fill_lines(impact.requests, draft)
    return impact


def re_decide_request(events: Sequence[le.LabourEvent], draft: Policy) -> RequestImpact | None:
    """One request up to its place under the draft; None for a stream that is no request."""
    if not events or not isinstance(events[0], le.LabourRequestSubmitted):
        return None
    first = events[0]
    req = first.request
    refused = next((e for e in events if isinstance(e, le.LabourRequestRefused)), None)
    shortage = next((e for e in events if isinstance(e, le.ShortageConfirmed)), None)
    reserved = next((e for e in events if isinstance(e, le.LabourPlaceReserved)), None)
    year = reserved.year if reserved else (shortage.at.year if shortage else first.at.year)
    recorded = "refused" if refused else "place held" if reserved else "undecided"
    base = RequestImpact(
        request_id=first.request_id,
        employer_key=first.employer_key,
        industry=req.industry,
        region=req.region,
        project=req.project,
        year=year,
        submitted_on=first.at.date(),
        recorded=recorded,
        recorded_rule=refused.rule if refused else None,
        drafted=None,
    )
    if refused is not None and refused.rule not in (*SHORTAGE_FIGURES, *QUOTA_RULES):
        return _drafted(base, "refused", refused.rule)  # not a figure the draft sets
    if shortage is None:
        if refused is not None:  # refused for its shortage: the figures were not recorded
            return _unknown(
                base,
                "the vacancy's days on the market and regional wage are recorded only for a "
                "confirmed shortage",
            )
        return base  # still before its shortage was decided
    rules = draft.labour
    if shortage.days_on_market < rules.shortage_days:
        return _drafted(base, "refused", "shortage_not_proven")
    if req.monthly_wage_tiyn < wage_floor(shortage.regional_average_wage_tiyn, rules):
        return _drafted(base, "refused", "wage_below_floor")
    return _drafted(base, "needs a place", None)


def _drafted(r: RequestImpact, drafted: str, rule: str | None) -> RequestImpact:
    return replace(r, drafted=drafted, drafted_rule=rule)


def _unknown(r: RequestImpact, why: str) -> RequestImpact:
    return replace(r, drafted=None, unknown=why)


def _fill_lines(
    requests: list[RequestImpact], draft: Policy
) -> tuple[list[RequestImpact], list[LabourLine]]:
    """Each line's places given first come, first served; the requests beyond them, or with
    no line under the draft, refused."""
    held: dict[tuple[str, str, str | None, int], int] = defaultdict(int)
    needing: dict[tuple[str, str, str | None, int], list[RequestImpact]] = defaultdict(list)
    for r in requests:
        key = (r.industry, r.region, r.project, r.year)
        if r.recorded == "place held":
            held[key] += 1
        if r.drafted == "needs a place":
            needing[key].append(r)
    verdicts: dict[str, tuple[str, str | None]] = {}
    lines = []
    for key in sorted(set(held) | set(needing), key=lambda k: (k[3], k[0], k[1], k[2] or "")):
        industry, region, project, year = key
        want = sorted(needing.get(key, []), key=lambda r: (r.submitted_on, r.request_id))
        try:
            line = quota_line(
                draft.labour,
                year=year,
                industry=industry,  # type: ignore[arg-type]
                region=region,  # type: ignore[arg-type]
                project=project,
            )
            places: int | None = line.places if line is not None else 0
        except LabourYearError:
            places = None
        over = [] if places is None else want[places:]
        rule = "no_quota" if not places else "quota_exhausted"
        for r in want:
            if places is None:
                verdicts[r.request_id] = ("", f"the draft has no labour quota lines for {year}")
            else:
                verdicts[r.request_id] = ("refused", rule) if r in over else ("place held", None)
        lines.append(
            LabourLine(
                industry,
                region,
                project,
                year,
                held[key],
                len(want),
                places,
                tuple(r.request_id for r in over),
            )
        )
    decided = []
    for r in requests:
        verdict = verdicts.get(r.request_id)
        if verdict is None:
            decided.append(r)
        elif verdict[0]:
            decided.append(_drafted(r, *verdict))
        else:
            decided.append(_unknown(r, verdict[1] or ""))
    return decided, lines
