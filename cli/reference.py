"""What kosh knows without a server: its settings (`kosh settings`), the versioned rules
(`kosh policy show`) and the published JSON Schemas (`kosh schema`)."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer

from cli.common import JsonFlag, _emit, fail, out
from cli.connect import redacted
from cli.tables import row, table
from domain.application import Application
from domain.policy import Policy, policy_by_id, policy_in_force, versions
from domain.provenance import cited, describe, record, render
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
    as_json: JsonFlag = False,
) -> None:
    """Print a policy version (default: the one in force today): every figure with its value
    and provenance (published with its source, ILLUSTRATIVE with the reason, PROJECTION with
    its basis)."""
    try:
        p = (
            policy_by_id(version)
            if version
            else policy_in_force(date.fromisoformat(on) if on else date.today())
        )
    except (LookupError, ValueError) as exc:
        fail(f"{exc} (known versions: {', '.join(x.id for x in versions())})", 2)
    if as_json:
        _emit(policy_record(p), True, "")
        return
    out.print(f"[bold]Policy {p.id}[/bold], in force from {p.effective_from}: {p.note}")
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
        "note": p.note,
        "figures": [record(f) for f in p.figures()],
    }


@schema_app.command("application")
def schema_application() -> None:
    """The JSON Schema an application file must satisfy."""
    sys.stdout.write(json.dumps(Application.model_json_schema(), indent=2) + "\n")
