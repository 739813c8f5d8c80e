"""Payloads leave kosh encrypted: Temporal's history holds ciphertext stamped with its
workflow, a rotated key still opens old histories, and the codec server decrypts a real case's
payloads only for a signed-in operator, logging each decryption (issue #20: the attacks that
used to get through are tests/workflows/test_codec_access.py's)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from adapters.codec import ENCODING, WORKFLOW_HEADER, CodecKeys
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


def payloads_in(message: Message) -> list[Payload]:
    """Every Payload inside a history event, however deep (inputs, results, failures,
    headers, memos)."""
    if isinstance(message, Payload):
        return [message]
    found: list[Payload] = []
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            items = [value]
        elif field.message_type.GetOptions().map_entry:
            items = list(value.values())
        else:
            items = list(value)
        for item in items:
            if isinstance(item, Message):
                found += payloads_in(item)
    return found


async def test_every_sealed_payload_of_a_case_names_its_workflow(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    """The encoding side stamps the workflow id (the SDK's serialization context) into each
    sealed payload: inputs, activity arguments and results, signals, failures."""
    workflow_id, _, _ = await closed_case(time_env, embedded_pool)
    stored = await client_with(time_env, None).get_workflow_handle(workflow_id).fetch_history()
    sealed = [
        p
        for event in stored.events
        for p in payloads_in(event)
        if p.metadata.get("encoding") == ENCODING
    ]
    assert len(sealed) > 5
    assert {p.metadata.get(WORKFLOW_HEADER) for p in sealed} == {workflow_id.encode()}
