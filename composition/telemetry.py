"""Logs, traces and metrics: JSON lines or a console, OpenTelemetry spans, a Prometheus
endpoint, and the cases-per-stage gauge read from the record."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import structlog
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from activities.logging import redact_personal
from store.errors import StoreError
from store.queries import cases_by_stage


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


def metrics_runtime(listen: str) -> Runtime:
    """A runtime whose metrics (the SDK's, and kosh's from workflows and activities) are
    served for Prometheus on `listen` (host:port)."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=listen)))


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
