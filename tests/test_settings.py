"""The worker's settings come from the environment; a bad value stops it with the name."""

from __future__ import annotations

import pytest

from worker import Settings, run_worker


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KOSH_DB_POOL_SIZE", "KOSH_TEMPORAL_ADDRESS", "KOSH_MIGRATE_ON_START"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert (settings.db_pool_size, settings.temporal_address) == (10, "localhost:7233")
    assert settings.migrate_on_start is False


def test_pool_size_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOSH_DB_POOL_SIZE", "25")
    assert Settings.from_env().db_pool_size == 25


@pytest.mark.parametrize(("raw", "rule"), [("many", "whole number"), ("0", "at least 1")])
def test_a_bad_pool_size_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str, rule: str
) -> None:
    monkeypatch.setenv("KOSH_DB_POOL_SIZE", raw)
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert "KOSH_DB_POOL_SIZE" in str(stopped.value) and rule in str(stopped.value)


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({}, "KOSH_DATABASE_URL"),
        ({"KOSH_DATABASE_URL": "postgresql://k@127.0.0.1:1/k"}, "KOSH_AGENCIES_URL"),
        (
            {
                "KOSH_DATABASE_URL": "postgresql://k@127.0.0.1:1/k",
                "KOSH_AGENCIES_URL": "http://127.0.0.1:1",
            },
            "KOSH_CALLBACK_URL",
        ),
    ],
)
async def test_a_worker_without_a_setting_it_needs_names_it(
    monkeypatch: pytest.MonkeyPatch, present: dict[str, str], missing: str
) -> None:
    for name in ("KOSH_DATABASE_URL", "KOSH_AGENCIES_URL", "KOSH_CALLBACK_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        await run_worker(Settings.from_env())
    assert f"{missing} is not set" in str(stopped.value)
