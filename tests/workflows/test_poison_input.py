"""No payload can jam a case (issue #20): a signal sealed with a key nobody holds, random bytes
tagged as sealed, a payload no converter reads, and a signal or update with a name the case
does not take are refused and listed; the case keeps running and answers its status. Sent by
a plain Temporal client, the way an attacker would, to an encrypting worker."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import asyncpg
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.testing import WorkflowEnvironment

from adapters.codec import ENCODING, KEY_ID_HEADER, CodecKeys
from tests.workflows.harness import (
    FEEDS,
    GOOD_INTERVIEW,
    INTERVIEWER,
    OFFICER,
    VERIFIER,
    GatedSimulator,
    application,
    signed,
)
from tests.workflows.test_employer import request as employer_request
from worker import build_worker, data_converter
from workflows import api
from workflows import employer_api as eapi

KEYS = CodecKeys.generate("key-a")


def raw(data: bytes, **metadata: bytes) -> RawValue:
    return RawValue(Payload(metadata=metadata, data=data))


POISON = [
    # random bytes tagged as sealed with the worker's own key id
    raw(os.urandom(64), encoding=ENCODING, **{KEY_ID_HEADER: b"key-a"}),
    # sealed with a key the worker does not hold
    raw(os.urandom(64), encoding=ENCODING, **{KEY_ID_HEADER: b"key-stolen"}),
    # an encoding no converter reads
    raw(b"\x00\x01", encoding=b"binary/protobuf-of-nothing"),
]


def sealed(env: WorkflowEnvironment) -> Client:
    return Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=data_converter(KEYS),
    )


async def test_poison_signals_and_unknown_names_never_fail_a_workflow_task(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    client, plain = sealed(time_env), time_env.client  # plain: no codec, like an attacker
    sim, queue = GatedSimulator(), f"poison-{uuid.uuid4()}"
    case_id = f"poison-{uuid.uuid4().hex[:10]}"
    worker = build_worker(
        client, pool=embedded_pool, sim=sim, task_queue=queue, verifier=VERIFIER, feeds=FEEDS
    )
    async with worker:
        h = await client.start_workflow(
            api.WORKFLOW_NAME,
            api.CaseInput(case_id=case_id, application=application(track="general")),
            id=api.case_workflow_id(case_id),
            task_queue=queue,
            result_type=api.CaseResult,
        )
        while (await sim.notices.get()).kind != "interview_due":
            pass
        attacker = plain.get_workflow_handle(h.id)
        for payload in POISON:
            await attacker.signal(api.SIGNAL_INTERVIEW, payload)
        await attacker.signal("approve_everything", {"points": 100})
        with pytest.raises(WorkflowUpdateFailedError) as poisoned_update:
            await attacker.execute_update(api.UPDATE_FACT, POISON[1])
        assert getattr(poisoned_update.value.cause, "type", None) == "undecryptable_input"

        status: Any = None
        for _ in range(100):
            status = await h.query(api.QUERY_STATUS, result_type=api.CaseStatus)
            if len(status.refused) == 4:
                break
        assert [(r.name, r.rule) for r in status.refused] == [
            ("interview", "undecryptable_input"),
            ("interview", "undecryptable_input"),
            ("interview", "invalid_input"),
            ("approve_everything", "unknown_input"),
        ]
        assert "not loaded" in status.refused[1].reason  # the key id it could not open
        # the case goes on: a genuine interview is taken
        answer = await h.execute_update(
            api.UPDATE_INTERVIEW,
            signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER),
            result_type=api.UpdateResult,
        )
        assert answer.accepted, answer.reason
        history = await h.fetch_history()
        assert not [
            e for e in history.events if e.HasField("workflow_task_failed_event_attributes")
        ]
        withdrawal = signed(h.id, {"kind": "withdrawal", "reason": "done"}, by=OFFICER)
        await h.execute_update(api.UPDATE_FACT, withdrawal, result_type=api.UpdateResult)
        assert (await h.result()).closed_reason in ("withdrawn", "rejected")


async def test_a_labour_request_refuses_poison_and_unknown_names_too(
    time_env: WorkflowEnvironment, embedded_pool: asyncpg.Pool
) -> None:
    client = sealed(time_env)
    sim, queue = GatedSimulator(), f"poison-lr-{uuid.uuid4()}"
    req = employer_request()
    sim.world.plan_vacancy(req.vacancy_reference, days_on_market=40)
    request_id = f"lr-{uuid.uuid4().hex[:10]}"
    worker = build_worker(
        client, pool=embedded_pool, sim=sim, task_queue=queue, verifier=VERIFIER, feeds=FEEDS
    )
    async with worker:
        h = await client.start_workflow(
            eapi.WORKFLOW_NAME,
            eapi.LabourInput(request_id=request_id, request=req),
            id=eapi.request_workflow_id(request_id),
            task_queue=queue,
            result_type=eapi.LabourResult,
        )
        attacker = time_env.client.get_workflow_handle(h.id)
        await attacker.signal(eapi.SIGNAL_FACT, POISON[0])
        await attacker.signal(eapi.SIGNAL_FACT, {"kind": "violation", "actor_id": OFFICER})
        await attacker.signal("close_it", "now")
        status: Any = None
        for _ in range(100):
            status = await h.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)
            if len(status.refused) == 3:
                break
        assert [(r.name, r.rule) for r in status.refused] == [
            ("labour_fact", "undecryptable_input"),
            ("labour_fact", "unauthenticated"),
            ("close_it", "unknown_input"),
        ]
        # the request goes on to its permit (its reviews would take months: not waited for)
        async with asyncio.timeout(20):
            while (await h.query(eapi.QUERY_STATUS, result_type=eapi.LabourStatus)).stage != (
                "permit"
            ):
                await asyncio.sleep(0.05)
        events = (await h.fetch_history()).events
        assert not [e for e in events if e.HasField("workflow_task_failed_event_attributes")]
        await h.terminate("enough for the test")
