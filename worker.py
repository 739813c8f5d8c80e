"""The composition root: the one place that builds kosh's infrastructure: the Temporal client
(pydantic data converter, payload codec, interceptors), the database pool, the agencies'
adapters, the staff notifier, the activity objects and the worker.

Every process takes its parts from here. `kosh worker` runs `run_worker` on `services`;
`kosh dev` takes the same parts one by one around the stand-ins it runs itself (a Temporal dev
server, PostgreSQL, the simulated agencies); the console and the record commands take a
client (`connect`) and a pool (`database`). Configured by environment variables (Settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.allocation import AllocationActivities
from activities.events import EventActivities
from activities.labour import LabourActivities
from activities.payments import PaymentActivities
from activities.policies import PolicyActivities
from activities.staff import RegistryActivities, StaffActivities
from activities.verification import VerificationActivities
from adapters.assertions import Issuer, Verifier, VerifyKeys
from adapters.http import HttpAgencies
from adapters.notifier import LogNotifier
from adapters.ports import StaffNotifier
from adapters.simulator import Simulator
from composition.agencies import (
    agencies,
    assertion_keys,
    authority_reply_sink,
    callback_receiver,
    staff_notifier,
)
from composition.client import (
    codec_server,
    connect,
    data_converter,
    register_search_attributes,
)
from composition.database import database
from composition.hosting import serving
from composition.schedules import ensure_allocation_schedules
from composition.telemetry import (
    configure_logging,
    metrics_runtime,
    record_gauges,
    start_tracing,
)
from settings import Settings
from workflows.allocation.round import AllocationRoundWorkflow
from workflows.api import TASK_QUEUE
from workflows.case.workflow import ApplicantWorkflow
from workflows.labour.workflow import EmployerPermitWorkflow

# What the rest of kosh takes from here: the parts, and what this module assembles from them.
__all__ = [
    "PASSTHROUGH",
    "Services",
    "Settings",
    "activities_for",
    "agencies",
    "assertion_keys",
    "authority_reply_sink",
    "build_worker",
    "callback_receiver",
    "codec_server",
    "configure_logging",
    "connect",
    "data_converter",
    "database",
    "ensure_allocation_schedules",
    "metrics_runtime",
    "record_gauges",
    "register_search_attributes",
    "run_worker",
    "services",
    "serving",
    "staff_notifier",
    "workflow_runner",
]

# --- the activities and the worker ------------------------------------------------------------


def activities_for(
    *,
    pool: asyncpg.Pool,
    agencies: Any,
    notifier: StaffNotifier,
    verifier: Verifier,
    employer_secret: bytes | None = None,
    client: Client | None = None,
) -> Sequence[Any]:
    """Every activity, bound to its adapters (`agencies` implements every agency port).
    Without `employer_secret` (tests), employers are keyed with a key of this process only;
    a worker process has its settings' (`run_worker` refuses to start without one). The
    allocation rounds tell candidates' cases through `client`."""
    payments = PaymentActivities(payments=agencies)
    verification = VerificationActivities(
        documents=agencies,
        language=agencies,
        authorities=agencies,
        address=agencies,
        border=agencies,
        permits=agencies,
        executive=agencies,
    )
    labour = LabourActivities(
        agencies=agencies, pool=pool, employer_secret=employer_secret or secrets.token_bytes(32)
    )
    rounds = AllocationActivities(pool=pool, client=client)
    return [
        verification.verify_documents,
        verification.sit_language_test,
        verification.check_authority,
        verification.request_authority_check,
        verification.watch_registration,
        verification.check_residence,
        verification.check_departure,
        verification.issue_permit,
        verification.request_kandas_status,
        verification.kandas_decisions,
        payments.disburse_support,
        payments.issue_repayment_invoice,
        StaffActivities(notifier=notifier).notify_staff,
        StaffActivities(notifier=notifier).woke_late,
        EventActivities(pool=pool).append_events,
        RegistryActivities(pool=pool, verifier=verifier).verify_actor,
        PolicyActivities(pool=pool).version_for,
        labour.pseudonymise_employer,
        labour.check_vacancy,
        labour.employment_report,
        labour.screen_worker,
        labour.append_labour_events,
        rounds.candidates_clock,
        rounds.hold_round,
        rounds.tell_candidate,
        rounds.close_round,
        rounds.round_word,
    ]


# Pydantic models are shared with the sandbox rather than re-imported per workflow run: the
# same classes on both sides, and far less memory per cached workflow.
PASSTHROUGH = (
    "domain",
    "activities",
    "adapters",
    "workflows.api",
    "workflows.allocation_api",
    "workflows.employer_api",
    "workflows.options",
    "workflows.inputs",
    "workflows.case.inputs",
    "workflows.case.state",
    "workflows.labour.inputs",
    "workflows.labour.state",
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
    sim: Simulator | None = None,
    agencies: HttpAgencies | None = None,
    notifier: StaffNotifier | None = None,
    task_queue: str = TASK_QUEUE,
    max_cached_workflows: int = 2000,
    max_concurrent_activities: int = 200,
    max_concurrent_workflow_tasks: int = 100,
    graceful_shutdown_seconds: float = 10.0,
    verifier: Verifier | None = None,
    feeds: Issuer | None = None,
    employer_secret: bytes | None = None,
    workflows: Sequence[type] = (
        ApplicantWorkflow,
        EmployerPermitWorkflow,
        AllocationRoundWorkflow,
    ),
) -> Worker:
    """A worker on the agencies over HTTP, or on the in-process simulator (tests).
    `verifier` proves the senders of staff input (without one, every staff input is refused
    as unauthenticated); `feeds` signs the agency feeds' facts that come back in-process."""
    if agencies is None:
        if sim is None:
            raise ValueError("a worker needs agencies: HttpAgencies, or a Simulator in tests")
        # in-process: replies go straight in
        sim.connect_replies(authority_reply_sink(client, feeds=feeds))
    notifier = notifier or sim or LogNotifier()
    verifier = verifier or Verifier(VerifyKeys())
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(workflows),
        workflow_runner=workflow_runner(),
        activities=activities_for(
            pool=pool,
            agencies=agencies or sim,
            notifier=notifier,
            verifier=verifier,
            employer_secret=employer_secret,
            client=client,
        ),
        max_cached_workflows=max_cached_workflows,
        max_concurrent_activities=max_concurrent_activities,
        max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
        # Let running activities finish (or reach a retryable point) on a clean stop.
        graceful_shutdown_timeout=timedelta(seconds=graceful_shutdown_seconds),
    )


# --- a worker process, from its settings ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Services:
    """What a worker process runs on, built from its settings by `services`."""

    settings: Settings
    client: Client
    pool: asyncpg.Pool
    agencies: HttpAgencies
    notifier: StaffNotifier
    runtime: Runtime | None  # with metrics (KOSH_METRICS_LISTEN)
    verifier: Verifier
    feeds: Issuer | None

    def worker(self) -> Worker:
        s = self.settings
        return build_worker(
            self.client,
            pool=self.pool,
            agencies=self.agencies,
            notifier=self.notifier,
            task_queue=s.task_queue,
            max_cached_workflows=s.max_cached_workflows,
            max_concurrent_activities=s.max_concurrent_activities,
            max_concurrent_workflow_tasks=s.max_concurrent_workflow_tasks,
            graceful_shutdown_seconds=s.graceful_shutdown_seconds,
            verifier=self.verifier,
            feeds=self.feeds,
            employer_secret=s.employer_secret,
        )


@contextlib.asynccontextmanager
async def services(settings: Settings) -> AsyncIterator[Services]:
    """The client, the pool (migrated first with KOSH_MIGRATE_ON_START), the agencies and the
    staff notifier that `settings` describe; closed when the block ends."""
    runtime = metrics_runtime(settings.metrics_listen) if settings.metrics_listen else None
    client = await connect(
        settings.temporal_address,
        settings.namespace,
        keys=settings.payload_keys,
        runtime=runtime,
        tracer=start_tracing() if settings.tracing else None,
    )
    async with (
        database(
            settings.database_url,
            max_size=settings.db_pool_size,
            migrate=settings.migrate_on_start,
        ) as pool,
        agencies(
            settings.agencies_url,
            timeout=settings.agencies_timeout,
            callback_url=settings.callback_url,
            token=_secret(settings.agencies_token),
        ) as http,
        staff_notifier(
            settings.staff_notices_url, token=_secret(settings.staff_notices_token)
        ) as notifier,
    ):
        verifier, feeds = assertion_keys(settings)
        yield Services(settings, client, pool, http, notifier, runtime, verifier, feeds)


def _required(settings: Settings) -> None:
    for name, value in (
        ("KOSH_DATABASE_URL", settings.database_url),
        ("KOSH_AGENCIES_URL", settings.agencies_url),
        ("KOSH_CALLBACK_URL", settings.callback_url),
    ):
        if not value:
            raise SystemExit(
                f"{name} is not set (README, 'Running a worker elsewhere'; or use `kosh dev`)"
            )
    if settings.assertion_public_keys_file is None:
        raise SystemExit(
            "KOSH_ASSERTION_PUBLIC_KEYS_FILE is not set: a worker proves who sent each staff "
            "input (README, 'Personal data and keys')"
        )
    if settings.payload_keys is None:
        raise SystemExit(
            "KOSH_CODEC_KEYS_FILE (or KOSH_CODEC_KEYS) is not set: payloads leave a worker "
            "encrypted (README, 'Personal data and keys')"
        )
    if settings.employer_secret is None:
        raise SystemExit(
            "KOSH_EMPLOYER_HMAC_KEY_FILE (or KOSH_EMPLOYER_HMAC_KEY) is not set: employers are "
            "shown by a keyed id that every worker must make alike (`kosh keys employer`)"
        )


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run one worker, and its callback receiver, until `stop` is set (or forever)."""
    _required(settings)
    async with services(settings) as parts, contextlib.AsyncExitStack() as running:
        token = _secret(settings.callback_token)
        receiver = callback_receiver(parts.client, token=token, feeds=parts.feeds)
        url = await running.enter_async_context(serving(receiver, settings.callback_listen))
        await running.enter_async_context(parts.worker())
        await ensure_allocation_schedules(
            parts.client, task_queue=settings.task_queue, update=False
        )
        if parts.runtime is not None:
            await running.enter_async_context(record_gauges(parts.runtime, parts.pool))
        structlog.get_logger("kosh.worker").info(
            "worker_started",
            task_queue=settings.task_queue,
            address=settings.temporal_address,
            callbacks=url,
            metrics=settings.metrics_listen or None,
        )
        await (stop or asyncio.Event()).wait()


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def main() -> None:
    settings = Settings.from_env()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
