"""The rules every policy figure keeps, whatever version states it: no negative count, day or
tenge, no percentage over 100, a term, an interval or an MRP of at least one, a quota only for
the labour-deficit regions, the 29-day limit's warning before the limit. The versions in force
keep them; a draft that breaks one is refused, each problem naming the figure and the rule.

Rules work on a version's JSON shape (`Policy.model_dump(mode="json")`), path by path, so the
message names the figure as `kosh policy show` and a draft file write it
(`kandas_quota.2027.West Kazakhstan`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from domain.regions import LABOUR_DEFICIT_REGIONS

# Figures that are penalties: points taken off, never added.
PENALTIES = frozenset({"questionnaire.criminal_record_points", "questionnaire.deportation_points"})
# Figures that make no sense at zero: a term, an interval, a count of attempts, an MRP.
AT_LEAST_ONE = frozenset(
    {
        "language.max_attempts",
        "interview_max_points",
        "deadlines.procedure_limit_days",
        "contract.term_years",
        "contract.monitoring_interval_days",
        "contract.rescreening_interval_days",
        "general.permit_term_years",
        "general.rescreening_interval_days",
        "general.residence_card_years",
        "allocation.period_months",
        "allocation.rounds_not_reached",
    }
)
NOT_FIGURES = ("id", "effective_from", "note", "sources")

Problem = tuple[str, str]  # the figure's dotted path, the rule it breaks


def leaves(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a version's JSON shape with its dotted path (lists by index)."""
    for key, value in data.items():
        if not prefix and key in NOT_FIGURES:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from leaves(value, path + ".")
        elif isinstance(value, list):
            yield from leaves({str(i): v for i, v in enumerate(value)}, path + ".")
        else:
            yield path, value


def figure_problems(data: Mapping[str, Any]) -> list[Problem]:
    """What in a version's figures breaks the rules, figure by figure."""
    found: list[Problem] = []
    for path, value in leaves(data):
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        found.extend((path, rule) for rule in _number_rules(path, value))
    for year, quota in (data.get("kandas_quota") or {}).items():
        for region in quota:
            if region not in LABOUR_DEFICIT_REGIONS:
                found.append(
                    (
                        f"kandas_quota.{year}.{region}",
                        "kandas places go to the labour-deficit regions only "
                        f"({', '.join(sorted(LABOUR_DEFICIT_REGIONS))})",
                    )
                )
    deadlines = data.get("deadlines") or {}
    limit, at_risk = deadlines.get("procedure_limit_days"), deadlines.get("procedure_at_risk_days")
    if isinstance(limit, int) and isinstance(at_risk, int) and at_risk >= limit:
        found.append(
            (
                "deadlines.procedure_at_risk_days",
                f"must be less than the limit (deadlines.procedure_limit_days = {limit})",
            )
        )
    return found


def _number_rules(path: str, value: int) -> Iterator[str]:
    if path in PENALTIES:
        if value > 0:
            yield "a penalty takes points off: must be 0 or less"
        return
    if value < 0:
        yield "must be 0 or more"
    elif value < 1 and (path in AT_LEAST_ONE or path.startswith("mrp_tenge.")):
        yield "must be at least 1"
    if path.rsplit(".", 1)[-1].endswith("percent") and value > 100:
        yield "a percentage: must be 100 or less"


class PolicyRuleError(ValueError):
    """A version whose figures break the rules; `problems` names each figure and rule."""

    def __init__(self, version: str, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "; ".join(f"{path}: {rule}" for path, rule in problems)
        super().__init__(f"policy {version}: {listed}")
