"""A person's JSON file meets kosh's input limits (adapters/limits.py) before it is parsed:
too large, nested too deep, a key given twice: `kosh submit` and `kosh employer request` exit
2 naming the rule, print no traceback, and contact no server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from adapters.limits import MAX_FILE_BYTES, MAX_JSON_DEPTH
from tests.cli.test_cli import EXAMPLES, KANDAS, connects, flat, isolated, run

__all__ = ["connects", "isolated"]  # test_cli's fixtures, used here
KOSH = Path(sys.executable).parent / "kosh"
REQUEST = EXAMPLES / "employer-request.json"
COMMANDS = [("submit",), ("employer", "request")]


def kosh(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed `kosh`, as the tester ran it."""
    env = {**os.environ, "KOSH_STATE_DIR": str(cwd / "state"), "COLUMNS": "250"}
    env["KOSH_TEMPORAL_ADDRESS"] = "127.0.0.1:1"  # nothing listens
    return subprocess.run(
        [str(KOSH), *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )


def refused(done: Any, *says: str) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    text = flat(done.stderr)
    for words in says:
        assert words in text, text
    return text


# the tester's three files, through the installed command ------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_50_mb_file_is_refused_by_its_size(isolated: Path, command: tuple[str, ...]) -> None:
    path = isolated / "big.json"
    with path.open("w") as f:  # a 50 MB application: one huge name
        f.write('{"full_name": "')
        f.write("x" * (50 * 1024 * 1024))
        f.write('"}')
    size = path.stat().st_size
    text = refused(kosh(*command, str(path), cwd=isolated), f"big.json: {size:,} bytes")
    assert "an input file may be at most 262,144 bytes (256 KiB) (rule input_file_size)" in text


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_json_nested_100000_deep_is_refused_naming_the_rule(
    isolated: Path, command: tuple[str, ...]
) -> None:
    path = isolated / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    refused(
        kosh(*command, str(path), cwd=isolated),
        "deep.json: JSON nested more than 32 levels deep (line 1, column 33) (rule json_depth)",
    )


@pytest.mark.parametrize(
    ("command", "example", "key"),
    [(("submit",), KANDAS, "track"), (("employer", "request"), REQUEST, "region")],
    ids=["submit", "employer request"],
)
def test_a_duplicate_key_is_refused_naming_the_key_and_where(
    isolated: Path, command: tuple[str, ...], example: Path, key: str
) -> None:
    text = example.read_text()
    first = text.index(f'"{key}"')
    path = isolated / "twice.json"
    path.write_text(text[:first] + f'"{key}": "x",\n  ' + text[first:])  # the later one "wins"
    refused(
        kosh(*command, str(path), cwd=isolated),
        f"twice.json: key '{key}' appears twice in the document (rule json_duplicate_key)",
    )


# the limits' edges, in-process -------------------------------------------------------------


def nested(depth: int) -> str:
    """An application whose `family` holds lists `depth` levels deep in all."""
    data = json.loads(KANDAS.read_text())
    data["family"] = "@"
    return json.dumps(data).replace('"@"', "[" * (depth - 1) + "]" * (depth - 1))


def write(isolated: Path, content: str) -> str:
    path = isolated / "app.json"
    path.write_text(content)
    return str(path)


def test_the_depth_limit_is_32(isolated: Path, connects: list[str]) -> None:
    at_limit = run("submit", write(isolated, nested(MAX_JSON_DEPTH)))
    assert at_limit.exit_code == 2 and "is not a valid application" in flat(at_limit.stderr)
    over = run("submit", write(isolated, nested(MAX_JSON_DEPTH + 1)))
    assert over.exit_code == 2 and "rule json_depth" in flat(over.stderr)
    assert connects == []


def test_brackets_in_a_string_are_not_nesting(isolated: Path, connects: list[str]) -> None:
    data = json.loads(KANDAS.read_text()) | {"nickname": '[{"\\' * 40}
    result = run("submit", write(isolated, json.dumps(data)))
    assert result.exit_code == 2
    assert "json_depth" not in result.stderr
    assert "nickname: Extra inputs are not permitted" in flat(result.stderr)


def test_a_nested_duplicate_is_named_with_its_path(isolated: Path, connects: list[str]) -> None:
    text = KANDAS.read_text().replace('"born_on": "2016-06-21"', '"born_on": "x", "born_on": "y"')
    result = run("submit", write(isolated, text))
    assert result.exit_code == 2
    assert "key 'born_on' appears twice in family.1 (rule json_duplicate_key)" in flat(
        result.stderr
    )
    assert connects == []


def test_a_file_at_the_limit_is_read(isolated: Path, connects: list[str]) -> None:
    text = KANDAS.read_text()
    padded = text + " " * (MAX_FILE_BYTES - len(text.encode()))
    result = run("submit", write(isolated, padded))
    assert result.exit_code == 1 and "cannot reach Temporal" in flat(result.stderr)
    over = run("submit", write(isolated, padded + " "))
    assert over.exit_code == 2 and "262,145 bytes" in flat(over.stderr)


def test_a_large_file_is_never_read_whole(isolated: Path, connects: list[str]) -> None:
    path = isolated / "big.json"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    tracemalloc.start()
    try:
        result = run("submit", str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 2 and "rule input_file_size" in flat(result.stderr)
    assert peak < 5 * 1024 * 1024


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_file_is_read_to_the_limit_only(connects: list[str]) -> None:
    result = run("submit", "/dev/zero")  # no size to stat: read one byte past the limit
    assert result.exit_code == 2
    assert "/dev/zero: more than 262,144 bytes" in flat(result.stderr)


def test_a_number_too_long_to_convert_is_not_json(isolated: Path, connects: list[str]) -> None:
    result = run("submit", write(isolated, '{"full_name": ' + "9" * 5000 + "}"))
    assert result.exit_code == 2 and "not JSON" in flat(result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit)
