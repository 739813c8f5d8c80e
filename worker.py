"""The composition root: builds the client, the pool, the adapters, the activities, the worker.

Nothing else constructs infrastructure. Configured by environment variables (see Settings).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.events import EventActivities
from activities.payments import PaymentActivities
from activities.staff import StaffActivities
from activities.verification import VerificationActivities
from adapters.ports import AuthorityAnswer, RegistrationNotice, ReplySink
from adapters.simulator import SimConfig, Simulator
from store.migrate import migrate
from store.pool import create_pool
from workflows.api import (
    SEARCH_ATTRIBUTES,
    SIGNAL_AUTHORITY,
    SIGNAL_FACT,
    TASK_QUEUE,
    AuthorityReplyInput,
    StaffFact,
    case_workflow_id,
)
from workflows.applicant import ApplicantWorkflow


@dataclass(frozen=True)
class Settings:
    temporal_address: str = "localhost:7233"
    namespace: str = "default"
    database_url: str = ""
    task_queue: str = TASK_QUEUE
    sim_seed: int = 7
    sim_failure_rate: float = 0.0
    migrate_on_start: bool = False
    # Connections per worker process: appends are short, so a few serve many activities.
    db_pool_size: int = 10
    max_cached_workflows: int = 2000
    log_json: bool = field(default_factory=lambda: not sys.stderr.isatty())

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        env = os.environ
        values: dict[str, Any] = {
            "temporal_address": env.get("KOSH_TEMPORAL_ADDRESS", cls.temporal_address),
            "namespace": env.get("KOSH_NAMESPACE", cls.namespace),
            "database_url": env.get("KOSH_DATABASE_URL", ""),
            "task_queue": env.get("KOSH_TASK_QUEUE", TASK_QUEUE),
            "sim_seed": int(env.get("KOSH_SIM_SEED", "7")),
            "sim_failure_rate": float(env.get("KOSH_SIM_FAILURE_RATE", "0")),
            "migrate_on_start": env.get("KOSH_MIGRATE_ON_START", "") in ("1", "true"),
            "db_pool_size": _positive_int(env, "KOSH_DB_POOL_SIZE", cls.db_pool_size),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _positive_int(env: Any, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: must be a whole number") from None
    if value < 1:
        raise SystemExit(f"{name}={raw!r}: must be at least 1")
    return value


def configure_logging(*, json: bool, stream: Any = None) -> None:
    """JSON lines in production, a readable console in a terminal; no personal data either way."""
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=True,
    )


async def connect(address: str, namespace: str = "default") -> Client:
    """A Temporal client that speaks pydantic (every client, env and Replayer uses it)."""
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
}


def search_attribute_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    return [f"{k.name}={_TYPE_NAMES[k.indexed_value_type]}" for k in SEARCH_ATTRIBUTES]


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """Register kosh's custom search attributes (servers started without the flags)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={
                k.name: IndexedValueType.ValueType(int(k.indexed_value_type))
                for k in SEARCH_ATTRIBUTES
            },
        )
    )


def activities_for(*, pool: asyncpg.Pool, sim: Simulator) -> Sequence[Any]:
    """Every activity, bound to its adapters."""
    verification = VerificationActivities(
        documents=sim, language=sim, authorities=sim, address=sim, border=sim, permits=sim
    )
    return [
        verification.verify_documents,
        verification.sit_language_test,
        verification.check_authority,
        verification.request_authority_check,
        verification.watch_registration,
        verification.check_residence,
        verification.check_departure,
        verification.issue_permit,
        verification.grant_kandas_status,
        PaymentActivities(payments=sim).disburse_support,
        StaffActivities(notifier=sim).notify_staff,
        EventActivities(pool=pool).append_events,
    ]


# Pydantic models are shared with the sandbox rather than re-imported per workflow run: the
# same classes on both sides, and far less memory per cached workflow.
PASSTHROUGH = (
    "domain",
    "activities",
    "adapters",
    "workflows.api",
    "workflows.state",
    "workflows.inbox",
    "workflows.options",
    "pydantic",
    "structlog",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox every worker and Replayer uses."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


def build_worker(
    client: Client,
    *,
    pool: asyncpg.Pool,
    sim: Simulator,
    task_queue: str = TASK_QUEUE,
    max_cached_workflows: int = 2000,
) -> Worker:
    sim.connect_replies(authority_reply_sink(client))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ApplicantWorkflow],
        workflow_runner=workflow_runner(),
        activities=activities_for(pool=pool, sim=sim),
        max_cached_workflows=max_cached_workflows,
        # Let running activities finish (or reach a retryable point) on a clean stop.
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


def authority_reply_sink(client: Client) -> ReplySink:
    """Authorities' later replies become `record_authority_reply` signals to their case; the
    address registry's notice of a registration becomes an arrival (`record_fact`)."""

    async def deliver(message: AuthorityAnswer | RegistrationNotice) -> None:
        handle = client.get_workflow_handle(case_workflow_id(message.case_id))
        if isinstance(message, RegistrationNotice):
            arrival = StaffFact(
                kind="arrival", region=message.region, request_id=f"registry:{message.reference}"
            )
            await handle.signal(SIGNAL_FACT, arrival)
            return
        reply = AuthorityReplyInput(
            authority=message.authority,
            reference=message.reference,
            outcome=message.outcome,
            reason=message.reason,
        )
        await handle.signal(SIGNAL_AUTHORITY, reply)

    return deliver


def simulator_from(settings: Settings) -> Simulator:
    return Simulator(SimConfig(seed=settings.sim_seed, failure_rate=settings.sim_failure_rate))


async def run_worker(
    settings: Settings, *, sim: Simulator | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run one worker until `stop` is set (or forever)."""
    if not settings.database_url:
        raise SystemExit("KOSH_DATABASE_URL is not set (or run `kosh dev`)")
    client = await connect(settings.temporal_address, settings.namespace)
    pool = await create_pool(settings.database_url, max_size=settings.db_pool_size)
    try:
        if settings.migrate_on_start:
            async with pool.acquire() as conn:
                await migrate(conn)
        worker = build_worker(
            client,
            pool=pool,
            sim=sim or simulator_from(settings),
            task_queue=settings.task_queue,
            max_cached_workflows=settings.max_cached_workflows,
        )
        structlog.get_logger("kosh.worker").info(
            "worker_started", task_queue=settings.task_queue, address=settings.temporal_address
        )
        async with worker:
            await (stop or asyncio.Event()).wait()
    finally:
        await pool.close()


def main() -> None:
    settings = Settings.from_env()
    configure_logging(json=settings.log_json)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
