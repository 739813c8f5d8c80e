"""`kosh employer ...` without servers: the request file's refusals name field and rule and
come before any server is contacted; acting needs a signed-in member; the schema is the
model's; `kosh employer --help` lists every command. (Requests on the real stack:
tests/e2e/test_dev_demo.py and tests/e2e/test_employer_cli.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.labour import EmployerRequest
from tests.cli.test_cli import EXAMPLES, connects, flat, isolated, run, write  # noqa: F401

REQUEST = EXAMPLES / "employer-request.json"


def request(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REQUEST.read_text())
    return data | over


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"industry": "fishing"}, "industry: Input should be 'construction'"),
        ({"monthly_wage_tiyn": 0}, "monthly_wage_tiyn: Input should be greater than 0"),
        ({"months": 40}, "months: Input should be less than or equal to 36"),
        ({"project": "tengiz fgp"}, "project: String should match pattern"),
        ({"region": "Narnia"}, "region: Input should be 'Abai'"),
        ({"employer_id": ""}, "employer_id: String should have at least 1 character"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_a_bad_request_exits_2_naming_the_field(
    isolated: Path,  # noqa: F811
    connects: list[str],  # noqa: F811
    over: dict[str, Any],
    field: str,
) -> None:
    path = write(isolated, "r.json", json.dumps(request(**over)))
    result = run("employer", "request", path)
    assert result.exit_code == 2
    text = flat(result.stderr)
    assert "is not a valid employer request" in text and field in text
    assert connects == []


def test_a_minor_worker_is_refused_by_the_calendar_rule(
    isolated: Path,  # noqa: F811
    connects: list[str],  # noqa: F811
) -> None:
    worker = request()["worker"] | {"born_on": "2015-01-01"}
    path = write(isolated, "r.json", json.dumps(request(worker=worker)))
    result = run("employer", "request", path)
    assert result.exit_code == 2
    assert "worker.born_on: a foreign worker must be at least 18" in flat(result.stderr)
    assert connects == []


@pytest.mark.parametrize(("content", "says"), [("{", "not JSON"), ("[]", "valid employer")])
def test_not_a_request_at_all(
    isolated: Path,  # noqa: F811
    connects: list[str],  # noqa: F811
    content: str,
    says: str,
) -> None:
    result = run("employer", "request", write(isolated, "r.json", content))
    assert result.exit_code == 2 and says in flat(result.stderr)
    assert run("employer", "request", "missing.json").exit_code == 2
    assert connects == []


def test_a_valid_request_with_no_server_exits_1() -> None:
    result = run("employer", "request", str(REQUEST))
    assert result.exit_code == 1
    assert "cannot reach Temporal" in flat(result.stderr)


def test_recording_a_fact_needs_a_signed_in_member_and_a_valid_fact(
    connects: list[str],  # noqa: F811
) -> None:
    result = run("employer", "fact", "lr-1", "violation", "--violation", "wage_below_floor")
    assert result.exit_code == 2
    assert "not signed in" in flat(result.stderr)
    bad = run("employer", "fact", "lr-1", "violation", "--violation", "late_lunch")
    assert bad.exit_code == 2
    assert "violations.0: Input should be 'wage_below_floor'" in flat(bad.stderr)
    assert run("employer", "fact", "lr-1", "strike").exit_code == 2
    assert connects == []


def test_the_schema_is_the_request_model() -> None:
    result = run("employer", "schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == EmployerRequest.model_json_schema()


def test_the_employer_help_lists_its_commands() -> None:
    text = flat(run("employer", "--help").stdout)
    for command in ("request", "status", "fact", "list", "schema"):
        assert command in text
