"""Every kosh knob, in one place: environment variables named KOSH_*, read and checked by
pydantic-settings. docs/configuration.md is generated from this class (`kosh settings
--markdown`; a test keeps it current), and a test checks that no KOSH_* name is read anywhere
that is not declared here.

A bad value stops the process with the variable's name and the rule it breaks; nothing
starts half-configured.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters import pseudonyms
from adapters.codec import CodecKeyError, CodecKeys, keys_from_env
from workflows.api import TASK_QUEUE

PREFIX = "KOSH_"

# Field groups, in the order the documentation lists them.
GROUPS = (
    "Temporal",
    "Database",
    "Agencies",
    "Payload keys",
    "Codec server",
    "Worker",
    "Observability",
    "Staff and tools",
    "Record checkpoints",
)


def _knob(default: Any, group: str, help: str, **rules: Any) -> Any:
    return Field(default, description=help, json_schema_extra={"group": group}, **rules)


class Settings(BaseSettings):
    """kosh's configuration, from the environment (KOSH_<FIELD NAME>)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    # Temporal
    temporal_address: str = _knob(
        "localhost:7233", "Temporal", "Temporal frontend, host:port (a cluster or Temporal Cloud)."
    )
    namespace: str = _knob("default", "Temporal", "Temporal namespace of the cases.")
    task_queue: str = _knob(TASK_QUEUE, "Temporal", "Task queue the workers poll.")

    # Database
    database_url: str = _knob(
        "",
        "Database",
        "kosh's PostgreSQL (event log, projections, staff registry), postgresql://... "
        "Required by the worker and the console.",
    )
    db_pool_size: int = _knob(10, "Database", "Connections per worker process.", ge=1)
    migrate_on_start: bool = _knob(
        False, "Database", "Apply pending migrations when a worker starts (advisory-locked)."
    )

    # Agencies
    agencies_url: str = _knob(
        "", "Agencies", "Base URL of the agencies' gateway (or `kosh sim`). Required by a worker."
    )
    agencies_token: SecretStr | None = _knob(None, "Agencies", "Bearer token for the agencies.")
    agencies_timeout: float = _knob(
        10.0, "Agencies", "Seconds before an agency call counts as failed (then retried).", gt=0
    )
    callback_url: str = _knob(
        "",
        "Agencies",
        "Public URL of this worker's callback receiver, given to agencies for later answers. "
        "Required by a worker.",
    )
    callback_listen: str = _knob(
        "0.0.0.0:8080", "Agencies", "host:port the callback receiver listens on."
    )
    callback_token: SecretStr | None = _knob(
        None, "Agencies", "Token agencies must present to the callback receiver."
    )
    sim_api_token: SecretStr | None = _knob(
        None, "Agencies", "`kosh sim`: the token it requires of callers (none: open)."
    )

    # Payload keys
    codec_keys_file: Path | None = _knob(
        None,
        "Payload keys",
        "JSON file of the payload keys (`kosh keys new`). Required by workers and tools.",
    )
    codec_keys: SecretStr | None = _knob(
        None, "Payload keys", "The same JSON inline (instead of KOSH_CODEC_KEYS_FILE)."
    )
    employer_hmac_key_file: Path | None = _knob(
        None,
        "Payload keys",
        "File of the employer key (base64 of 32 bytes, `kosh keys employer`): the employer's "
        "id in search attributes and listings is an HMAC of its BIN with it. Required by "
        "workers; the same for all of them.",
    )
    employer_hmac_key: SecretStr | None = _knob(
        None, "Payload keys", "The employer key inline (instead of KOSH_EMPLOYER_HMAC_KEY_FILE)."
    )

    # Codec server (staff sign-in is always on; OIDC when an issuer is set)
    codec_oidc_issuer: str = _knob(
        "",
        "Codec server",
        "OIDC issuer whose access tokens `kosh codec-server` accepts (the `iss` claim), as "
        "the Temporal UI passes them; empty: staff sign-in only.",
    )
    codec_oidc_audience: str = _knob(
        "", "Codec server", "The `aud` those tokens must carry. Required with an issuer."
    )
    codec_oidc_jwks_url: str = _knob(
        "",
        "Codec server",
        "Where the issuer publishes its signing keys (JWKS). Required with an issuer.",
    )
    codec_oidc_roles_claim: str = _knob(
        "groups",
        "Codec server",
        "The claim listing a person's roles or groups (a dotted path: `realm_access.roles`).",
    )
    codec_oidc_operator_role: str = _knob(
        "kosh-operator",
        "Codec server",
        "The role or group, in that claim, of the people who may read decrypted payloads.",
    )
    codec_oidc_member_claim: str = _knob(
        "preferred_username",
        "Codec server",
        "The claim naming the person in the access log (`sub` when it is missing).",
    )

    # Worker
    max_cached_workflows: int = _knob(
        2000, "Worker", "Sticky cache: cases kept in memory between their tasks.", ge=0
    )
    max_concurrent_activities: int = _knob(
        200, "Worker", "Activities one worker runs at once (agency calls, appends).", ge=1
    )
    max_concurrent_workflow_tasks: int = _knob(
        100, "Worker", "Workflow tasks one worker runs at once.", ge=2
    )
    graceful_shutdown_seconds: float = _knob(
        10.0, "Worker", "On SIGINT/SIGTERM: how long running activities may finish.", ge=0
    )

    # Observability
    metrics_listen: str = _knob(
        "",
        "Observability",
        "host:port of the Prometheus endpoint (SDK and kosh metrics), e.g. 0.0.0.0:9464; "
        "empty: off.",
    )
    log_json: bool | None = _knob(
        None, "Observability", "JSON log lines (default: when stderr is not a terminal)."
    )
    log_level: Literal["debug", "info", "warning", "error"] = _knob(
        "info", "Observability", "Lowest level logged."
    )
    tracing: bool = _knob(
        False,
        "Observability",
        "OpenTelemetry tracing of workflows and activities (exported with the standard "
        "OTEL_EXPORTER_OTLP_* variables, or to the log when none is set).",
    )

    # Staff and tools
    staff_notices_url: str = _knob(
        "",
        "Staff and tools",
        "Where workers POST staff notices (the staff task system); empty: one log line each.",
    )
    staff_notices_token: SecretStr | None = _knob(
        None, "Staff and tools", "Bearer token for KOSH_STAFF_NOTICES_URL."
    )
    state_dir: Path = _knob(Path(".kosh"), "Staff and tools", "`kosh dev`'s state folder.")
    console_secret: SecretStr | None = _knob(
        None,
        "Staff and tools",
        "Signs the console's session cookies (default: random per start, which signs "
        "everyone out on a restart).",
    )
    console_public_url: str = _knob(
        "http://127.0.0.1:8000",
        "Staff and tools",
        "The console's address as staff's browsers reach it (behind a TLS proxy, its https:// "
        "URL); https makes the session cookie Secure.",
        pattern=r"^https?://\S+$",
    )
    staff_id: str | None = _knob(
        None, "Staff and tools", "Act as this member (with KOSH_STAFF_TOKEN), instead of a session."
    )
    staff_token: SecretStr | None = _knob(
        None, "Staff and tools", "The member's sign-in token (`kosh staff token`)."
    )

    assertion_keys_file: Path | None = _knob(
        None,
        "Staff and tools",
        "The console, the one issuer of staff assertions: the keys that sign them (`kosh keys "
        "assertion new --scope staff`). Never given to a worker.",
    )
    feed_keys_file: Path | None = _knob(
        None,
        "Staff and tools",
        "A worker's callback receiver: the keys that sign the agency feeds' facts (`kosh keys "
        "assertion new --scope feed`); they assert agency feeds only.",
    )
    assertion_public_keys_file: Path | None = _knob(
        None,
        "Staff and tools",
        "Workers: the public keys that verify staff and feed assertions (`kosh keys assertion "
        "public FILE...`). Required by a worker.",
    )

    # Record checkpoints
    checkpoint_dir: Path | None = _knob(
        None,
        "Record checkpoints",
        "Where `kosh events checkpoint` writes signed checkpoints of the record and `kosh "
        "events --verify` reads the newest: a place the database's superuser cannot write.",
    )
    checkpoint_key_file: Path | None = _knob(
        None,
        "Record checkpoints",
        "The keys that sign checkpoints (`kosh keys checkpoint new`): the checkpoint writer's "
        "alone, never the database's host.",
    )
    checkpoint_public_keys_file: Path | None = _knob(
        None,
        "Record checkpoints",
        "The public keys `kosh events --verify` checks checkpoints with (`kosh keys checkpoint "
        "public`; default: those of KOSH_CHECKPOINT_KEY_FILE).",
    )
    checkpoint_keep: int = _knob(
        100, "Record checkpoints", "Checkpoints kept in KOSH_CHECKPOINT_DIR (the newest).", ge=1
    )
    _keys: CodecKeys | None = PrivateAttr(default=None)
    _employer_secret: bytes | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        env = {
            f"{PREFIX}CODEC_KEYS_FILE": str(self.codec_keys_file or ""),
            f"{PREFIX}CODEC_KEYS": self.codec_keys.get_secret_value() if self.codec_keys else "",
        }
        self._keys = keys_from_env({k: v for k, v in env.items() if v})
        if self.employer_hmac_key_file is not None:
            source = f"{PREFIX}EMPLOYER_HMAC_KEY_FILE={self.employer_hmac_key_file}"
            self._employer_secret = pseudonyms.load(self.employer_hmac_key_file, source=source)
        elif self.employer_hmac_key is not None:
            inline = self.employer_hmac_key.get_secret_value()
            self._employer_secret = pseudonyms.parse(inline, source=f"{PREFIX}EMPLOYER_HMAC_KEY")

    @property
    def payload_keys(self) -> CodecKeys | None:
        return self._keys

    @property
    def employer_secret(self) -> bytes | None:
        return self._employer_secret

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else not sys.stderr.isatty()

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """The environment, with `overrides` (not None) on top; a bad value exits naming it."""
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except ValidationError as exc:
            raise SystemExit(_explained(exc)) from None
        except (CodecKeyError, pseudonyms.EmployerKeyError) as exc:
            raise SystemExit(str(exc)) from None


def env_name(field: str) -> str:
    return f"{PREFIX}{field.upper()}"


def _explained(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = env_name(str(err["loc"][0])) if err["loc"] else "(settings)"
        ctx = err.get("ctx") or {}
        rule = {
            "int_parsing": "must be a whole number",
            "float_parsing": "must be a number",
            "bool_parsing": "must be true or false",
            "greater_than_equal": f"must be at least {ctx.get('ge')}",
            "greater_than": f"must be more than {ctx.get('gt')}",
        }.get(err["type"], err["msg"])
        lines.append(f"{name}={err.get('input')!r}: {rule}")
    return "; ".join(lines)


# Variables docker-compose.yml takes from .env for itself; no kosh process reads them.
COMPOSE_ONLY = {
    "KOSH_DB_PASSWORD": "kosh-db's password, interpolated into KOSH_DATABASE_URL.",
    "KOSH_NAMESPACE_RETENTION": "How long Temporal keeps closed case histories (e.g. 30d).",
    "TEMPORAL_DB_PASSWORD": "Temporal's PostgreSQL password.",
    "GRAFANA_ADMIN_PASSWORD": "Grafana's admin password.",
    "KOSH_OIDC_ISSUER": "The identity provider operators sign in to the Temporal UI with "
    "(TEMPORAL_AUTH_PROVIDER_URL); kosh-codec's KOSH_CODEC_OIDC_ISSUER.",
    "KOSH_OIDC_CLIENT_ID": "The Temporal UI's client id at the identity provider.",
    "KOSH_OIDC_CLIENT_SECRET": "The Temporal UI's client secret at the identity provider.",
    "KOSH_OIDC_AUDIENCE": "The `aud` of the UI's access tokens (KOSH_CODEC_OIDC_AUDIENCE).",
    "KOSH_OIDC_JWKS_URL": "The provider's signing keys (KOSH_CODEC_OIDC_JWKS_URL).",
    "KOSH_OIDC_ROLES_CLAIM": "The claim of a person's groups (KOSH_CODEC_OIDC_ROLES_CLAIM).",
    "KOSH_OIDC_OPERATOR_ROLE": "The group that may read decrypted payloads "
    "(KOSH_CODEC_OIDC_OPERATOR_ROLE).",
    "KOSH_UI_URL": "The Temporal UI's https address at the TLS proxy (the OIDC callback, the "
    "codec server's allowed origin).",
    "KOSH_CODEC_URL": "The codec server's https address at the TLS proxy (the UI's codec "
    "endpoint; the UI passes access tokens to https only).",
}

HEADER = """# Configuration

Every knob is an environment variable named `KOSH_*`, read by one class (`settings.py`,
pydantic-settings); a bad value stops the process naming the variable and the rule. This
file is generated: `kosh settings --markdown > docs/configuration.md` (a test keeps it
current). `kosh settings` prints the values in effect, secrets masked.

"""


def configuration_doc() -> str:
    """docs/configuration.md: every knob by group, then the compose file's own variables."""
    compose = [
        "## docker-compose.yml's own variables (.env)",
        "",
        "| Variable | What it sets |",
        "|---|---|",
        *(f"| `{name}` | {text} |" for name, text in COMPOSE_ONLY.items()),
        "",
    ]
    return HEADER + markdown_table() + "\n" + "\n".join(compose)


def markdown_table() -> str:
    """Every knob, its default and what it does, by group."""
    out: list[str] = []
    fields = Settings.model_fields
    for group in GROUPS:
        out += [f"## {group}", "", "| Variable | Default | What it sets |", "|---|---|---|"]
        for name, info in fields.items():
            extra = info.json_schema_extra
            if not isinstance(extra, dict) or extra.get("group") != group:
                continue
            default = info.default
            shown = "(none)" if default in (None, "") else f"`{default}`"
            out.append(f"| `{env_name(name)}` | {shown} | {info.description} |")
        out.append("")
    return "\n".join(out)
