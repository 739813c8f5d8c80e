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


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "KOSH_CODEC_KEYS_FILE"),
        ({"KOSH_CODEC_KEYS": "keys"}, "KOSH_DATABASE_URL"),
        (
            {
                "KOSH_CODEC_KEYS": "keys",
                "KOSH_DATABASE_URL": "postgresql://k@127.0.0.1:1/k",
                "KOSH_CODEC_OIDC_ISSUER": "https://idp.example/realms/kosh",
            },
            "KOSH_CODEC_OIDC_AUDIENCE",
        ),
    ],
)
def test_the_codec_server_refuses_to_start_without_what_it_needs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], named: str
) -> None:
    """Keys to open payloads, the database that checks staff and keeps the access log, and
    an OIDC issuer's audience and keys when one is set; no operator token exists any more."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "KOSH_CODEC_KEYS_FILE",
        "KOSH_CODEC_KEYS",
        "KOSH_DATABASE_URL",
        "KOSH_TEMPORAL_ADDRESS",
        "KOSH_CODEC_OIDC_ISSUER",
        "KOSH_CODEC_OIDC_AUDIENCE",
        "KOSH_CODEC_OIDC_JWKS_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KOSH_STATE_DIR", str(tmp_path / "state"))
    for name, value in env.items():
        monkeypatch.setenv(name, CodecKeys.generate().to_json() if value == "keys" else value)
    result = runner.invoke(app, ["codec-server"])
    assert result.exit_code == 2
    assert named in result.output
