"""The design card's layout exists, and imports point down only.

cli/, worker.py -> workflows/, activities/ -> adapters/, store/ -> domain/ (DESIGN.md, STYLE.md).
The arrow check reads every module with `ast` (nothing is imported or executed) and names the
file, the line and the offending import.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYOUT = (
    "pyproject.toml",
    "README.md",
    "Makefile",
    ".ci/run",
    "worker.py",
    "docker-compose.yml",
    "domain/",
    "adapters/",
    "store/",
    "activities/",
    "workflows/",
    "cli/",
    "tests/",
)

# Every top-level name that belongs to the project (tests and bench are never imported by code).
PROJECT = frozenset(
    {
        "domain",
        "adapters",
        "store",
        "activities",
        "workflows",
        "cli",
        "console",
        "worker",
        "settings",
        "tests",
        "bench",
    }
)

# Layer -> the project packages it may import (itself included).
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset({"domain"}),
    "adapters": frozenset({"adapters", "domain"}),
    "store": frozenset({"store", "domain"}),
    "activities": frozenset({"activities", "adapters", "store", "domain"}),
    "workflows": frozenset({"workflows", "activities", "adapters", "domain"}),
    "worker": frozenset({"settings", "workflows", "activities", "adapters", "store", "domain"}),
    # every knob, declared once (its defaults come from the workflows' public api)
    "settings": frozenset({"settings", "workflows", "adapters", "domain"}),
    # the staff console reads cases (the workflow's public api, the record) and sends updates
    "console": frozenset({"console", "workflows", "store", "domain"}),
    "cli": frozenset(
        {
            "cli",
            "console",
            "worker",
            "settings",
            "workflows",
            "activities",
            "adapters",
            "store",
            "domain",
        }
    ),
}

# domain/ is pure: the standard library and pydantic, nothing else from outside.
DOMAIN_THIRD_PARTY = frozenset({"pydantic"})

# Workflows use adapters' models only (they live in adapters.ports), never a client or simulator.
WORKFLOW_ADAPTER_MODULES = ("adapters.ports",)


def layer_of(relative: str) -> str:
    """`domain/scoring.py` -> `domain`; `worker.py` -> `worker`."""
    first = Path(relative).parts[0]
    return first.removesuffix(".py")


def _package_of(relative: str) -> list[str]:
    """Dotted package a module lives in, for resolving relative imports."""
    parts = list(Path(relative).with_suffix("").parts)
    return parts[:-1]


def imported_modules(relative: str, source: str) -> list[tuple[int, str, str]]:
    """(line, dotted module, statement) for every import in the source, relative ones resolved.

    `from a import b` yields `a.b`: b may be a submodule, and the finer name is what the
    workflows -> adapters.ports rule needs. Imports inside functions and TYPE_CHECKING blocks
    count too: a lazy import is still an arrow.
    """
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(ast.parse(source, filename=relative)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, ast.unparse(node)) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(relative)
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            prefix = f"{module}." if module else ""
            found.extend(
                (node.lineno, prefix + alias.name, ast.unparse(node)) for alias in node.names
            )
    return found


def _arrow_error(layer: str, module: str) -> str | None:
    top = module.split(".")[0]
    if top in PROJECT:
        if top not in ALLOWED[layer]:
            allowed = ", ".join(sorted(ALLOWED[layer] - {layer})) or "no other project package"
            return f"{layer} must not import {top} (it may import {allowed})"
        if layer == "workflows" and top == "adapters":
            ok = any(module == m or module.startswith(m + ".") for m in WORKFLOW_ADAPTER_MODULES)
            if not ok:
                return f"workflows may use adapters' models only (adapters.ports), not {module}"
        return None
    if layer == "domain" and top not in sys.stdlib_module_names and top not in DOMAIN_THIRD_PARTY:
        return f"domain may import only the standard library and pydantic, not {top}"
    return None


def wrong_arrows(relative: str, source: str) -> list[str]:
    """Every import in `source` (the file at `relative`) that points the wrong way."""
    layer = layer_of(relative)
    errors: list[str] = []
    for line, module, statement in imported_modules(relative, source):
        reason = _arrow_error(layer, module)
        error = f"{relative}:{line}: `{statement}`: {reason}"
        if reason and error not in errors:
            errors.append(error)
    return errors


def layered_files() -> list[Path]:
    modules = ("worker", "settings")
    folders = sorted(layer for layer in ALLOWED if layer not in modules)
    files = [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]
    return [*files, *(ROOT / f"{module}.py" for module in modules)]


@pytest.mark.parametrize("entry", LAYOUT)
def test_the_design_cards_layout_exists(entry: str) -> None:
    path = ROOT / entry
    if entry.endswith("/"):
        assert path.is_dir(), f"{entry} is missing (DESIGN.md: Layers)"
    else:
        assert path.is_file(), f"{entry} is missing (DESIGN.md: Layers)"


def test_imports_point_down_only() -> None:
    files = layered_files()
    assert len(files) > len(ALLOWED), "the layer folders look empty: is ROOT right?"
    errors = [
        error
        for path in files
        for error in wrong_arrows(
            path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
        )
    ]
    assert not errors, "imports pointing the wrong way:\n" + "\n".join(errors)


@pytest.mark.parametrize(
    ("relative", "source", "offender"),
    [
        ("domain/fake.py", "import temporalio\n", "not temporalio"),
        ("domain/fake.py", "from temporalio import workflow\n", "not temporalio"),
        ("domain/fake.py", "def f() -> None:\n    import asyncpg\n", "not asyncpg"),
        ("domain/fake.py", "import structlog\n", "not structlog"),
        ("domain/fake.py", "from store.events import append_events\n", "not import store"),
        ("domain/fake.py", "from ..adapters import ports\n", "not import adapters"),
        ("adapters/fake.py", "from store import pool\n", "not import store"),
        ("store/fake.py", "from activities import models\n", "not import activities"),
        ("activities/fake.py", "from workflows import api\n", "not import workflows"),
        ("workflows/fake.py", "from store.pool import create_pool\n", "not import store"),
        ("workflows/fake.py", "from adapters.simulator import Sim\n", "not adapters.simulator"),
        ("workflows/fake.py", "import worker\n", "not import worker"),
        ("worker.py", "from cli.main import app\n", "not import cli"),
        ("store/migrations/fake.py", "from ... import worker\n", "not import worker"),
    ],
)
def test_the_check_reports_a_wrong_arrow(relative: str, source: str, offender: str) -> None:
    errors = wrong_arrows(relative, source)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{relative}:"), errors
    assert offender in errors[0], errors


@pytest.mark.parametrize(
    ("relative", "source"),
    [
        ("domain/fake.py", "from __future__ import annotations\nimport datetime\n"),
        ("domain/fake.py", "from pydantic import BaseModel\nfrom . import model\n"),
        ("activities/fake.py", "import asyncpg\nfrom adapters.ports import Payments\n"),
        ("workflows/fake.py", "from adapters.ports import StaffNotice\nfrom domain import ev\n"),
        ("cli/fake.py", "import worker as composition\nfrom store.pool import create_pool\n"),
    ],
)
def test_the_check_accepts_a_right_arrow(relative: str, source: str) -> None:
    assert wrong_arrows(relative, source) == []
