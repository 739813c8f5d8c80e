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
        "composition",
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
    "worker": frozenset(
        {"composition", "settings", "workflows", "activities", "adapters", "store", "domain"}
    ),
    # the parts the composition root assembles (worker.py is its entry point)
    "composition": frozenset(
        {"composition", "settings", "workflows", "activities", "adapters", "store", "domain"}
    ),
    # every knob, declared once (its defaults come from the workflows' public api)
    "settings": frozenset({"settings", "workflows", "adapters", "domain"}),
    # the staff console reads cases (the workflow's public api, the record) and sends updates,
    # each with its member's assertion (it is their issuer: adapters.assertions)
    "console": frozenset({"console", "workflows", "adapters", "store", "domain"}),
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


# ---- one house: no circles, no file a reader must page through -------------------------
MAX_LINES = 400
SOURCE_FOLDERS: tuple[str, ...] = (
    "domain",
    "adapters",
    "store",
    "activities",
    "workflows",
    "composition",
    "cli",
    "console",
    "bench",
)


def source_files() -> list[Path]:
    files = [p for folder in SOURCE_FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))]
    return [*files, ROOT / "worker.py", ROOT / "settings.py"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a `from a import b` names `a.b` when b is a
    module, else `a`)."""
    files = {module_name(p): p for p in source_files()}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        relative = path.relative_to(ROOT).as_posix()
        targets = set()
        for _, module, _ in imported_modules(relative, path.read_text(encoding="utf-8")):
            while module and module not in files:
                module = module.rpartition(".")[0]
            if module and module != name and not name.startswith(module + "."):
                targets.add(module)
        graph[name] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph = import_graph()
    assert len(graph) > 50, "no modules found: is ROOT right?"
    assert circles(graph) == []


def test_the_circle_check_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_source_file_needs_a_table_of_contents() -> None:
    """STYLE.md: small files. A file over MAX_LINES is two files."""
    long = {
        p.relative_to(ROOT).as_posix(): n
        for p in [*source_files(), *sorted((ROOT / "console").rglob("*.html"))]
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
