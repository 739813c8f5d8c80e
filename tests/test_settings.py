"""The worker's settings come from the environment; a bad value stops it with the name; and
the composition root (worker.py) builds what they describe."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

import cli.main
import worker
from adapters.codec import CodecKeys
from adapters.http import AgencySettings
from adapters.notifier import LogNotifier, WebhookNotifier
from settings import COMPOSE_ONLY, Settings, env_name
from tests.cli.records_seed import db_url, fresh_db
from worker import run_worker

__all__ = ["db_url", "fresh_db"]  # the record tests' fixtures, used here too


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


ROOT = Path(__file__).resolve().parent.parent
CODE = [
    p
    for folder in ("domain", "adapters", "store", "activities", "workflows", "cli", "console")
    for p in (ROOT / folder).rglob("*.py")
] + [ROOT / "worker.py", ROOT / "settings.py"]


def test_every_kosh_variable_the_code_reads_is_declared_in_settings() -> None:
    declared = {env_name(field) for field in Settings.model_fields} | set(COMPOSE_ONLY)
    used = {
        (name, path.relative_to(ROOT).as_posix())
        for path in CODE
        for name in re.findall(r"\bKOSH_[A-Z][A-Z0-9_]*\b", path.read_text(encoding="utf-8"))
    }
    undeclared = sorted((name, where) for name, where in used if name not in declared)
    assert not undeclared, f"read but not in settings.Settings: {undeclared}"


def test_the_configuration_doc_is_current() -> None:
    result = CliRunner().invoke(cli.main.app, ["settings", "--markdown"])
    assert result.exit_code == 0
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == result.stdout, "regenerate: kosh settings --markdown > docs/configuration.md"
    for field in Settings.model_fields:
        assert f"`{env_name(field)}`" in doc


def test_settings_print_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOSH_AGENCIES_TOKEN", "agency-secret-123")
    monkeypatch.setenv("KOSH_DATABASE_URL", "postgresql://kosh:db-secret-456@db:5432/kosh")
    result = CliRunner().invoke(cli.main.app, ["settings", "--json"])
    assert result.exit_code == 0
    assert "agency-secret-123" not in result.stdout and "db-secret-456" not in result.stdout
    shown = json.loads(result.stdout)
    assert shown["KOSH_DATABASE_URL"] == "postgresql://kosh:***@db:5432/kosh"


@pytest.mark.parametrize(
    ("name", "raw", "rule"),
    [
        ("KOSH_AGENCIES_TIMEOUT", "soon", "must be a number"),
        ("KOSH_AGENCIES_TIMEOUT", "0", "must be more than 0"),
        ("KOSH_MIGRATE_ON_START", "perhaps", "must be true or false"),
        ("KOSH_LOG_LEVEL", "chatty", "KOSH_LOG_LEVEL='chatty'"),
        ("KOSH_MAX_CONCURRENT_WORKFLOW_TASKS", "1", "must be at least 2"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_rule(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str, rule: str
) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert name in str(stopped.value) and rule in str(stopped.value)


def test_payload_keys_come_from_the_file_or_inline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keys = CodecKeys.generate("k-1")
    path = tmp_path / "keys.json"
    path.write_text(keys.to_json())
    monkeypatch.setenv("KOSH_CODEC_KEYS_FILE", str(path))
    loaded = Settings.from_env().payload_keys
    assert loaded is not None and loaded.active == "k-1"
    monkeypatch.setenv("KOSH_CODEC_KEYS_FILE", str(tmp_path / "missing.json"))
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert "missing.json" in str(stopped.value)


# --- the composition root builds what the settings describe -----------------------------------


async def test_a_workers_services_come_from_its_settings_and_close_after(
    time_env: WorkflowEnvironment, db_url: str
) -> None:
    settings = Settings(
        temporal_address=time_env.client.service_client.config.target_host,
        database_url=db_url,
        db_pool_size=2,
        agencies_url="http://127.0.0.1:9/",
        agencies_timeout=3.0,
        callback_url="http://127.0.0.1:9/callbacks",
        staff_notices_url="http://127.0.0.1:9/notices",
        staff_notices_token=SecretStr("notices-token"),
    )
    async with worker.services(settings) as parts:
        async with parts.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM staff") > 0  # kosh's record
        assert parts.pool.get_max_size() == 2
        assert parts.agencies.settings == AgencySettings(
            base_url="http://127.0.0.1:9/",
            timeout_seconds=3.0,
            callback_url="http://127.0.0.1:9/callbacks",
        )
        assert isinstance(parts.notifier, WebhookNotifier)
        assert parts.notifier.url == "http://127.0.0.1:9/notices"
        assert parts.runtime is None  # no KOSH_METRICS_LISTEN
        assert (
            await parts.client.workflow_service.get_system_info(GetSystemInfoRequest())
        ).server_version is not None
        assert parts.worker().task_queue == settings.task_queue
    assert parts.pool.is_closing()
    assert parts.agencies.http.is_closed and parts.notifier.http.is_closed


async def test_without_a_staff_task_system_notices_are_log_lines() -> None:
    async with worker.staff_notifier("", token=None) as notifier:
        assert isinstance(notifier, LogNotifier)


async def test_a_database_is_migrated_when_asked_and_closed_after(
    fresh_db: str, embedded_pool: asyncpg.Pool
) -> None:
    async with worker.database(fresh_db, max_size=1) as pool, pool.acquire() as conn:
        assert await conn.fetchval("SELECT to_regclass('events')") is None
    assert pool.is_closing()
    async with worker.database(fresh_db, migrate=True) as pool, pool.acquire() as conn:
        assert await conn.fetchval("SELECT to_regclass('events')") is not None
        assert await conn.fetchval("SELECT '{\"a\": 1}'::jsonb") == {"a": 1}  # jsonb as values


async def test_a_database_that_never_answers_is_given_up_after_the_timeout() -> None:
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql://kosh@127.0.0.1:{silent.getsockname()[1]}/kosh"
        with pytest.raises(TimeoutError):
            async with worker.database(url, connect_timeout=0.3):
                pass
