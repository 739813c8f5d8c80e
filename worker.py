"""The composition root: builds the client, the pool, the adapters, the activities, the worker.

Nothing else constructs infrastructure. Configured by environment variables (see Settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
import uvicorn
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from pydantic import SecretStr
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.events import EventActivities
from activities.labour import LabourActivities
from activities.logging import redact_personal
from activities.payments import PaymentActivities
from activities.staff import RegistryActivities, StaffActivities
from activities.verification import VerificationActivities
from adapters.callbacks import CaseGoneError, callback_app
from adapters.codec import CodecKeys, EncryptionCodec
from adapters.http import AgencySettings, HttpAgencies
from adapters.limits import InputSizeLimit
from adapters.notifier import LogNotifier, WebhookNotifier
from adapters.ports import (
    AgencyMessage,
    RegistrationNotice,
    RepaymentNotice,
    ReplySink,
    StaffNotifier,
)
from adapters.simulator import Simulator
from settings import Settings
from store.errors import StoreError
from store.migrate import migrate
from store.pool import create_pool
from store.queries import cases_by_stage
from workflows.api import (
    SEARCH_ATTRIBUTES,
    SIGNAL_AUTHORITY,
    SIGNAL_FACT,
    TASK_QUEUE,
    AuthorityReplyInput,
    StaffFact,
    case_workflow_id,
)
from workflows.case.workflow import ApplicantWorkflow
from workflows.labour.workflow import EmployerPermitWorkflow


def configure_logging(*, json: bool, level: str = "info", stream: Any = None) -> None:
    """JSON lines in production, a readable console in a terminal; no personal data either way."""
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            redact_personal,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=True,
    )


def data_converter(keys: CodecKeys | None) -> DataConverter:
    """pydantic on the wire; with keys, every payload and failure sealed (AES-256-GCM)."""
    if keys is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(
    address: str,
    namespace: str = "default",
    *,
    keys: CodecKeys | None = None,
    runtime: Runtime | None = None,
    tracer: trace.Tracer | None = None,
) -> Client:
    """A Temporal client that speaks pydantic, encrypting with `keys` (every client, worker
    and Replayer of a deployment must hold the same keys), and that refuses to send a case
    input over kosh's size limit (adapters/limits.py). A worker's `runtime` carries its
    metrics; a `tracer` adds OpenTelemetry spans (to its workers too)."""
    converter = data_converter(keys)
    interceptors: list[Any] = [InputSizeLimit(converter.payload_converter)]
    if tracer is not None:
        interceptors.append(TracingInterceptor(tracer))
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=converter,
        interceptors=interceptors,
        runtime=runtime,
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


def activities_for(*, pool: asyncpg.Pool, agencies: Any, notifier: StaffNotifier) -> Sequence[Any]:
    """Every activity, bound to its adapters (`agencies` implements every agency port)."""
    payments = PaymentActivities(payments=agencies)
    verification = VerificationActivities(
        documents=agencies,
        language=agencies,
        authorities=agencies,
        address=agencies,
        border=agencies,
        permits=agencies,
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
        payments.disburse_support,
        payments.issue_repayment_invoice,
        StaffActivities(notifier=notifier).notify_staff,
        EventActivities(pool=pool).append_events,
        RegistryActivities(pool=pool).check_actor,
        *_labour(LabourActivities(agencies=agencies, pool=pool)),
    ]


def _labour(acts: LabourActivities) -> list[Any]:
    return [
        acts.check_vacancy,
        acts.employment_report,
        acts.screen_worker,
        acts.append_labour_events,
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
    sim: Simulator | None = None,
    agencies: HttpAgencies | None = None,
    notifier: StaffNotifier | None = None,
    task_queue: str = TASK_QUEUE,
    max_cached_workflows: int = 2000,
    max_concurrent_activities: int = 200,
    max_concurrent_workflow_tasks: int = 100,
    graceful_shutdown_seconds: float = 10.0,
) -> Worker:
    """A worker on the agencies over HTTP, or on the in-process simulator (tests)."""
    if agencies is None:
        if sim is None:
            raise ValueError("a worker needs agencies: HttpAgencies, or a Simulator in tests")
        sim.connect_replies(authority_reply_sink(client))  # in-process: replies go straight in
    notifier = notifier or sim or LogNotifier()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ApplicantWorkflow, EmployerPermitWorkflow],
        workflow_runner=workflow_runner(),
        activities=activities_for(pool=pool, agencies=agencies or sim, notifier=notifier),
        max_cached_workflows=max_cached_workflows,
        max_concurrent_activities=max_concurrent_activities,
        max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
        # Let running activities finish (or reach a retryable point) on a clean stop.
        graceful_shutdown_timeout=timedelta(seconds=graceful_shutdown_seconds),
    )


# The agency feeds' registry ids (migration 0005 registers them with the agency_feed role).
ADDRESS_REGISTRY_FEED = "feed.address-registry"
TREASURY_FEED = "feed.treasury"


def authority_reply_sink(client: Client) -> ReplySink:
    """Authorities' later replies become `record_authority_reply` signals to their case; the
    address registry's notice of a registration becomes an arrival (`record_fact`)."""

    async def deliver(message: AgencyMessage) -> None:
        handle = client.get_workflow_handle(case_workflow_id(message.case_id))
        name: str
        payload: Any
        if isinstance(message, RegistrationNotice):
            name = SIGNAL_FACT
            payload = StaffFact(
                kind="arrival",
                actor_id=ADDRESS_REGISTRY_FEED,
                region=message.region,
                request_id=f"registry:{message.reference}",
            )
        elif isinstance(message, RepaymentNotice):
            name = SIGNAL_FACT
            payload = StaffFact(
                kind="repayment",
                actor_id=TREASURY_FEED,
                amount_tiyn=message.amount_tiyn,
                reference=message.reference,
                request_id=f"treasury:{message.reference}",
            )
        else:
            name = SIGNAL_AUTHORITY
            payload = AuthorityReplyInput(
                authority=message.authority,
                reference=message.reference,
                outcome=message.outcome,
                reason=message.reason,
            )
        try:
            await handle.signal(name, payload)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:  # no such case, or it has closed
                raise CaseGoneError(f"case {message.case_id} is not running") from exc
            raise

    return deliver


def http_agencies(settings: Settings) -> HttpAgencies:
    return HttpAgencies(
        AgencySettings(
            base_url=settings.agencies_url,
            token=_secret(settings.agencies_token),
            timeout_seconds=settings.agencies_timeout,
            callback_url=settings.callback_url,
        )
    )


class _QuietServer(uvicorn.Server):
    """uvicorn inside a process that owns its own signal handling."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: Any, listen: str) -> AsyncIterator[str]:
    """Serve an ASGI app on `listen` (host:port; port 0 picks a free one) until the block
    ends; yields its base URL."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"{listen!r}: expected host:port")
    server = _QuietServer(uvicorn.Config(app, host=host, port=int(port), log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():  # could not bind, say: the error is in the task
            await task
            raise SystemExit(f"could not serve on {listen}")
        await asyncio.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound}"
    finally:
        server.should_exit = True
        await task


def metrics_runtime(listen: str) -> Runtime:
    """A runtime whose metrics (the SDK's, and kosh's from workflows and activities) are
    served for Prometheus on `listen` (host:port)."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=listen)))


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run one worker, and its callback receiver, until `stop` is set (or forever)."""
    for name, value in (
        ("KOSH_DATABASE_URL", settings.database_url),
        ("KOSH_AGENCIES_URL", settings.agencies_url),
        ("KOSH_CALLBACK_URL", settings.callback_url),
    ):
        if not value:
            raise SystemExit(
                f"{name} is not set (README, 'Running a worker elsewhere'; or use `kosh dev`)"
            )
    if settings.payload_keys is None:
        raise SystemExit(
            "KOSH_CODEC_KEYS_FILE (or KOSH_CODEC_KEYS) is not set: payloads leave a worker "
            "encrypted (README, 'Personal data and keys')"
        )
    runtime = metrics_runtime(settings.metrics_listen) if settings.metrics_listen else None
    client = await connect(
        settings.temporal_address,
        settings.namespace,
        keys=settings.payload_keys,
        runtime=runtime,
        tracer=start_tracing() if settings.tracing else None,
    )
    pool = await create_pool(settings.database_url, max_size=settings.db_pool_size)
    agencies = http_agencies(settings)
    notifier: LogNotifier | WebhookNotifier = LogNotifier()
    if settings.staff_notices_url:
        notifier = WebhookNotifier(
            settings.staff_notices_url, token=_secret(settings.staff_notices_token)
        )
    receiver = callback_app(authority_reply_sink(client), token=_secret(settings.callback_token))
    try:
        if settings.migrate_on_start:
            async with pool.acquire() as conn:
                await migrate(conn)
        worker = build_worker(
            client,
            pool=pool,
            agencies=agencies,
            notifier=notifier,
            task_queue=settings.task_queue,
            max_cached_workflows=settings.max_cached_workflows,
            max_concurrent_activities=settings.max_concurrent_activities,
            max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
            graceful_shutdown_seconds=settings.graceful_shutdown_seconds,
        )
        async with contextlib.AsyncExitStack() as running:
            url = await running.enter_async_context(serving(receiver, settings.callback_listen))
            await running.enter_async_context(worker)
            if runtime is not None:
                await running.enter_async_context(record_gauges(runtime, pool))
            structlog.get_logger("kosh.worker").info(
                "worker_started",
                task_queue=settings.task_queue,
                address=settings.temporal_address,
                callbacks=url,
                metrics=settings.metrics_listen or None,
            )
            await (stop or asyncio.Event()).wait()
    finally:
        await agencies.aclose()
        if isinstance(notifier, WebhookNotifier):
            await notifier.aclose()
        await pool.close()


@contextlib.asynccontextmanager
async def record_gauges(
    runtime: Runtime, pool: asyncpg.Pool, *, every: float = 15.0
) -> AsyncIterator[None]:
    """`kosh_cases{stage}`: cases per stage from the business record, refreshed `every`
    seconds. Every replica reports the same truth: read it with max(), not sum()."""
    gauge = runtime.metric_meter.create_gauge("kosh_cases", "cases per stage (the record)")
    log = structlog.get_logger("kosh.metrics")

    async def refresh() -> None:
        seen: set[str] = set()
        while True:
            try:
                async with pool.acquire() as conn:
                    counts = await cases_by_stage(conn)
            except StoreError as exc:
                log.warning("case_gauge_unavailable", error=str(exc))
            else:
                for stage in seen | set(counts):
                    gauge.with_additional_attributes({"stage": stage}).set(counts.get(stage, 0))
                seen |= set(counts)
            await asyncio.sleep(every)

    task = asyncio.create_task(refresh())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def start_tracing() -> trace.Tracer:
    """OpenTelemetry for the TracingInterceptor's spans: to the OTLP endpoint in the
    standard OTEL_EXPORTER_OTLP_* variables, else to the log (stderr)."""
    provider = TracerProvider(resource=Resource.create({"service.name": "kosh-worker"}))
    exporter: Any
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        exporter = OTLPSpanExporter()
    else:
        exporter = ConsoleSpanExporter(out=sys.stderr)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider.get_tracer("kosh.worker")


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def main() -> None:
    settings = Settings.from_env()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
