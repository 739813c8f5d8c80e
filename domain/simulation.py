"""A draft's impact on the recorded cases: each case re-decided under the draft by the same
pure functions that decided it (`score_questionnaire`, `score_case`, `support_schedule`,
`clawback`), from the inputs its record holds, beside what the record says was decided.

Nothing is invented: an input the draft would need that the record does not hold (a KAZTEST
sitting the applicant never sat because an earlier one passed or failed for good, an
interview never held because an earlier gate refused) leaves the case undetermined, with the
reason. Support is priced as the case's contract promises it through the same days (the
contract's start to its close, or to the family's departure)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from domain import events as ev
from domain.case import CaseState, fold
from domain.decisions.contract import clawback
from domain.policy import Policy, PolicyYearError, policy_by_id
from domain.schedule import support_schedule
from domain.scoring import LanguageResult, ScoreBreakdown, score_case, score_questionnaire


@dataclass(frozen=True)
class Decided:
    decision: str  # approve, refer, reject
    gate: str | None  # the first gate that refused or referred, None when approved
    reasons: tuple[str, ...]
    total: int


@dataclass(frozen=True)
class CaseImpact:
    case_id: str
    track: str
    submitted_on: date
    region: str | None  # the region of its place, else its first preferred region
    recorded_policy: str
    recorded: Decided | None  # None: never scored (closed before, or still in scoring)
    drafted: Decided | None  # None: undetermined (`unknown` says why) or never scored
    unknown: str | None = None
    place_year: int | None = None  # the quota year of the place it holds in the record
    paid_tiyn: int = 0  # support paid, as recorded
    drafted_paid_tiyn: int | None = None  # the same days' support under the draft
    left_on: date | None = None  # an early departure recorded
    demanded_tiyn: int = 0  # clawback demanded, as recorded
    drafted_demand_tiyn: int | None = None

    @property
    def changed(self) -> bool:
        return (
            self.recorded is not None
            and self.drafted is not None
            and self.recorded.decision != self.drafted.decision
        )


@dataclass(frozen=True)
class PlaceLine:
    """Kandas places of one region and year: held in the record, needed under the draft."""

    region: str
    year: int
    held: int
    needed: int
    waiting: int  # of the needed, cases holding no place yet (counted in their first region)
    quota: int | None  # the draft's; None when the draft has no figure for the year
    over: tuple[str, ...]  # the lowest-ranked cases beyond the draft's quota

    @property
    def short(self) -> int:
        return 0 if self.quota is None else max(self.needed - self.quota, 0)


@dataclass
class Impact:
    draft: str
    cases: list[CaseImpact] = field(default_factory=list)
    places: list[PlaceLine] = field(default_factory=list)

    @property
    def changed(self) -> list[CaseImpact]:
        return [c for c in self.cases if c.changed]

    @property
    def undetermined(self) -> list[CaseImpact]:
        return [c for c in self.cases if c.unknown is not None]

    def flows(self) -> Counter[tuple[str, str, str]]:
        """(recorded decision, drafted decision, the drafted gate) → cases."""
        return Counter(
            (c.recorded.decision, c.drafted.decision, c.drafted.gate or "all gates clear")
            for c in self.changed
            if c.recorded is not None and c.drafted is not None
        )

    def money(self) -> dict[str, int]:
        """Support and clawback over the cases both versions price."""
        priced = [c for c in self.cases if c.drafted_paid_tiyn is not None]
        left = [c for c in self.cases if c.drafted_demand_tiyn is not None]
        return {
            "support_paid_tiyn": sum(c.paid_tiyn for c in priced),
            "support_drafted_tiyn": sum(c.drafted_paid_tiyn or 0 for c in priced),
            "clawback_demanded_tiyn": sum(c.demanded_tiyn for c in left),
            "clawback_drafted_tiyn": sum(c.drafted_demand_tiyn or 0 for c in left),
        }


def simulate(
    streams: Iterable[Sequence[ev.Event]],
    draft: Policy,
    *,
    since: date | None = None,
    until: date | None = None,
    region: str | None = None,
) -> Impact:
    """Each case's stream (its events in order) re-decided under `draft`; cases submitted
    outside [since, until] or in another region are left out."""
    impact = Impact(draft=draft.id)
    for events in streams:
        case = re_decide(events, draft)
        if case is None:
            continue
        if since is not None and case.submitted_on < since:
            continue
        if until is not None and case.submitted_on > until:
            continue
        if region is not None and case.region != region:
            continue
        impact.cases.append(case)
    impact.places = places(impact.cases, draft)
    return impact


def re_decide(events: Sequence[ev.Event], draft: Policy) -> CaseImpact | None:
    """One case re-decided; None for a stream that is no applicant's case."""
    if not events or not isinstance(events[0], ev.ApplicationSubmitted):
        return None
    final = fold(events)
    app = events[0].application
    assert final.submitted_at is not None
    base = CaseImpact(
        case_id=final.case_id,
        track=final.track or "",
        submitted_on=final.submitted_at.date(),
        region=final.region or (app.preferred_regions[0] if app.preferred_regions else None),
        recorded_policy=final.policy_id,
        recorded=None,
        drafted=None,
        place_year=final.quota_year,
        paid_tiyn=final.paid_tiyn,
        left_on=final.left_on,
        demanded_tiyn=final.demanded_tiyn,
    )
    scored = next((e for e in events if isinstance(e, ev.ScoreComputed)), None)
    if scored is None:
        return base
    drafted, unknown = _score(fold(events[: events.index(scored)]), draft)
    paid, demand = (None, None)
    if drafted is not None and drafted.decision != "reject":
        paid, demand = _money(final, draft, through=events[-1].at.date())
    elif drafted is not None and final.contract_starts_on is not None:
        paid, demand = 0, (0 if final.left_on is not None else None)  # refused: nothing paid
    return replace(
        base,
        recorded=_decided(scored.breakdown),
        drafted=drafted,
        unknown=unknown,
        drafted_paid_tiyn=paid,
        drafted_demand_tiyn=demand,
    )


def _decided(b: ScoreBreakdown) -> Decided:
    gate = next((g.name for g in b.gates if g.outcome != "clear"), None)
    return Decided(b.decision, gate, b.reasons, b.total)


def _score(s: CaseState, draft: Policy) -> tuple[Decided | None, str | None]:
    app = s.application
    assert app is not None and s.submitted_at is not None
    language, unknown = _language(s.language, draft)
    if unknown is not None:
        return None, unknown
    questionnaire = score_questionnaire(
        app.questionnaire, born_on=app.born_on, on=s.submitted_at.date(), policy=draft
    )
    try:
        b = score_case(
            policy=draft,
            questionnaire=questionnaire,
            language=language,
            authority_gates=s.authority,
            interview=s.interview,
            submitted_at=s.submitted_at,
        )
    except ValueError:  # every gate clears under the draft, and no interview was held
        return None, "no interview recorded: an earlier gate refused the case"
    return _decided(b), None


def _language(
    sittings: Sequence[LanguageResult], draft: Policy
) -> tuple[LanguageResult | None, str | None]:
    """The sitting that decides the KAZTEST gate under the draft's pass mark and attempts."""
    rules = draft.language
    last: LanguageResult | None = None
    for sitting in sittings[: rules.max_attempts]:
        if sitting.rules_broken:  # a sitting ended for breaking the rules fails under any draft
            last = sitting
            continue
        missing = [s for s in rules.sections if s not in sitting.section_percent]
        if missing:
            return None, (
                f"KAZTEST attempt {sitting.attempt}: no result recorded for "
                f"{', '.join(missing)}, a section the draft tests"
            )
        passed = all(
            sitting.section_percent[s] >= rules.min_section_percent for s in rules.sections
        )
        last = sitting.model_copy(update={"passed": passed})
        if passed:
            return last, None
    if len(sittings) < rules.max_attempts:
        return None, (
            f"KAZTEST: the draft allows {rules.max_attempts} attempts; the record holds "
            f"{len(sittings)}, the next never sat"
        )
    return last, None


def _money(s: CaseState, draft: Policy, *, through: date) -> tuple[int | None, int | None]:
    """Support and clawback under the draft: what the record holds, moved by the difference
    between the draft's schedule and the case's own version's over the same days (to the
    departure, the close or the record's last event), so a payment due but not yet made, or
    not made for a reason of its own, counts alike in both."""
    if s.contract_starts_on is None or s.contract_ends_on is None:
        return None, None
    own = policy_by_id(s.policy_id)
    try:
        mine, theirs = (_priced(s, v, s.left_on or s.closed_on or through) for v in (own, draft))
    except PolicyYearError:
        return None, None
    paid = s.paid_tiyn + theirs[0] - mine[0]
    if s.left_on is None or s.left_on >= s.contract_ends_on:
        return paid, None
    return paid, max(s.demanded_tiyn + theirs[1] - mine[1], 0)


def _priced(s: CaseState, policy: Policy, through: date) -> tuple[int, int]:
    """The schedule's support through `through`, and the clawback a departure that day owes
    on it (the measures the policy does not claw back left out)."""
    due = support_schedule(s, policy, through=through)
    paid = sum(d.amount_tiyn for d in due)
    if s.left_on is None or s.left_on >= (s.contract_ends_on or s.left_on):
        return paid, 0
    kept = set(policy.contract.not_clawed_back)
    clawed = paid - sum(d.amount_tiyn for d in due if d.measure in kept)
    priced = s.model_copy(update={"paid_tiyn": clawed, "payments": (), "repaid_tiyn": 0})
    return paid, clawback(priced, policy, s.left_on)


def places(cases: Sequence[CaseImpact], draft: Policy) -> list[PlaceLine]:
    """Kandas places per region and year: held in the record against needed under the draft
    (a case the draft approves needs the place it holds, or, holding none yet, one in its
    first region in the year it was submitted); beyond the draft's quota the lowest-ranked
    are named: those a round would move to another region or the general track."""
    held: Counter[tuple[str, int]] = Counter()
    needing: dict[tuple[str, int], list[CaseImpact]] = defaultdict(list)
    for c in cases:
        if c.track != "kandas" or c.region is None:
            continue
        if c.place_year is not None:
            held[(c.region, c.place_year)] += 1
        if c.drafted is not None and c.drafted.decision != "reject":
            year = c.place_year or c.submitted_on.year
            needing[(c.region, year)].append(c)
    lines = []
    for key in sorted(set(held) | set(needing)):
        reg, year = key
        want = sorted(needing.get(key, []), key=lambda c: -(c.drafted.total if c.drafted else 0))
        try:
            quota: int | None = draft.quota(reg, year)  # type: ignore[arg-type]
        except PolicyYearError:
            quota = None
        over = tuple(c.case_id for c in want[quota:]) if quota is not None else ()
        waiting = sum(1 for c in want if c.place_year is None)
        lines.append(PlaceLine(reg, year, held[key], len(want), waiting, quota, over))
    return lines
