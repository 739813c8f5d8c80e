"""docker-compose.yml, the Dockerfile and deploy/ checked statically: no Docker engine needed.

The file is validated against the compose specification's JSON Schema (check-jsonschema's
vendored copy, nothing downloaded); the rest checks what would break kosh in particular
(wiring, environment names, search attributes, secrets, pinned images, a non-root image,
Prometheus finding every worker, Grafana's dashboard and data source).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from settings import Settings, env_name
from workflows.api import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
WORKER = "kosh-worker"
ADMIN_TOOLS = "temporalio/admin-tools"

# The temporal CLI's names for the SDK's indexed value types.
CLI_TYPES = {
    "TEXT": "Text",
    "KEYWORD": "Keyword",
    "INT": "Int",
    "DOUBLE": "Double",
    "BOOL": "Bool",
    "DATETIME": "Datetime",
    "KEYWORD_LIST": "KeywordList",
}
SECRET_NAME = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|CREDENTIAL", re.IGNORECASE)
# Named like secrets, but switches: whether the UI passes the signed-in person's token, or
# the browser's cookies, to the codec server.
NOT_SECRET = {"TEMPORAL_CODEC_PASS_ACCESS_TOKEN", "TEMPORAL_CODEC_INCLUDE_CREDENTIALS"}
REQUIRED_VAR = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:\?[^}]*\}$")
URL_PASSWORD = re.compile(r"://[^:/@]+:([^@]+)@")
HEALTH_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def services() -> dict[str, dict[str, Any]]:
    found = compose().get("services")
    assert isinstance(found, dict) and found, "docker-compose.yml defines no services"
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment`, whether written as a mapping or as a list of NAME=value."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Target -> condition, for both the short (list) and the long (mapping) form."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def words(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return value.split() if isinstance(value, str) else [str(v) for v in value]


def mounted_text(service: dict[str, Any]) -> str:
    """The service's command, plus the text of every host file the command runs from a mount."""
    command = words(service.get("entrypoint")) + words(service.get("command"))
    texts = [" ".join(command)]
    for volume in service.get("volumes") or []:
        host, _, rest = str(volume).partition(":")
        target = rest.split(":")[0]
        if not host.startswith("."):
            continue
        for word in command:
            if word.startswith(target + "/"):
                path = ROOT / host / word.removeprefix(target + "/")
                assert path.is_file(), f"{word} is not in the mounted folder {host}"
                texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


def admin_tools_text() -> str:
    return "\n".join(
        mounted_text(s) for s in services().values() if s.get("image", "").startswith(ADMIN_TOOLS)
    )


def strings(node: object) -> list[str]:
    """Every string value in the parsed compose file (comments excluded)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return []


def env_names_read_by_settings() -> set[str]:
    return {env_name(field) for field in Settings.model_fields}


def kosh_services() -> dict[str, dict[str, Any]]:
    """The services that run kosh's own image."""
    return {name: s for name, s in services().items() if s.get("build") in (".", {"context": "."})}


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with its vendored compose-spec schema (no network)."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    return subprocess.run([*command, str(path)], capture_output=True, text=True)


def test_compose_is_valid_by_the_compose_specification() -> None:
    checked = schema_check(COMPOSE)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_schema_check_catches_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yml"
    bad.write_text(COMPOSE.read_text(encoding="utf-8").replace("restart:", "restrat:", 1))
    checked = schema_check(bad)
    assert checked.returncode == 1 and "restrat" in checked.stdout


def test_every_kosh_service_sets_only_knobs_settings_declares() -> None:
    expected = {"kosh-worker", "kosh-codec", "kosh-sim", "kosh-console", "kosh-checkpoint"}
    assert set(kosh_services()) == expected
    for name, service in kosh_services().items():
        unknown = {k for k in environment(service) if k.startswith("KOSH_")}
        unknown -= env_names_read_by_settings()
        assert not unknown, f"{name} sets {sorted(unknown)}, which Settings does not declare"
    console = environment(services()["kosh-console"])
    assert {"KOSH_DATABASE_URL", "KOSH_CODEC_KEYS_FILE", "KOSH_CONSOLE_SECRET"} <= set(console)
    assert console["KOSH_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert words(services()["kosh-console"]["command"])[:1] == ["console"]


def test_prometheus_scrapes_every_worker_replica_and_the_server() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    listen = environment(services()[WORKER])["KOSH_METRICS_LISTEN"]
    [sd] = jobs[WORKER]["dns_sd_configs"]
    assert sd["names"] == [WORKER] and str(sd["port"]) == listen.rpartition(":")[2]
    server_port = environment(services()["temporal"])["PROMETHEUS_ENDPOINT"].rpartition(":")[2]
    assert jobs["temporal"]["static_configs"][0]["targets"] == [f"temporal:{server_port}"]
    mounts = services()["prometheus"]["volumes"]
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts


def test_grafana_is_provisioned_with_the_dashboard_and_its_data_source() -> None:
    grafana = services()["grafana"]
    mounts = {m.split(":")[0]: m.split(":")[1] for m in grafana["volumes"] if m.startswith("./")}
    provisioning = ROOT / "deploy/grafana/provisioning"
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    providers = yaml.safe_load((provisioning / "dashboards/kosh.yml").read_text())["providers"]
    assert mounts["./deploy/grafana/dashboards"] == providers[0]["options"]["path"]
    [source] = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/kosh.json").read_text())
    titles = [p["title"] for p in dashboard["panels"]]
    for wanted in ("Cases by stage", "Activity failures", "schedule-to-start"):
        assert any(wanted in t for t in titles), f"no panel about {wanted}"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]


def test_the_ui_is_new_enough_for_summaries() -> None:
    tag = services()["temporal-ui"]["image"].rpartition(":")[2]
    assert tuple(int(p) for p in tag.split(".")[:2]) >= (2, 42)


def test_compose_parses_and_every_service_has_an_image_or_a_build() -> None:
    for name, service in services().items():
        assert "image" in service or "build" in service, f"{name}: neither image nor build"


def test_every_depends_on_target_exists_and_can_meet_its_condition() -> None:
    all_services = services()
    for name, service in all_services.items():
        for target, condition in depends_on(service).items():
            assert target in all_services, f"{name} depends on {target}, which is not a service"
            assert condition in HEALTH_CONDITIONS, f"{name} -> {target}: condition {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in all_services[target], f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                restart = all_services[target].get("restart", "no")
                assert restart in ("no", "on-failure") or restart.startswith("on-failure:"), (
                    f"{target} is one-shot but restarts {restart}"
                )


def test_the_temporal_stack_follows_the_current_layout() -> None:
    all_services = services()
    images = {name: s.get("image", "") for name, s in all_services.items()}
    assert not any(image.startswith("temporalio/auto-setup") for image in images.values())
    assert images["temporal"].startswith("temporalio/server:")
    assert "healthcheck" in all_services["temporal"]
    assert images["temporal-admin-tools"].startswith(ADMIN_TOOLS + ":")
    assert depends_on(all_services["temporal"]) == {
        "temporal-admin-tools": "service_completed_successfully"
    }
    assert images["temporal-ui"].startswith("temporalio/ui:")
    assert environment(all_services["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert any(port.endswith("8080:8080") for port in all_services["temporal-ui"]["ports"])
    # One admin-tools image for schema and namespace: a server upgrade moves them together.
    admin = {image for image in images.values() if image.startswith(ADMIN_TOOLS)}
    assert len(admin) == 1, admin
    assert admin.pop().split(":")[1] == images["temporal"].split(":")[1]


def test_the_schema_is_set_up_for_both_temporal_databases() -> None:
    text = mounted_text(services()["temporal-admin-tools"])
    steps = set(re.findall(r"--db (\w+) (create|setup-schema|update-schema)", text))
    assert steps == {
        (db, step)
        for db in ("temporal", "temporal_visibility")
        for step in ("create", "setup-schema", "update-schema")
    }
    assert "temporal-sql-tool" in text


def test_every_search_attribute_is_created_with_its_type() -> None:
    created = dict(re.findall(r"--name (\w+) --type (\w+)", admin_tools_text()))
    expected = {key.name: CLI_TYPES[key.indexed_value_type.name] for key in SEARCH_ATTRIBUTES}
    assert created == expected
    assert "temporal operator namespace create" in admin_tools_text()


@pytest.mark.parametrize("script", sorted((ROOT / "deploy").rglob("*.sh")), ids=lambda p: p.name)
def test_deploy_scripts_are_valid_posix_shell(script: Path) -> None:
    checked = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_worker_sets_only_what_settings_reads() -> None:
    service = services()[WORKER]
    env = environment(service)
    unknown = set(env) - env_names_read_by_settings()
    assert not unknown, f"{WORKER} sets {sorted(unknown)}, which Settings does not declare"
    assert env["KOSH_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["KOSH_DATABASE_URL"].endswith("@kosh-db:5432/kosh")
    assert env["KOSH_MIGRATE_ON_START"] == "true"
    assert "KOSH_NAMESPACE" in env


def test_the_worker_is_built_here_and_replicated() -> None:
    service = services()[WORKER]
    assert service["build"] in (".", {"context": "."}), "the worker builds from ./Dockerfile"
    assert words(service.get("command")) == ["worker"]
    assert service["deploy"]["replicas"] >= 2
    # A fixed container name cannot be shared by two replicas.
    assert "container_name" not in service
    assert set(depends_on(service)) >= {"kosh-db", "temporal", "temporal-create-namespace"}


def test_no_literal_secret_in_compose() -> None:
    for name, service in services().items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key) and key not in NOT_SECRET:
                assert REQUIRED_VAR.match(value), f"{name}.{key} must be ${{VAR:?message}}"
            for password in URL_PASSWORD.findall(value):
                assert REQUIRED_VAR.match(password), f"{name}.{key}: literal password in a URL"


def test_env_example_has_placeholders_only() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    pairs = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    required = {
        name for text in strings(compose()) for name in re.findall(r"\$\{([A-Z0-9_]+):\?", text)
    }
    assert required, "compose requires no variable from .env"
    assert required <= set(pairs), f".env.example misses {sorted(required - set(pairs))}"
    for key, value in pairs.items():
        if SECRET_NAME.search(key):
            assert value == "CHANGE_ME", f".env.example: {key} must be the CHANGE_ME placeholder"


def _assert_pinned(image: str, where: str) -> None:
    name, _, tag = image.rpartition(":")
    assert name and "/" not in tag, f"{where}: image {image} has no tag"
    assert tag != "latest", f"{where}: image {image} is not pinned"
    assert "$" not in image, f"{where}: image {image} is pinned outside this file"


def test_images_are_pinned() -> None:
    for name, service in services().items():
        if "image" in service:
            _assert_pinned(service["image"], name)
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.upper().startswith("FROM "):
            _assert_pinned(line.split()[1], "Dockerfile")


def dockerfile_instructions() -> list[tuple[str, str]]:
    lines = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip() if " " in line else "")
        for line in (raw.strip() for raw in lines)
        if line and not line.startswith("#")
    ]


def test_the_image_runs_kosh_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    users = [arg for op, arg in instructions if op == "USER"]
    assert users, "the Dockerfile never sets USER: the worker would run as root"
    assert users[-1].split(":")[0] not in ("root", "0"), f"USER {users[-1]} is root"
    ops = [op for op, _ in instructions]
    assert ops.index("USER") < ops.index("ENTRYPOINT")
    assert ("ENTRYPOINT", '["kosh"]') in instructions
    assert ("CMD", '["worker"]') in instructions


def test_the_image_installs_runtime_dependencies_only() -> None:
    runs = " ".join(arg for op, arg in dockerfile_instructions() if op == "RUN")
    assert re.search(r"pip install (\.|/\S+)(\s|$)", runs), "the image must `pip install .`"
    assert "[test]" not in runs


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", ".kosh", "tests", ".env", ".git"} <= ignored
    assert any("__pycache__" in pattern for pattern in ignored)
    # `pip install .` needs these.
    assert not {"pyproject.toml", "README.md", "*.md"} & ignored


def test_the_worker_talks_to_the_agencies_over_http_and_receives_their_callbacks() -> None:
    all_services = services()
    env = environment(all_services[WORKER])
    sim_host, _, sim_port = env["KOSH_AGENCIES_URL"].removeprefix("http://").partition(":")
    assert sim_host in all_services, f"{sim_host} is not a service"
    assert words(all_services[sim_host]["command"])[:1] == ["sim"]
    assert sim_port in words(all_services[sim_host]["command"])
    assert depends_on(all_services[WORKER])[sim_host] == "service_healthy"
    # agencies call back on the worker service name, at the port the receiver listens on
    listen_port = env["KOSH_CALLBACK_LISTEN"].rpartition(":")[2]
    assert env["KOSH_CALLBACK_URL"] == f"http://{WORKER}:{listen_port}/callbacks"
    sim_env = environment(all_services[sim_host])
    assert sim_env["KOSH_CALLBACK_TOKEN"] == env["KOSH_CALLBACK_TOKEN"]
    assert sim_env["KOSH_SIM_API_TOKEN"] == env["KOSH_AGENCIES_TOKEN"]


# --- issue #20: nothing reachable without signing in hands out a way to decrypt -------------

CODEC = "kosh-codec"
UI = "temporal-ui"


def env_example() -> dict[str, str]:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    return dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )


def interpolated(value: str) -> str:
    """The .env variable a value is made of: `${NAME:?...}` or `${NAME:-...}` -> NAME."""
    found = re.fullmatch(r"\$\{([A-Z0-9_]+)(:[?-][^}]*)?\}", value)
    assert found, f"{value!r} is not one .env variable"
    return found.group(1)


def test_the_uis_public_settings_hold_no_way_to_decrypt() -> None:
    """The attack: GET /api/v1/settings (no sign-in) returned the codec endpoint with the
    operator token in its path. Now the endpoint is the codec server's address, nothing else,
    and no operator token exists anywhere."""
    ui = environment(services()[UI])
    assert interpolated(ui["TEMPORAL_CODEC_ENDPOINT"]) == "KOSH_CODEC_URL"
    codec_url = env_example()["KOSH_CODEC_URL"]
    # the UI passes access tokens to an https endpoint only, and a path may hold no secret
    assert codec_url.startswith("https://") and codec_url.count("/") == 2, codec_url
    text = COMPOSE.read_text(encoding="utf-8") + (ROOT / ".env.example").read_text()
    assert "/t/" not in text and "OPERATOR_TOKEN" not in text
    assert {name for name in ui if "CODEC" in name} == {"TEMPORAL_CODEC_ENDPOINT", *NOT_SECRET}


def test_the_ui_signs_operators_in_and_passes_their_token_to_the_codec_server() -> None:
    ui, codec = environment(services()[UI]), environment(services()[CODEC])
    assert ui["TEMPORAL_AUTH_ENABLED"] == "true"
    assert ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "false"  # no cookies: the token only
    # one issuer for both: the UI signs people in where the codec server checks their tokens
    assert interpolated(ui["TEMPORAL_AUTH_PROVIDER_URL"]) == "KOSH_OIDC_ISSUER"
    assert interpolated(codec["KOSH_CODEC_OIDC_ISSUER"]) == "KOSH_OIDC_ISSUER"
    for knob in ("KOSH_CODEC_OIDC_AUDIENCE", "KOSH_CODEC_OIDC_JWKS_URL"):
        assert interpolated(codec[knob]) in env_example(), knob
    assert interpolated(ui["TEMPORAL_AUTH_CLIENT_SECRET"]) == "KOSH_OIDC_CLIENT_SECRET"
    assert ui["TEMPORAL_AUTH_CALLBACK_URL"].endswith("/auth/sso/callback")
    assert "KOSH_UI_URL" in ui["TEMPORAL_AUTH_CALLBACK_URL"]
    # the codec server answers the UI's origin only (CORS), and only for the operator role
    command = words(services()[CODEC]["command"])
    assert command[:1] == ["codec-server"]
    assert interpolated(command[command.index("--ui-origin") + 1]) == "KOSH_UI_URL"
    assert env_example()["KOSH_OIDC_OPERATOR_ROLE"] == "kosh-operator"
    assert Settings.model_fields["codec_oidc_operator_role"].default == "kosh-operator"


def test_the_codec_server_logs_each_decryption_in_kosh_db() -> None:
    codec = services()[CODEC]
    env = environment(codec)
    assert env["KOSH_DATABASE_URL"].endswith("@kosh-db:5432/kosh")
    assert env["KOSH_DATABASE_URL"] == environment(services()[WORKER])["KOSH_DATABASE_URL"]
    assert depends_on(codec) == {"kosh-db": "service_healthy", WORKER: "service_started"}
    assert env["KOSH_CODEC_KEYS_FILE"] == "/run/secrets/kosh-codec-keys"
    assert any(port.startswith("127.0.0.1:") for port in codec["ports"])  # behind the proxy


def test_every_worker_keys_employers_with_the_same_secret() -> None:
    """Attack B: KoshEmployer was an unkeyed digest of the BIN. Every replica gets one key,
    from a compose secret (a file never committed)."""
    service = services()[WORKER]
    path = environment(service)["KOSH_EMPLOYER_HMAC_KEY_FILE"]
    name = path.removeprefix("/run/secrets/")
    assert name in service["secrets"]
    assert compose()["secrets"][name]["file"].startswith("./secrets/")


def test_only_the_console_holds_the_staff_signing_keys() -> None:
    """Workers verify staff assertions with the public keys and sign only the feeds' facts;
    the console, the one issuer, alone has the staff keys."""
    services = compose()["services"]
    worker, console = environment(services["kosh-worker"]), environment(services["kosh-console"])
    assert "KOSH_ASSERTION_KEYS_FILE" not in worker
    assert worker["KOSH_ASSERTION_PUBLIC_KEYS_FILE"] == "/run/secrets/kosh-assertion-public-keys"
    assert worker["KOSH_FEED_KEYS_FILE"] == "/run/secrets/kosh-feed-keys"
    assert console["KOSH_ASSERTION_KEYS_FILE"] == "/run/secrets/kosh-assertion-keys"
    for name in ("kosh-assertion-public-keys", "kosh-feed-keys"):
        assert name in services["kosh-worker"]["secrets"]
    assert "kosh-assertion-keys" not in services["kosh-worker"]["secrets"]
    for name in ("kosh-assertion-keys", "kosh-feed-keys", "kosh-assertion-public-keys"):
        assert compose()["secrets"][name]["file"].startswith("./secrets/")


# --- issue #25: checkpoints of the record where the database cannot reach them ----------------

CHECKPOINT = "kosh-checkpoint"


def named_volumes(service: dict[str, Any]) -> dict[str, str]:
    """Named volume -> mount target (bind mounts, which start with . or /, left out)."""
    found = {}
    for volume in service.get("volumes") or []:
        source, _, rest = str(volume).partition(":")
        if rest and not source.startswith((".", "/")):
            found[source] = rest.split(":")[0]
    return found


def test_checkpoints_are_written_where_the_database_cannot_write() -> None:
    """A separate service writes them to a named volume that kosh-db (and every other service)
    never mounts, signed with a key that only it holds."""
    all_services = services()
    service = all_services[CHECKPOINT]
    command = words(service["command"])
    assert command[:3] == ["events", "checkpoint", "--every"] and float(command[3]) >= 60
    env = environment(service)
    [(volume, target)] = named_volumes(service).items()
    assert env["KOSH_CHECKPOINT_DIR"] == target and volume in compose()["volumes"]
    for name, other in all_services.items():
        if name != CHECKPOINT:
            assert volume not in named_volumes(other), f"{name} mounts the checkpoints"
    assert named_volumes(all_services["kosh-db"]) == {"kosh-db": "/var/lib/postgresql/data"}
    assert env["KOSH_DATABASE_URL"] == environment(all_services[WORKER])["KOSH_DATABASE_URL"]
    assert depends_on(service)["kosh-db"] == "service_healthy"
    assert service.get("deploy", {}).get("replicas", 1) == 1
    # the image starts the volume as a copy of a folder owned by its user
    runs = " ".join(arg for op, arg in dockerfile_instructions() if op == "RUN")
    assert f"mkdir -p {target}" in runs and "chown -R kosh:kosh" in runs


def test_only_the_checkpoint_service_holds_the_checkpoint_signing_key() -> None:
    key = "kosh-checkpoint-key"
    env = environment(services()[CHECKPOINT])
    assert env["KOSH_CHECKPOINT_KEY_FILE"] == f"/run/secrets/{key}"
    assert env["KOSH_CHECKPOINT_PUBLIC_KEYS_FILE"] == "/run/secrets/kosh-checkpoint-public-keys"
    for name, service in services().items():
        holds = key in (service.get("secrets") or [])
        assert holds == (name == CHECKPOINT), f"{name} {'holds' if holds else 'lacks'} {key}"
        if name != CHECKPOINT:
            assert "KOSH_CHECKPOINT_KEY_FILE" not in environment(service), name
    for secret in (key, "kosh-checkpoint-public-keys"):
        assert compose()["secrets"][secret]["file"].startswith("./secrets/")
