"""Policy drafts from files: `kosh policy diff DRAFT [--against VERSION]` reads a draft
(JSON or YAML, domain/policy_draft.py), checks it as the versions in force are checked and
lists every figure it changes. A draft is never a version in force: no case reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from cli.common import JsonFlag, StateOpt, _emit, err, fail, out
from cli.published import record_versions
from cli.tables import row, table
from domain.policy import Policy, policy_by_id, versions
from domain.policy_draft import DraftError, as_record, diff, draft_base, read_draft
from domain.provenance import render

DraftArg = Annotated[
    Path, typer.Argument(help="The draft: a .json, .yaml or .yml file (README: Policy drafts).")
]


def load_draft(path: Path) -> Policy:
    """The draft in the file as a version, or exit 2 naming each problem."""
    data = parse_file(path)
    try:
        return read_draft(data, versions())
    except DraftError as exc:
        err.print(f"[red]error:[/red] the draft {path} is refused:")
        for field, rule in exc.problems:
            err.print(f"  {field}: {rule}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def parse_file(path: Path) -> Any:
    """A draft file's data: JSON or YAML by its suffix (YAML, a superset, otherwise)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read the draft {path}: {exc.strerror or exc}", 2)
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        fail(f"the draft {path} is not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}", 2)
    except yaml.YAMLError as exc:
        fail(f"the draft {path} is not YAML: {exc}", 2)


def policy_diff(
    draft: DraftArg,
    against: Annotated[
        str | None,
        typer.Option(help="The version to compare with (default: the one the draft revises)."),
    ] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a policy draft and list every figure it changes against a version in force:
    the value there, the value in the draft and the draft's provenance for it. Exit 2 when
    the draft is refused (each problem names the figure and the rule)."""
    # a draft may revise a published version, or be compared with one
    record_versions(state, required=False)
    drafted = load_draft(draft)
    try:
        base = policy_by_id(against) if against else draft_base(parse_file(draft), versions())
    except LookupError as exc:
        fail(f"{exc} (known versions: {', '.join(v.id for v in versions())})", 2)
    changes = diff(base, drafted)
    if as_json:
        record = {"draft": drafted.id, "against": base.id, "changes": as_record(changes)}
        _emit(record, True, "")
        return
    out.print(
        f"[bold]Draft {drafted.id}[/bold], from {drafted.effective_from}: {drafted.note}\n"
        f"against {base.id}: {len(changes)} figure{'s' if len(changes) != 1 else ''} change",
        markup=True,
        highlight=False,
    )
    shown = table("Changed figures", "Figure", f"In {base.id}", f"In {drafted.id}", "Provenance")
    for c in changes:
        row(shown, c.path, _value(c.before), _value(c.after), c.provenance)
    out.print(shown)


def _value(value: Any) -> str:
    return "(none)" if value is None else render(value)
