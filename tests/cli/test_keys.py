"""`kosh keys` makes and rotates payload keys and makes employer keys; `kosh codec-server`
refuses to start unsafe."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.codec import CodecKeys
from cli.main import app

runner = CliRunner()


def test_new_then_rotate_keeps_every_old_key(tmp_path: Path) -> None:
    made = runner.invoke(app, ["keys", "new", "--id", "2026-a"])
    assert made.exit_code == 0
    first = CodecKeys.from_json(made.stdout, source="stdout")
    assert first.active == "2026-a"
    path = tmp_path / "keys.json"
    path.write_text(made.stdout)

    rotated = runner.invoke(app, ["keys", "rotate", str(path), "--id", "2026-b"])
    assert rotated.exit_code == 0, rotated.output
    after = CodecKeys.from_json(path.read_text(), source=str(path))
    assert after.active == "2026-b"
    assert after.keys["2026-a"] == first.keys["2026-a"]
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["keys", "new", "--id", "bad id"], "--id"),
        (["keys", "rotate", "/no/such/file.json", "--id", "k2"], "/no/such/file.json"),
    ],
)
def test_bad_input_exits_2_naming_it(args: list[str], named: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert named in result.output


def test_an_employer_key_is_32_random_bytes() -> None:
    made = [runner.invoke(app, ["keys", "employer"]) for _ in range(2)]
    assert all(m.exit_code == 0 for m in made)
    first, second = (base64.b64decode(m.stdout.strip(), validate=True) for m in made)
    assert len(first) == 32 and first != second


def test_the_codec_server_needs_an_operator_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOSH_CODEC_OPERATOR_TOKEN", raising=False)
    result = runner.invoke(app, ["codec-server"])
    assert result.exit_code == 2
    assert "KOSH_CODEC_OPERATOR_TOKEN" in result.output
