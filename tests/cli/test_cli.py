"""The `kosh` command without servers: help, schema, policy, and every refusal of bad input.

Exit codes: 0 ok, 2 bad input, 1 other failure. Bad input must be refused before any
server is contacted, so `connect` is replaced by a recorder that fails the test if called.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main
from typer.testing import CliRunner, Result

import cli.main
import worker
from domain.application import Application
from domain.policy import POLICIES, policy_by_id, policy_in_force
from tests.policy_versions import with_second_phase

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KANDAS = EXAMPLES / "kandas-family.json"
INTERVIEW = ["interview", "c-1", "--pass"]


def free_port() -> int:
    """A port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A fresh cwd and state dir, and a Temporal address where nothing listens."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KOSH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KOSH_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    monkeypatch.delenv("KOSH_DATABASE_URL", raising=False)
    monkeypatch.delenv("KOSH_NAMESPACE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at 80 otherwise
    yield tmp_path
    assert not (tmp_path / ".kosh").exists()
    assert not (tmp_path / "state").exists()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Addresses the CLI tried to connect to (it never succeeds)."""
    calls: list[str] = []

    async def connect(address: str, namespace: str = "default", **options: Any) -> Any:
        calls.append(address)
        raise RuntimeError("test: no server")

    monkeypatch.setattr(worker, "connect", connect)  # the composition root's, which all use
    return calls


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main.app, list(args))


def flat(text: str) -> str:
    """Output with rich's line wrapping and box drawing undone, for substring checks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def write(tmp: Path, name: str, content: str | bytes) -> str:
    path = tmp / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def example(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(KANDAS.read_text())
    return data | over


# help ---------------------------------------------------------------------------------------


def commands(
    group: typer.core.TyperGroup, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, typer.core.TyperGroup):
            yield from commands(command, (*path, name))


ROOT = typer.main.get_command(cli.main.app)
assert isinstance(ROOT, typer.core.TyperGroup)
ALL_COMMANDS = dict(commands(ROOT))


def test_top_level_help_lists_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    text = flat(result.output)
    for name in ("dev", "worker", "submit", "status", "interview", "policy", "schema"):
        assert re.search(rf"\b{name}\b", text), name
    assert "Exit codes: 0 ok, 2 bad input, 1 other failure" in text


@pytest.mark.parametrize("path", sorted(ALL_COMMANDS), ids=" ".join)
def test_every_command_help_exits_0_and_mentions_each_option(path: tuple[str, ...]) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    for param in ALL_COMMANDS[path].params:
        if isinstance(param, typer.core.TyperOption):
            for opt in (*param.opts, *param.secondary_opts):
                assert opt in text, f"{' '.join(path)} --help does not mention {opt}"


BRIEF_OPTIONS = [
    (("submit",), ("--case-id", "--json", "--state")),
    (("status",), ("--json", "--state")),
    (("interview",), ("--pass", "--fail", "--points", "--notes", "--json")),
    (("policy", "show"), ("--version", "--on", "--json")),
    (("dev",), ("--port", "--ui-port", "--demo", "--state")),
]


@pytest.mark.parametrize(("path", "options"), BRIEF_OPTIONS, ids=lambda x: " ".join(x))
def test_documented_options_exist(path: tuple[str, ...], options: tuple[str, ...]) -> None:
    text = flat(run(*path, "--help").output)
    assert all(o in text for o in options), text


# schema and policy --------------------------------------------------------------------------


def test_schema_application_is_the_application_json_schema() -> None:
    result = run("schema", "application")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == Application.model_json_schema()
    assert set(schema["required"]) == {
        "full_name",
        "born_on",
        "citizenship",
        "track",
        "ethnic_kazakh",
        "document",
        "questionnaire",
    }
    assert schema["additionalProperties"] is False


def shown(*args: str) -> dict[str, Any]:
    result = run("policy", "show", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_policy_show_defaults_to_the_version_in_force_today() -> None:
    assert shown()["id"] == policy_in_force(date.today()).id == "2026.1"


@pytest.mark.parametrize("version", [p.id for p in POLICIES])
def test_policy_show_json_gives_every_figure_its_value_and_provenance(version: str) -> None:
    policy = policy_by_id(version)
    data = shown("--version", version)
    assert (data["id"], data["effective_from"]) == (policy.id, policy.effective_from.isoformat())
    figures = {f["figure"]: f for f in data["figures"]}
    assert list(figures) == [f.path for f in policy.figures()]
    dump = policy.model_dump(mode="json")
    for path, f in figures.items():
        value: Any = dump
        for part in path.split("."):
            value = value[part]
        assert f["value"] == value, path
        assert {
            "published": {"source", "says", "row"},
            "illustrative": {"reason"},
            "projection": {"basis"},
        }[f["provenance"]] <= set(f), path
    kinds = {f["provenance"] for f in figures.values()}
    assert kinds == {"published", "illustrative", "projection"}
    assert figures["mrp_tenge.2027"] == {
        "figure": "mrp_tenge.2027",
        "value": 4325,
        "provenance": "projection",
        "basis": "2026 carried forward, not published",
        "stated_by": "version",
    }
    assert figures["support.relocation_subsidy_mrp_per_member"]["source"].startswith(
        "lada.kz news 147686"
    )


def test_policy_show_on_a_date_and_a_registered_second_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert shown("--on", "2026-07-01")["id"] == "2026.1"
    second = with_second_phase(monkeypatch)
    assert shown("--on", "2026-06-30")["id"] == "2026.1"
    assert shown("--on", "2026-07-01")["id"] == second.id
    changed = {f["figure"]: f for f in shown("--version", second.id)["figures"]}
    assert changed["contract.monitoring_interval_days"]["value"] == 91
    assert changed["contract.monitoring_interval_days"]["reason"] == "test only: quarterly checks"
    assert changed["contract.monitoring_interval_days"]["stated_by"] == "version"


def test_policy_show_human_output_marks_each_figures_provenance() -> None:
    result = run("policy", "show", "--version", "2026.1")
    assert result.exit_code == 0
    text = flat(result.output)
    assert "Policy 2026.1" in text
    assert "ILLUSTRATIVE: no interview deadline is published" in text
    assert "PROJECTION: 2026 carried forward, not published" in text
    assert "published: Relocation subsidy for kandas (lada.kz news 147686" in text
    assert "one-time 70 MRP per family member (302,750 KZT in 2026)" in text  # what it says
    # every figure has its row: a figure path printed with its provenance
    for f in policy_by_id("2026.1").figures():
        assert f.path in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--version", "2030.9"), "unknown policy version '2030.9'"),
        (("--version", "2026.2"), "unknown policy version '2026.2'"),
        (("--on", "2025-12-31"), "no policy in force on 2025-12-31"),
        (("--on", "next tuesday"), "Invalid isoformat string"),
    ],
)
def test_policy_show_refusals_exit_2_naming_known_versions(
    args: tuple[str, ...], message: str
) -> None:
    result = run("policy", "show", *args)
    assert result.exit_code == 2
    text = flat(result.stderr)
    assert message in text
    assert "known versions: 2026.1" in text
    assert result.stdout == ""


# submit -------------------------------------------------------------------------------------


def test_submit_a_missing_file_exits_2(connects: list[str]) -> None:
    result = run("submit", "nowhere.json")
    assert result.exit_code == 2
    assert "nowhere.json: no such file" in flat(result.stderr)
    assert connects == []


@pytest.mark.parametrize("content", ["{not json", "", '{"full_name": "A",}'])
def test_submit_invalid_json_exits_2(isolated: Path, connects: list[str], content: str) -> None:
    result = run("submit", write(isolated, "bad.json", content))
    assert result.exit_code == 2
    assert "not JSON" in flat(result.stderr)
    assert connects == []


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: write(tmp, "latin1.json", '{"full_name": "Ay\u015fe"}'.encode("cp1254")),
        lambda tmp: str(tmp),
    ],
    ids=["not-utf8", "directory"],
)
def test_submit_an_unreadable_file_exits_2(isolated: Path, connects: list[str], make: Any) -> None:
    result = run("submit", make(isolated))
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)


def refusal(isolated: Path, data: Any) -> str:
    result = run("submit", write(isolated, "app.json", json.dumps(data)))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    text = flat(result.stderr)
    assert "is not a valid application" in text
    return text


def test_submit_names_every_offending_field(isolated: Path, connects: list[str]) -> None:
    data = example(preferred_regions=["Pavlodar", "Almaty"])
    data["document"] = data["document"] | {"number": "AB12-345"}
    text = refusal(isolated, data)
    assert "preferred_regions: Value error, preferred_regions ['Almaty']" in text
    assert "are not labour-deficit regions" in text
    assert "document.number: String should match pattern" in text
    assert connects == []


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"ethnic_kazakh": False}, "ethnic_kazakh"),
        ({"preferred_regions": []}, "preferred_regions"),
        ({"preferred_regions": ["Pavlodar", "Pavlodar"]}, "preferred_regions"),
        ({"preferred_regions": ["Atlantis"]}, "preferred_regions.0"),
        ({"born_on": "1899-12-31"}, "born_on"),
        ({"citizenship": "kz"}, "citizenship"),
        ({"track": "tourist"}, "track"),
        ({"nickname": "Nuke"}, "nickname: Extra inputs are not permitted"),
        ({"family": [{"relation": "cousin", "full_name": "X", "born_on": "2000-01-01"}]}, None),
    ],
)
def test_submit_refusals_name_the_field(
    isolated: Path, connects: list[str], over: dict[str, Any], field: str | None
) -> None:
    text = refusal(isolated, example(**over))
    assert (field or "family.0.relation") in text
    assert connects == []


def test_submit_a_json_array_is_refused_as_a_whole(isolated: Path) -> None:
    assert "(document): Input should be a valid dictionary" in refusal(isolated, [])


def test_submit_a_bad_case_id_exits_2_naming_case_id(connects: list[str]) -> None:
    result = run("submit", str(KANDAS), "--case-id", "bad id!")
    assert result.exit_code == 2
    text = flat(result.stderr)
    assert "invalid case id" in text
    assert "case_id: String should match pattern" in text
    assert connects == []


def test_submit_a_valid_file_with_no_server_exits_1() -> None:
    result = run("submit", str(KANDAS), "--case-id", "c-example")
    assert result.exit_code == 1
    assert "cannot reach Temporal" in flat(result.stderr)
    assert "submitted" not in result.stdout


# interview and status -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--points", "-1"), "points: Input should be greater than or equal to 0"),
        (("--points", "5", "--notes", "x" * 2001), "notes: String should have at most 2000"),
    ],
)
def test_interview_bad_input_exits_2_before_any_server(
    connects: list[str], args: tuple[str, ...], field: str
) -> None:
    result = run(*INTERVIEW, *args)
    assert result.exit_code == 2
    text = flat(result.stderr)
    assert "invalid interview outcome" in text
    assert field in text
    assert connects == []


@pytest.mark.parametrize(
    "args",
    [
        ("interview", "c-1", "--fail", "--points", "0"),
        ("fact", "c-1", "arrival", "--region", "Pavlodar"),
        ("fact", "c-1", "revocation", "--reason", "false statements", "--fault"),
    ],
)
def test_acting_needs_a_signed_in_member(connects: list[str], args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert "not signed in: run `kosh login STAFF_ID`" in flat(result.stderr)
    assert connects == []


def test_there_is_no_option_to_act_as_someone_else() -> None:
    for args in (
        ("interview", "c-1", "--pass", "--points", "1", "--interviewer", "staff-7"),
        ("fact", "c-1", "referral", "--approve", "--reason", "r", "--officer", "officer-3"),
    ):
        result = run(*args)
        assert result.exit_code == 2 and "No such option" in flat(result.output)


def test_interview_needs_an_outcome(connects: list[str]) -> None:
    result = run("interview", "c-1", "--points", "3")
    assert result.exit_code == 2
    assert "Missing option '--pass'" in flat(result.output)
    assert connects == []


@pytest.mark.parametrize("as_json", [False, True])
def test_status_without_a_server_exits_1_quickly(as_json: bool) -> None:
    started = time.monotonic()
    result = run("status", "c-1", *(["--json"] if as_json else []))
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    text = flat(result.stderr)
    assert "cannot reach Temporal at 127.0.0.1:" in text
    assert "start `kosh dev` or set KOSH_TEMPORAL_ADDRESS" in text
    assert result.stdout == ""
    assert elapsed < 5, f"connecting to a closed port took {elapsed:.1f}s"
