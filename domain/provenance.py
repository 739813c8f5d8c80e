"""Where each policy figure comes from: a published source, kosh's illustration, or a
projection of a year nothing is published for.

A figure's default carries its provenance on its own line, as field metadata
(`days: Annotated[int, Illustrative("why")] = 5`); a policy version states the provenance of
every figure it sets differently, and of every year of its year tables, in its `sources`
map keyed by the figure's dotted path (`"contract.monitoring_interval_days"`,
`"mrp_tenge.2027"`). `figures` walks every leaf of a version and says which provenance
covers it; a leaf nothing covers, or a changed figure that would inherit its default's
provenance, is refused (see decision 015).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class Published:
    """A figure from a public source: the row of shared/POLICY-SOURCES.md, quoted."""

    row: str  # the row's figure column, e.g. "Relocation subsidy for kandas"
    source: str  # the row's source column, e.g. "lada.kz news 147686"
    says: str  # the row's value column: what the source says
    kind: Literal["published"] = "published"


@dataclass(frozen=True)
class Illustrative:
    """kosh's own figure where no public number exists, and why this value."""

    reason: str
    kind: Literal["illustrative"] = "illustrative"


@dataclass(frozen=True)
class Projection:
    """A year's figure that is not published yet, and what it is projected from."""

    basis: str
    kind: Literal["projection"] = "projection"


Provenance = Annotated[Published | Illustrative | Projection, Field(discriminator="kind")]
ProvenanceKind = Literal["published", "illustrative", "projection"]


@dataclass(frozen=True)
class Figure:
    """One figure of a version: its dotted path, its value (JSON-shaped), its provenance
    and who states it: the version itself (`sources`) or the figure's default."""

    path: str
    value: Any
    provenance: Published | Illustrative | Projection | None
    stated_by: Literal["version", "default"] | None
    changed: bool  # differs from the default its field declares


class ProvenanceError(ValueError):
    """A figure without provenance, or a changed figure with only its default's."""


_MISSING = object()


def provenance_of(field: Any) -> Published | Illustrative | Projection | None:
    """The provenance a model field declares in its metadata, if any."""
    for item in getattr(field, "metadata", ()):
        if isinstance(item, Published | Illustrative | Projection):
            return item
    return None


def walk(
    model: BaseModel, sources: Mapping[str, Published | Illustrative | Projection], skip: set[str]
) -> Iterator[Figure]:
    """Every figure of `model`: a node with provenance is one figure (a dict of points, a
    year's quota), unless a version's source names something inside it; then its parts are."""
    for name, field in type(model).model_fields.items():
        if name in skip:
            continue
        default = _MISSING if field.is_required() else field.get_default(call_default_factory=True)
        yield from _node(getattr(model, name), name, sources, provenance_of(field), default)


def _node(
    value: Any,
    path: str,
    sources: Mapping[str, Published | Illustrative | Projection],
    declared: Published | Illustrative | Projection | None,
    default: Any,
    by_version: bool = False,
) -> Iterator[Figure]:
    """`by_version`: `declared` is what the version's sources state for a table holding this
    figure (a year's quota, one region of which the version states apart)."""
    own = sources.get(path)
    prov = own or declared
    stated: Literal["version", "default"] = "version" if own or by_version else "default"
    nested = any(k.startswith(path + ".") for k in sources)
    if prov is not None and not nested:
        changed = default is _MISSING or _json(value) != _json(default)
        yield Figure(path, _json(value), prov, stated, changed)
        return
    children = list(_children(value, default))
    if not children:
        if isinstance(value, Mapping | tuple | list):
            return  # an empty table holds no figure
        yield Figure(path, _json(value), prov, None if prov is None else stated, False)
        return
    for key, child, child_default, child_declared in children:
        if own is not None or by_version:
            inherited, from_version = prov, True
        else:
            inherited, from_version = child_declared or declared, False
        yield from _node(child, f"{path}.{key}", sources, inherited, child_default, from_version)


def _children(value: Any, default: Any) -> Iterator[tuple[str, Any, Any, Any]]:
    if isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            d = getattr(default, name, _MISSING) if isinstance(default, BaseModel) else _MISSING
            yield name, getattr(value, name), d, provenance_of(field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            d = default.get(key, _MISSING) if isinstance(default, Mapping) else _MISSING
            yield str(key), item, d, None
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            d = default[i] if isinstance(default, tuple | list) and i < len(default) else _MISSING
            yield str(i), item, d, None


def _json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    return value


def problems(figures: list[Figure]) -> list[str]:
    """What is wrong with a version's provenance, one line per figure, naming it."""
    found = []
    for f in figures:
        if f.provenance is None:
            found.append(f"{f.path}: no provenance (published source, ILLUSTRATIVE or PROJECTION)")
        elif f.changed and f.stated_by == "default":
            found.append(
                f"{f.path}: changed from its default but the version states no provenance for it"
            )
    return found


def describe(prov: Published | Illustrative | Projection) -> str:
    """The provenance as `kosh policy show` and the console print it in a figure's row (a
    published source's words are printed once, under the figures: `cited`)."""
    if isinstance(prov, Published):
        return f"published: {prov.row} ({prov.source})"
    if isinstance(prov, Illustrative):
        return f"ILLUSTRATIVE: {prov.reason}"
    return f"PROJECTION: {prov.basis}"


def cited(figures: list[Figure]) -> list[Published]:
    """The published sources the figures cite, each once, in the order first cited."""
    found: list[Published] = []
    for f in figures:
        if isinstance(f.provenance, Published) and f.provenance not in found:
            found.append(f.provenance)
    return found


def record(figure: Figure) -> dict[str, Any]:
    """A figure as JSON: path, value, provenance kind and its source, reason or basis."""
    prov = figure.provenance
    assert prov is not None, f"{figure.path} has no provenance"
    detail = {k: v for k, v in asdict(prov).items() if k != "kind"}
    return {
        "figure": figure.path,
        "value": figure.value,
        "provenance": prov.kind,
        **detail,
        "stated_by": figure.stated_by,
    }


def render(value: Any) -> str:
    """A figure's value on one line: `18-24: 80`-like tables without JSON's punctuation."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {render(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "; ".join(render(v) for v in value)
    return str(value)
