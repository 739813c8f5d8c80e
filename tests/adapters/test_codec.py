"""The payload codec: sealed with the active key, opened with any loaded key, tamper-evident;
stamped with the workflow it was sealed for, the stamp bound into the seal."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import ActivitySerializationContext, WorkflowSerializationContext

from adapters.codec import (
    REASON_HEADER,
    UNDECRYPTABLE,
    WORKFLOW_HEADER,
    CodecKeyError,
    CodecKeys,
    EncryptionCodec,
    keys_from_env,
    stamp_of,
)

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"full_name": "Aigerim"}')


async def test_a_payload_is_sealed_and_opened() -> None:
    codec = EncryptionCodec(CodecKeys.generate("k1"))
    [sealed] = await codec.encode([PLAIN])
    assert b"Aigerim" not in sealed.SerializeToString()
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert await codec.decode([sealed]) == [PLAIN]
    [again] = await codec.encode([PLAIN])
    assert again.data != sealed.data  # a fresh nonce every time


async def test_rotation_keeps_old_payloads_readable_and_seals_with_the_new_key() -> None:
    old = CodecKeys.generate("k1")
    [sealed_old] = await EncryptionCodec(old).encode([PLAIN])
    rotated = old.with_new_active("k2")
    codec = EncryptionCodec(rotated)
    [sealed_new] = await codec.encode([PLAIN])
    assert sealed_new.metadata["encryption-key-id"] == b"k2"
    assert await codec.decode([sealed_old, sealed_new]) == [PLAIN, PLAIN]
    with pytest.raises(CodecKeyError, match="k2"):
        EncryptionCodec(old).open(sealed_new)
    [marked] = await EncryptionCodec(old).decode([sealed_new])  # never an exception
    assert marked.metadata["encoding"] == UNDECRYPTABLE and marked.data == sealed_new.data
    assert b"'k2', which is not loaded" in marked.metadata[REASON_HEADER]


async def test_a_tampered_payload_is_refused() -> None:
    codec = EncryptionCodec(CodecKeys.generate("k1"))
    [sealed] = await codec.encode([PLAIN])
    forged = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(CodecKeyError, match="does not open"):
        codec.open(forged)
    [marked] = await codec.decode([forged])
    assert marked.metadata["encoding"] == UNDECRYPTABLE


def for_workflow(workflow_id: str) -> WorkflowSerializationContext:
    return WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)


async def test_a_payload_sealed_for_a_workflow_carries_its_id_bound_into_the_seal() -> None:
    codec = EncryptionCodec(CodecKeys.generate("k1"))
    [sealed] = await codec.with_context(for_workflow("case-c-1")).encode([PLAIN])
    assert sealed.metadata[WORKFLOW_HEADER] == b"case-c-1" and stamp_of(sealed) == "case-c-1"
    assert await codec.decode([sealed]) == [PLAIN]  # any codec of the keys opens it
    activity = ActivitySerializationContext(
        namespace="default",
        activity_id="1",
        activity_type="verify_documents",
        activity_task_queue="kosh",
        workflow_id="case-c-1",
        workflow_type="ApplicantWorkflow",
        is_local=False,
    )
    [by_activity] = await codec.with_context(activity).encode([PLAIN])
    assert stamp_of(by_activity) == "case-c-1"
    [unstamped] = await codec.encode([PLAIN])  # no workflow: no stamp, the first format
    assert WORKFLOW_HEADER not in unstamped.metadata and stamp_of(unstamped) is None
    assert await codec.decode([unstamped]) == [PLAIN]


@pytest.mark.parametrize("forged", [b"case-c-2", b"", None])
async def test_a_forged_or_removed_workflow_stamp_does_not_open(forged: bytes | None) -> None:
    codec = EncryptionCodec(CodecKeys.generate("k1"))
    [sealed] = await codec.with_context(for_workflow("case-c-1")).encode([PLAIN])
    metadata = dict(sealed.metadata)
    if forged is None:
        del metadata[WORKFLOW_HEADER]
    else:
        metadata[WORKFLOW_HEADER] = forged
    tampered = Payload(metadata=metadata, data=sealed.data)
    with pytest.raises(CodecKeyError, match="does not open"):
        codec.open(tampered)
    [marked] = await codec.decode([tampered])  # never an exception
    assert marked.metadata["encoding"] == UNDECRYPTABLE and marked.data == sealed.data
    # a stamp added to an unstamped payload does not open either
    [plain_seal] = await codec.encode([PLAIN])
    added = Payload(metadata={**plain_seal.metadata, WORKFLOW_HEADER: b"x"}, data=plain_seal.data)
    [marked] = await codec.decode([added])
    assert marked.metadata["encoding"] == UNDECRYPTABLE


async def test_unencrypted_payloads_from_before_pass_through() -> None:
    assert await EncryptionCodec(CodecKeys.generate()).decode([PLAIN]) == [PLAIN]


def test_a_key_file_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    made = CodecKeys.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert CodecKeys.load_or_create(path) == made
    assert keys_from_env({"KOSH_CODEC_KEYS_FILE": str(path)}) == made
    assert keys_from_env({"KOSH_CODEC_KEYS": made.to_json()}) == made
    assert keys_from_env({}) is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("not json", "expected"),
        (json.dumps({"active": "k9", "keys": {}}), "active key 'k9'"),
        (json.dumps({"active": "k", "keys": {"k": base64.b64encode(b"short").decode()}}), "32"),
        (
            json.dumps({"active": "k k", "keys": {"k k": base64.b64encode(bytes(32)).decode()}}),
            "id",
        ),
    ],
)
def test_bad_keys_are_named(text: str, named: str) -> None:
    with pytest.raises(CodecKeyError, match="KOSH_CODEC_KEYS") as caught:
        keys_from_env({"KOSH_CODEC_KEYS": text})
    assert named in str(caught.value)
