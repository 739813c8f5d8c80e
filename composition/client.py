"""The Temporal client: pydantic on the wire, payloads sealed by the codec, kosh's input size
limit and, when asked, OpenTelemetry spans; the codec server that opens payloads for signed-in
operators and logs every decryption."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import asyncpg
from opentelemetry import trace
from starlette.applications import Starlette
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from adapters.codec import CodecKeys, EncryptionCodec
from adapters.codec_server import codec_app
from adapters.limits import InputSizeLimit
from adapters.oidc import OidcOperators, OidcSettings
from composition.codec_access import RecordedAccess, RegistryOperators
from workflows.api import SEARCH_ATTRIBUTES


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


def codec_server(
    keys: CodecKeys,
    *,
    pool: asyncpg.Pool,
    oidc: OidcSettings | None = None,
    ui_origins: Sequence[str] = (),
    namespace: str = "",
) -> Starlette:
    """The codec server (an ASGI app): /decode and /encode with `keys`, for operators signed
    in with their staff credentials (the registry in `pool`) or, with `oidc`, an identity
    provider's access token; every decryption written to the access log in `pool` first."""
    return codec_app(
        EncryptionCodec(keys),
        access_log=RecordedAccess(pool),
        staff=RegistryOperators(pool),
        tokens=OidcOperators(oidc) if oidc is not None else None,
        ui_origins=ui_origins,
        namespace=namespace,
    )
