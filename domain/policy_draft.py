"""Policy drafts: a version the ministry is considering, written as a file (JSON or YAML) of
the figures it changes against a version in force, each with its provenance. A draft is
built into a `Policy` by the same model and rules as the versions in force, so a bad figure
is refused naming the figure and the rule; it is never one of the versions in force
(`domain.policy.POLICIES`), so no case is decided under it.

    id: "2027.1"
    effective_from: 2027-07-01
    phased_from: {Pavlodar: 2027-03-01, Kostanay: 2027-03-01}   # optional: earlier regions
    note: West Kazakhstan's quota doubled; the questionnaire's minimum raised
    base: "2026.1"            # optional: else the version in force on effective_from
    changes:
      kandas_quota.2027.West Kazakhstan:
        value: 60
        provenance: {kind: illustrative, reason: "a draft for the regions' consultation"}
      questionnaire.min_points:
        value: 450
        provenance: {kind: illustrative, reason: "a draft for the regions' consultation"}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field, ValidationError

from domain.model import Model
from domain.policy import Policy
from domain.policy_rules import PolicyRuleError, Problem, leaves
from domain.provenance import (
    Illustrative,
    Projection,
    Provenance,
    ProvenanceError,
    Published,
    describe,
)
from domain.regions import Region

# Tables whose years a draft may add (a year nothing was published or projected for).
YEAR_TABLES = ("mrp_tenge", "kandas_quota", "labour.quotas")


def revised(
    base: Policy,
    *,
    id: str,
    effective_from: date,
    note: str,
    changes: Mapping[str, tuple[object, Published | Illustrative | Projection]],
    phased_from: Mapping[Region, date] | None = None,
) -> Policy:
    """A new version: `base` with each dotted-path figure in `changes` set to its value,
    stated with its provenance (a changed figure never inherits its default's)."""
    data = base.model_dump()
    for path, (value, _) in changes.items():
        _set(data, path.split("."), value)
    data.update(
        id=id, effective_from=effective_from, phased_from=dict(phased_from or {}), note=note
    )
    data["sources"] = {**base.sources, **{path: prov for path, (_, prov) in changes.items()}}
    return Policy.model_validate(data)


def _set(data: dict[Any, Any], parts: list[str], value: object) -> None:
    key: Any = next((k for k in data if str(k) == parts[0]), None)
    if key is None:
        key = int(parts[0]) if parts[0].isdigit() else parts[0]
    if len(parts) == 1:
        data[key] = value
    else:
        _set(data[key], parts[1:], value)


class DraftChange(Model):
    value: Any
    provenance: Provenance


class PolicyDraft(Model):
    id: str
    effective_from: date
    phased_from: dict[Region, date] = Field(default_factory=dict)
    note: str
    base: str | None = None
    changes: dict[str, DraftChange]


class DraftError(ValueError):
    """A draft refused: each problem names the draft's field and the rule it breaks."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {rule}" for field, rule in problems))


def read_draft(data: Any, versions: Sequence[Policy]) -> Policy:
    """The version a draft file's data describes, checked as the versions in force are;
    DraftError names every problem found, all at once."""
    draft, problems = _parsed(data)
    base = _base(draft, versions)
    unknown = _unknown_paths(draft, base)
    problems += [(f"changes.{path}", rule) for path, rule in unknown]
    if draft.id in {v.id for v in versions}:
        problems.append(("id", f"{draft.id} is a version in force already: a draft takes a new id"))
    late = {r: on for r, on in draft.phased_from.items() if on > draft.effective_from}
    problems += [
        (
            f"phased_from.{r}",
            f"starts {on.isoformat()}, after the rest of the country "
            f"({draft.effective_from.isoformat()}): a phased region starts earlier, or is left out",
        )
        for r, on in late.items()
    ]
    phased = {} if late else draft.phased_from
    named = {path for path, _ in unknown}
    changes = {p: (c.value, c.provenance) for p, c in draft.changes.items() if p not in named}
    try:
        built = revised(
            base,
            id=draft.id,
            effective_from=draft.effective_from,
            phased_from=phased,
            note=draft.note,
            changes=changes,
        )
    except ValidationError:
        # each change alone, so one figure's wrong type hides no other figure's broken rule
        for path, change in changes.items():
            try:
                revised(
                    base,
                    id=draft.id,
                    effective_from=draft.effective_from,
                    phased_from=phased,
                    note=draft.note,
                    changes={path: change},
                )
            except ValidationError as exc:
                problems += [p for p in _model_problems(exc) if p not in problems]
        raise DraftError(problems) from None
    if problems:
        raise DraftError(problems)
    return built


def draft_base(data: Any, versions: Sequence[Policy]) -> Policy:
    """The version a draft revises: its `base`, else the one in force on its
    `effective_from` (call after `read_draft` accepted the data)."""
    return _base(_parsed(data)[0], versions)


def _parsed(data: Any) -> tuple[PolicyDraft, list[Problem]]:
    """The draft, the changes that cannot be read left out and named."""
    if not isinstance(data, Mapping):
        raise DraftError([("draft", "must be a mapping of id, effective_from, note, changes")])
    problems: list[Problem] = []
    changes = data.get("changes")
    readable: dict[str, DraftChange] = {}
    for path, change in (changes or {}).items() if isinstance(changes, Mapping) else ():
        try:
            readable[str(path)] = DraftChange.model_validate(change)
        except ValidationError as exc:
            problems += _located(exc, f"changes.{path}")
    try:
        read = {**data, "changes": readable} if isinstance(changes, Mapping) else data
        draft = PolicyDraft.model_validate(read)
    except ValidationError as exc:
        raise DraftError(_located(exc, "") + problems) from None
    return draft, problems


def _located(exc: ValidationError, prefix: str) -> list[Problem]:
    found: list[Problem] = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        found.append((loc or "draft", e["msg"]))
    return found


def _base(draft: PolicyDraft, versions: Sequence[Policy]) -> Policy:
    if draft.base is not None:
        for v in versions:
            if v.id == draft.base:
                return v
        known = ", ".join(v.id for v in versions)
        raise DraftError([("base", f"no version {draft.base!r} (known: {known})")])
    in_force = [v for v in versions if v.effective_from <= draft.effective_from]
    if not in_force:
        raise DraftError([("effective_from", "no version is in force then to draft against")])
    return max(in_force, key=lambda v: v.effective_from)


def _unknown_paths(draft: PolicyDraft, base: Policy) -> list[Problem]:
    """Changes that name no figure of the base (a leaf, or a table holding leaves) and no
    year a year table may gain; a list of rows (age bands, labour lines) is changed whole."""
    shape = base.model_dump(mode="json")
    paths = [p for p, _ in leaves(shape)]
    rows = _lists(shape)
    found: list[Problem] = []
    for path in draft.changes:
        inside = next((r for r in rows if path.startswith(r + ".")), None)
        if inside is not None:
            found.append((path, f"a list of rows is changed whole: write {inside}"))
        elif not (any(p == path or p.startswith(path + ".") for p in paths) or _new_year(path)):
            found.append((path, f"no figure of version {base.id} has this path (kosh policy show)"))
    return found


def _lists(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    found: list[str] = []
    for key, value in data.items():
        if isinstance(value, list):
            found.append(f"{prefix}{key}")
        elif isinstance(value, Mapping):
            found.extend(_lists(value, f"{prefix}{key}."))
    return found


def _new_year(path: str) -> bool:
    """A whole year added to a year table (`kandas_quota.2032`)."""
    return any(path.removeprefix(t + ".").isdigit() for t in YEAR_TABLES if path != t)


def _model_problems(exc: ValidationError) -> list[Problem]:
    found: list[Problem] = []
    for e in exc.errors():
        error = (e.get("ctx") or {}).get("error")
        if isinstance(error, PolicyRuleError):
            found.extend((f"changes.{path}", rule) for path, rule in error.problems)
        elif isinstance(error, ProvenanceError):
            found.append(("changes", str(error)))
        else:
            loc = ".".join(str(p) for p in e["loc"])
            found.append((f"changes.{loc}" if loc else "changes", e["msg"]))
    return found


# ---- what a draft changes -------------------------------------------------------------------
@dataclass(frozen=True)
class FigureChange:
    """One figure that differs between two versions (None: the version has no such figure)."""

    path: str
    before: Any
    after: Any
    provenance: str  # the later version's, as `kosh policy show` words it


def diff(before: Policy, after: Policy) -> list[FigureChange]:
    """Every figure whose value differs, in the order the later version lists them (then the
    ones only the earlier has)."""
    old = dict(leaves(before.model_dump(mode="json")))
    new = dict(leaves(after.model_dump(mode="json")))
    figures = after.figures()
    order = list(new) + [p for p in old if p not in new]
    return [
        FigureChange(path, old.get(path), new.get(path), _provenance(figures, path))
        for path in order
        if old.get(path) != new.get(path)
    ]


def _provenance(figures: Sequence[Any], path: str) -> str:
    for f in figures:
        if (f.path == path or path.startswith(f.path + ".")) and f.provenance is not None:
            return describe(f.provenance)
    return "no longer a figure"


def as_record(changes: Sequence[FigureChange]) -> list[Mapping[str, Any]]:
    return [
        {"figure": c.path, "before": c.before, "after": c.after, "provenance": c.provenance}
        for c in changes
    ]
