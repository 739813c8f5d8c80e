"""Hostile application files through `kosh submit`: every one is refused naming a field (exit
2) or is a valid application that goes on to Temporal (none listens here: exit 1). Nothing
crashes, nothing is half-sent."""

from __future__ import annotations

import copy
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import cli.main
from tests.cli.test_cli import KANDAS, free_port

EXAMPLE = json.loads(KANDAS.read_text())
PATHS = [
    ("full_name",),
    ("born_on",),
    ("citizenship",),
    ("track",),
    ("ethnic_kazakh",),
    ("document", "number"),
    ("document", "expires_on"),
    ("questionnaire", "work_years"),
    ("questionnaire", "kazakh"),
    ("family",),
    ("family", 0, "full_name"),
    ("family", 0, "born_on"),
    ("preferred_regions",),
    ("preferred_regions", 0),
]
HOSTILE: st.SearchStrategy[Any] = (
    st.sampled_from(
        [
            "'; DROP TABLE events; --",
            "Robert'); DELETE FROM staff; --",
            "\u202eevil\u202c",
            "A\u0301",
            "\x00",
            "x" * 100_000,
            "2999-01-01",
            "1850-01-01",
            "2026-02-30",
            -1,
            -(2**63),
            2**70,
            1e309,
            None,
            True,
            [],
            {},
            "Atlantis",
            "ＰＡＶＬＯＤＡＲ",
            "Pavlodar\n",
        ]
    )
    | st.text(max_size=30)
    | st.integers()
)
FIELD_LINE = re.compile(r"^  ([A-Za-z_.0-9]+|\(document\)): .+", re.MULTILINE)


def mutated(path: tuple[Any, ...], value: Any) -> Any:
    data = copy.deepcopy(EXAMPLE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def submit(data: Any) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "application.json"
        file.write_text(json.dumps(data))
        return CliRunner().invoke(cli.main.app, ["submit", str(file)])


@pytest.fixture(autouse=True)
def nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KOSH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KOSH_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("COLUMNS", "250")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(PATHS), value=HOSTILE)
def test_a_hostile_application_is_refused_naming_a_field_or_sent(
    path: tuple[Any, ...], value: Any
) -> None:
    result = submit(mutated(path, value))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 2:
        assert "is not a valid application" in result.stderr
        assert FIELD_LINE.search(result.stderr), result.stderr
    else:
        assert result.exit_code == 1 and "cannot reach Temporal" in result.stderr


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("full_name",), "Nurlan\x00", "full_name"),
        (("full_name",), "\u202enalruN", "full_name"),
        (("born_on",), "2999-01-01", "born_on"),
        (("born_on",), "1850-01-01", "born_on"),
        (("family", 0, "born_on"), "2999-01-01", "family.0.born_on"),
        (("preferred_regions", 0), "Atlantis", "preferred_regions.0"),
        (("questionnaire", "work_years"), -1, "questionnaire.work_years"),
        (("full_name",), "x" * 100_000, "full_name"),
    ],
)
def test_hand_written_hostile_applications_name_the_field(
    path: tuple[Any, ...], value: Any, field: str
) -> None:
    result = submit(mutated(path, value))
    assert result.exit_code == 2
    assert f"  {field}: " in result.stderr


def test_a_family_listed_twice_is_refused() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["family"] = [data["family"][0], dict(data["family"][0])]
    result = submit(data)
    assert result.exit_code == 2 and "family.1: repeats family.0" in result.stderr
