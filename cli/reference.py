"""What kosh knows without a server: its settings (`kosh settings`), the versioned rules
(`kosh policy show`) and the published JSON Schemas (`kosh schema`)."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer

from cli.common import JsonFlag, StateOpt, _emit, fail, out
from cli.connect import redacted
from cli.published import record_versions
from cli.tables import row, table
from domain.application import Application
from domain.policy import Policy, in_force, policy_by_id, versions
from domain.provenance import cited, describe, record, render
from domain.regions import ALL_REGIONS, Region
from settings import Settings, configuration_doc, env_name

policy_app = typer.Typer(no_args_is_help=True, help="The versioned rules.")
schema_app = typer.Typer(no_args_is_help=True, help="Published JSON Schemas.")


def settings_cmd(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print docs/configuration.md's table instead.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Every KOSH_* setting and its value here (secrets masked); --markdown documents them."""
    if markdown:
        sys.stdout.write(configuration_doc())
        return
    current = Settings.from_env()
    values = {env_name(k): v for k, v in current.model_dump(mode="json").items()}
    values["KOSH_DATABASE_URL"] = redacted(values["KOSH_DATABASE_URL"])
    lines = [f"{name}={'' if value is None else value}" for name, value in values.items()]
    _emit(values, as_json, "\n".join(lines))


@policy_app.command("show")
def policy_show(
    version: Annotated[str | None, typer.Option(help="Policy id, e.g. 2026.1.")] = None,
    on: Annotated[str | None, typer.Option(help="The version in force on this date.")] = None,
    region: Annotated[
        str | None,
        typer.Option(help="...in this region (a new case there takes it); default: the rest."),
    ] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Print a policy version (default: the one in force today): where and from when it takes
    effect, and every figure with its value and provenance (published with its source,
    ILLUSTRATIVE with the reason, PROJECTION with its basis). The versions published in the
    record are read from it (KOSH_DATABASE_URL, or a running `kosh dev`)."""
    if region is not None and region not in ALL_REGIONS:
        fail(f"--region {region}: not one of {', '.join(ALL_REGIONS)}", 2)
    _, source = record_versions(state, required=False)
    try:
        day = date.fromisoformat(on) if on else date.today()
        where_: Region | None = region  # type: ignore[assignment]  # checked just above
        p = policy_by_id(version) if version else in_force(day, where_, versions())
    except (LookupError, ValueError) as exc:
        fail(f"{exc} (known versions: {', '.join(x.id for x in versions())}; {source})", 2)
    if as_json:
        _emit(policy_record(p), True, "")
        return
    asked = "" if version else f" (in force{f' in {region}' if region else ''} on {day})"
    out.print(f"[bold]Policy {p.id}[/bold]{asked}: {p.takes_effect()}. {p.note}")
    figures = p.figures()
    shown = table("Figures", "Figure", "Value", "Provenance")
    for f in figures:
        assert f.provenance is not None  # a version without one is refused when built
        row(shown, f.path, render(f.value), describe(f.provenance))
    out.print(shown)
    sources = table("Published sources (shared/POLICY-SOURCES.md)", "Row", "Source", "Says")
    for s in cited(figures):
        row(sources, s.row, s.source, s.says)
    out.print(sources)


def policy_record(p: Policy) -> dict[str, Any]:
    """`kosh policy show --json`: the version and each figure with its provenance."""
    return {
        "id": p.id,
        "effective_from": p.effective_from.isoformat(),
        "phased_from": {r: d.isoformat() for r, d in p.phased_from.items()},
        "note": p.note,
        "figures": [record(f) for f in p.figures()],
    }


@schema_app.command("application")
def schema_application() -> None:
    """The JSON Schema an application file must satisfy."""
    sys.stdout.write(json.dumps(Application.model_json_schema(), indent=2) + "\n")
