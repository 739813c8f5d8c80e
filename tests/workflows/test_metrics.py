"""A worker's Prometheus endpoint: the SDK's metrics and kosh's own, and every kosh or SDK
metric the Grafana dashboard draws is one a worker really exports."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.testing import WorkflowEnvironment

from adapters.ports import TransientAdapterError
from adapters.simulator import SimConfig, Simulator
from tests.workflows.harness import application
from worker import build_worker, connect, metrics_runtime, record_gauges
from workflows import api

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy/grafana/dashboards/kosh.json"


class FirstCallFails(Simulator):
    """The document registry is down for the first call: one failed attempt, then retried."""

    def __init__(self) -> None:
        super().__init__(SimConfig(latency_ms=(0, 1)))
        self.failed = False

    async def verify(self, **kwargs: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise TransientAdapterError("document registry down (test)")
        return await super().verify(**kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def exported(text: str) -> set[str]:
    """Metric names on a Prometheus page (histograms under their base name too)."""
    names = set(re.findall(r"^([a-z_][a-z0-9_]*)(?:\{| )", text, re.MULTILINE))
    return names | {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def series(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name + "{")]


async def test_a_worker_exports_sdk_and_business_metrics_the_dashboard_uses(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    port = free_port()
    runtime = metrics_runtime(f"127.0.0.1:{port}")
    client = await connect(time_env.client.service_client.config.target_host, runtime=runtime)
    sim = FirstCallFails()
    queue = f"tq-metrics-{uuid.uuid4().hex[:6]}"
    base = application()
    cases = {
        "forged": application(forged=True),  # rejected at the document check
        "hostile": base.model_copy(update={"full_name": "x\x00"}),  # refused at intake
    }
    async with (
        build_worker(client, pool=embedded_pool, sim=sim, task_queue=queue),
        record_gauges(runtime, embedded_pool, every=0.05),
    ):
        for name, app in cases.items():
            cid = f"metrics-{name}-{uuid.uuid4().hex[:6]}"
            handle = await client.start_workflow(
                api.WORKFLOW_NAME,
                api.CaseInput(case_id=cid, application=app),
                id=api.case_workflow_id(cid),
                task_queue=queue,
                result_type=api.CaseResult,
            )
            await asyncio.wait_for(handle.result(), 60)
        await asyncio.sleep(0.3)  # a gauge refresh after the last close
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text

    assert any('type="CaseClosed"' in s for s in series(text, "kosh_events"))
    assert any('reason="rejected"' in s for s in series(text, "kosh_cases_closed"))
    assert any(
        'rule="invalid_application"' in s and 'input="application"' in s
        for s in series(text, "kosh_inputs_refused")
    )
    closed = [s for s in series(text, "kosh_cases") if 'stage="closed"' in s]
    assert closed and float(closed[0].rsplit(" ", 1)[1]) >= 1
    assert series(text, "temporal_activity_execution_failed"), "no failed attempt counted"

    dashboard = json.loads(DASHBOARD.read_text())
    drawn = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b((?:kosh|temporal)_[a-z0-9_]+)", target["expr"])
    }
    names = exported(text)
    missing = {n for n in drawn if re.sub(r"_bucket$", "", n) not in names}
    # money metrics appear with the first payment; the rest must be on the page now
    missing -= {"kosh_support_paid_tiyn", "kosh_repayment_demanded_tiyn", "kosh_repaid_tiyn"}
    assert not missing, f"the dashboard draws metrics no worker exports: {sorted(missing)}"


async def test_tracing_follows_a_case_through_its_workflow_and_activities(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    target = time_env.client.service_client.config.target_host
    traced = await connect(target, tracer=provider.get_tracer("kosh-test"))
    queue = f"tq-tracing-{uuid.uuid4().hex[:6]}"
    cid = f"traced-{uuid.uuid4().hex[:6]}"
    sim = Simulator(SimConfig(latency_ms=(0, 1)))
    async with build_worker(traced, pool=embedded_pool, sim=sim, task_queue=queue):
        handle = await traced.start_workflow(
            api.WORKFLOW_NAME,
            api.CaseInput(case_id=cid, application=application(forged=True)),
            id=api.case_workflow_id(cid),
            task_queue=queue,
            result_type=api.CaseResult,
        )
        await asyncio.wait_for(handle.result(), 60)
    names = {span.name for span in spans.get_finished_spans()}
    assert f"StartWorkflow:{api.WORKFLOW_NAME}" in names
    assert f"RunWorkflow:{api.WORKFLOW_NAME}" in names
    assert {"RunActivity:verify_documents", "RunActivity:append_events"} <= names
    # off by default: a client without tracing adds no interceptor
    plain = await connect(target)
    assert not any(type(i).__name__ == "TracingInterceptor" for i in plain.config()["interceptors"])
