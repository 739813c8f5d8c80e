"""Versioned policy: every number a decision depends on, with the date it came into force.

Figures follow the public 2026 sources in shared/POLICY-SOURCES.md. Every figure states its
provenance (domain/provenance.py): published (the source row, quoted from
domain/policy_sources.py), ILLUSTRATIVE with the reason where the law publishes no number, or
PROJECTION with its basis for a year nothing is published for. A case is decided under the
version in force on the day it was submitted (cases in flight are protected from changes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated

from pydantic import Field, model_validator

from domain import policy_sources as src
from domain.labour import LABOUR_QUOTA_2026, LABOUR_QUOTA_2026_PROVENANCE, LabourRules
from domain.model import Model
from domain.policy_parts import (
    AllocationRules,
    ContractRules,
    Deadlines,
    GeneralTrackRules,
    LanguageTestRules,
    QuestionnaireRules,
    SupportRules,
)
from domain.policy_rules import PolicyRuleError, figure_problems
from domain.provenance import (
    Figure,
    Illustrative,
    Projection,
    Provenance,
    ProvenanceError,
    problems,
    walk,
)
from domain.regions import LABOUR_DEFICIT_REGIONS, Region

# Fields of a version that are not figures: what it is called, when and where it starts, what
# it says.
NOT_FIGURES = {"id", "effective_from", "phased_from", "note", "sources"}


class PolicyYearError(LookupError):
    """The version has no figure for that year, neither published nor projected."""


class Policy(Model):
    """One published version of the rules.

    Every figure has a provenance (domain/provenance.py): a default's is on its field; the
    version's `sources` states the provenance of each year of its year tables (MRP, kandas
    and labour quotas) and of every figure it sets differently from the default. A version
    without a provenance for a figure, or with a figure that breaks the rules every figure
    keeps (domain/policy_rules.py), is refused when it is built."""

    id: str
    effective_from: date
    # A phased introduction: these regions take the version earlier than the rest of the
    # country (which takes it on `effective_from`), for example a pilot's two regions.
    phased_from: dict[Region, date] = Field(default_factory=dict)
    note: str
    mrp_tenge: dict[int, int]
    language: LanguageTestRules = LanguageTestRules()
    questionnaire: QuestionnaireRules = QuestionnaireRules()
    interview_max_points: Annotated[
        int, Illustrative("the interview's weight is not published")
    ] = 100
    deadlines: Deadlines = Deadlines()
    support: SupportRules = SupportRules()
    contract: ContractRules = ContractRules()
    general: GeneralTrackRules = GeneralTrackRules()
    allocation: AllocationRules = AllocationRules()
    kandas_quota: dict[int, dict[Region, int]]
    labour: LabourRules = LabourRules()
    sources: dict[str, Provenance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _phased_before_the_rest(self) -> Policy:
        late = [r for r, on in self.phased_from.items() if on > self.effective_from]
        if late:
            raise ValueError(
                f"phased_from: {', '.join(late)} would start after the rest of the country "
                f"({self.effective_from.isoformat()}): a phased region starts earlier, or is "
                "left out"
            )
        return self

    @model_validator(mode="after")
    def _every_figure_has_provenance(self) -> Policy:
        found = self.figures()
        wrong = problems(found)
        paths = [f.path for f in found]
        for key in self.sources:
            if not any(p == key or p.startswith(key + ".") for p in paths):
                wrong.append(f"sources names {key!r}, which is no figure of the version")
        if wrong:
            raise ProvenanceError(f"policy {self.id}: " + "; ".join(wrong))
        if broken := figure_problems(self.model_dump(mode="json")):  # domain/policy_rules.py
            raise PolicyRuleError(self.id, broken)
        return self

    def starts_in(self, region: Region | None) -> date:
        """The date the version takes effect in `region` (None: a case with no region yet,
        which takes the rest of the country's date)."""
        if region is None:
            return self.effective_from
        return self.phased_from.get(region, self.effective_from)

    def takes_effect(self) -> str:
        """Where and from when: `Kostanay, Pavlodar from 2027-03-01; the rest from 2027-07-01`."""
        by_date: dict[date, list[str]] = {}
        for region, on in sorted(self.phased_from.items(), key=lambda x: (x[1], x[0])):
            by_date.setdefault(on, []).append(region)
        parts = [f"{', '.join(regions)} from {on}" for on, regions in by_date.items()]
        rest = f"the rest from {self.effective_from}" if parts else f"from {self.effective_from}"
        return "; ".join([*parts, rest])

    def figures(self) -> list[Figure]:
        """Every figure of the version with its value and provenance."""
        return list(walk(self, self.sources, NOT_FIGURES))

    def mrp(self, year: int) -> int:
        """MRP in tenge for a year: published or an explicit projection, else an error."""
        if year not in self.mrp_tenge:
            raise PolicyYearError(self._no_year("an MRP", year, self.mrp_tenge))
        return self.mrp_tenge[year]

    def quota(self, region: Region, year: int) -> int:
        """Kandas places for a region in a year: published or an explicit projection."""
        if region not in LABOUR_DEFICIT_REGIONS:
            return 0
        if year not in self.kandas_quota:
            raise PolicyYearError(self._no_year("a kandas quota", year, self.kandas_quota))
        return self.kandas_quota[year].get(region, 0)

    def _no_year(self, what: str, year: int, table: Mapping[int, object]) -> str:
        return (
            f"policy {self.id} has {what} for {min(table)}–{max(table)} only, none for {year}"
            " (neither published nor projected): add the year to the policy"
        )


QUOTA_2026: dict[Region, int] = {
    "Pavlodar": 977,
    "Akmola": 285,
    "Abai": 264,
    "East Kazakhstan": 200,
    "North Kazakhstan": 200,
    "Kostanay": 200,
    "Atyrau": 125,
    "West Kazakhstan": 30,
}

# Places through 2031; a contract signed then runs to 2036 and its payments need those years'
# MRP. None is published beyond 2026: each is a marked projection, never a silent reuse.
PROJECTED_YEARS = range(2027, 2032)
PROJECTED_MRP_YEARS = range(2027, 2037)
CARRIED_FORWARD = Projection(basis="2026 carried forward, not published")
ILLUSTRATIVE_CARRIED_FORWARD = Projection(basis="2026's illustrative lines carried forward")

POLICY_2026_1 = Policy(
    id="2026.1",
    effective_from=date(2026, 1, 1),
    note="Scoring pre-selection from January 2026; 2026 MRP and regional quota; quotas for"
    " 2027–2031 and the MRP for 2027–2036 (the contracts signed by 2031) projected from 2026.",
    mrp_tenge={2025: 3932, 2026: 4325} | dict.fromkeys(PROJECTED_MRP_YEARS, 4325),
    kandas_quota={2026: QUOTA_2026} | {y: dict(QUOTA_2026) for y in PROJECTED_YEARS},
    labour=LabourRules(
        quotas={2026: LABOUR_QUOTA_2026} | dict.fromkeys(PROJECTED_YEARS, LABOUR_QUOTA_2026)
    ),
    sources={
        "mrp_tenge.2025": src.MRP,
        "mrp_tenge.2026": src.MRP,
        "kandas_quota.2026": src.REGIONAL_QUOTA_2026,
        "labour.quotas.2026": LABOUR_QUOTA_2026_PROVENANCE,
    }
    | {f"mrp_tenge.{y}": CARRIED_FORWARD for y in PROJECTED_MRP_YEARS}
    | {f"kandas_quota.{y}": CARRIED_FORWARD for y in PROJECTED_YEARS}
    | {f"labour.quotas.{y}": ILLUSTRATIVE_CARRIED_FORWARD for y in PROJECTED_YEARS},
)

# The versions built into kosh. Later versions are published into the record by a policy
# officer (`kosh policy publish`, store/policies.py), each with a published basis for what it
# changes (decision 015): kosh does not apply rules of its own invention to the ministry's cases.
POLICIES: tuple[Policy, ...] = (POLICY_2026_1,)
# Published versions this process has read from the record (or a case carried in its state),
# by id. A version is never changed once published, so knowing it is the same everywhere: a
# case registers its own version before it reads it (`register`).
_KNOWN: dict[str, Policy] = {}


class UnknownPolicyError(LookupError):
    """No policy with that id, or none in force on that date."""


class PolicyConflictError(ValueError):
    """Two different versions under one id."""


def in_force(on: date, region: Region | None, among: Sequence[Policy]) -> Policy:
    """The version a case applying in `region` on `on` takes: of `among`, the one that took
    effect there last, on or before `on` (a later one of the same date: the one listed later)."""
    started = [(p.starts_in(region), i, p) for i, p in enumerate(among)]
    started = [found for found in started if found[0] <= on]
    if not started:
        where = f" in {region}" if region else ""
        raise UnknownPolicyError(f"no policy in force{where} on {on.isoformat()}")
    return max(started, key=lambda found: found[:2])[2]


def policy_in_force(on: date) -> Policy:
    """The newest built-in version in force on `on` (for code that has no record to ask: a
    new case asks the record for its region's version, activities/policies.py)."""
    return in_force(on, None, POLICIES)


def policy_by_id(policy_id: str) -> Policy:
    """The version with that id: a decided case always reads its own version."""
    for p in POLICIES:
        if p.id == policy_id:
            return p
    if policy_id in _KNOWN:
        return _KNOWN[policy_id]
    raise UnknownPolicyError(f"unknown policy version {policy_id!r}")


def register(policy: Policy) -> Policy:
    """Know a published version in this process (idempotent); PolicyConflictError when another
    version already holds its id (a built-in one, or a different document)."""
    known = next((p for p in POLICIES if p.id == policy.id), None) or _KNOWN.get(policy.id)
    if known is not None and known != policy:
        raise PolicyConflictError(f"policy {policy.id} is already a different version")
    if known is None:
        _KNOWN[policy.id] = policy
    return known or policy


def versions() -> tuple[Policy, ...]:
    """The versions kosh knows here, built-in and published, in the order they take effect."""
    return tuple(sorted((*POLICIES, *_KNOWN.values()), key=lambda p: p.effective_from))
