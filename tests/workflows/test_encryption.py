"""Payloads leave kosh encrypted: Temporal's history holds ciphertext, a rotated key still
opens old histories, and only the codec server with an operator token decrypts for people."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from adapters.codec import CodecKeys, EncryptionCodec
from adapters.codec_server import codec_app
from tests.workflows.harness import FULL_NAME, GatedSimulator, application
from worker import build_worker, data_converter, workflow_runner
from workflows import api
from workflows.case.workflow import ApplicantWorkflow

KEYS_A = CodecKeys.generate("key-a")


def client_with(env: WorkflowEnvironment, keys: CodecKeys | None) -> Client:
    return Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=data_converter(keys),
    )


async def closed_case(env: WorkflowEnvironment, pool: asyncpg.Pool) -> tuple[str, str, str]:
    """A case run end to end by an encrypting worker: (workflow id, name, passport number)."""
    sealed = client_with(env, KEYS_A)
    queue = f"enc-{uuid.uuid4()}"
    app = application(forged=True)  # rejected at the document check: no staff needed
    case_id = f"enc-{uuid.uuid4().hex[:10]}"
    async with build_worker(sealed, pool=pool, sim=GatedSimulator(), task_queue=queue):
        handle = await sealed.start_workflow(
            api.WORKFLOW_NAME,
            api.CaseInput(case_id=case_id, application=app),
            id=api.case_workflow_id(case_id),
            task_queue=queue,
            result_type=api.CaseResult,
        )
        result = await handle.result()
    assert result.closed_reason == "rejected"
    return handle.id, app.full_name, app.document.number


def raw_bytes(history: WorkflowHistory) -> bytes:
    return b"".join(event.SerializeToString() for event in history.events)


async def test_the_history_holds_no_personal_data_in_clear(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    workflow_id, name, passport = await closed_case(time_env, embedded_pool)
    stored = await client_with(time_env, None).get_workflow_handle(workflow_id).fetch_history()
    blob = raw_bytes(stored)
    assert name == FULL_NAME
    for secret in (name, *name.split(), passport):
        assert secret.encode() not in blob, f"{secret!r} is readable in Temporal's history"
    assert b"binary/encrypted" in blob and b"key-a" in blob

    # with the key, the same history reads and replays
    opened = await client_with(time_env, KEYS_A).get_workflow_handle(workflow_id).fetch_history()
    replayer = Replayer(
        workflows=[ApplicantWorkflow],
        data_converter=data_converter(KEYS_A),
        workflow_runner=workflow_runner(),
    )
    await replayer.replay_workflow(opened)


async def test_a_history_sealed_under_key_a_replays_after_rotating_to_key_b(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    workflow_id, _, _ = await closed_case(time_env, embedded_pool)
    rotated = KEYS_A.with_new_active("key-b")
    assert rotated.active == "key-b" and set(rotated.keys) == {"key-a", "key-b"}
    history = await client_with(time_env, rotated).get_workflow_handle(workflow_id).fetch_history()
    replayer = Replayer(
        workflows=[ApplicantWorkflow],
        data_converter=data_converter(rotated),
        workflow_runner=workflow_runner(),
    )
    await replayer.replay_workflow(history)
    # and without the old key it cannot be read at all (the codec hands the sealed input on
    # marked binary/undecryptable, which no converter reads: a KeyError naming the encoding)
    only_b = CodecKeys(active="key-b", keys={"key-b": rotated.keys["key-b"]})
    with pytest.raises(RuntimeError, match="KeyError"):
        await Replayer(
            workflows=[ApplicantWorkflow],
            data_converter=data_converter(only_b),
            workflow_runner=workflow_runner(),
        ).replay_workflow(history)


async def test_the_codec_server_decrypts_only_for_an_operator_token(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    workflow_id, name, passport = await closed_case(time_env, embedded_pool)
    stored = await client_with(time_env, None).get_workflow_handle(workflow_id).fetch_history()
    started = stored.events[0].workflow_execution_started_event_attributes.input
    body = json_format.MessageToJson(Payloads(payloads=list(started.payloads)))

    app = codec_app(
        EncryptionCodec(KEYS_A), token="op-token-123", ui_origins=["http://localhost:8233"]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as http:
        refused = await http.post("/decode", content=body)
        wrong = await http.post("/t/not-the-token/decode", content=body)
        by_header = await http.post(
            "/decode", content=body, headers={"Authorization": "Bearer op-token-123"}
        )
        by_path = await http.post(
            "/t/op-token-123/decode",
            content=body,
            headers={"Origin": "http://localhost:8233", "X-Namespace": "default"},
        )
        preflight = await http.options(
            "/t/op-token-123/decode", headers={"Origin": "http://localhost:8233"}
        )
    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert name not in refused.text and passport not in wrong.text
    for answer in (by_header, by_path):
        assert answer.status_code == 200
        decoded = json_format.Parse(answer.content, Payloads())
        text = b"".join(p.data for p in decoded.payloads).decode()
        assert name in text and passport in text
    assert by_path.headers["Access-Control-Allow-Origin"] == "http://localhost:8233"
    assert "x-namespace" in preflight.headers["Access-Control-Allow-Headers"]
