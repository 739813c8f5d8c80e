"""The size limit on input a kosh client sends to a case, checked before it reaches Temporal.

Temporal refuses a payload over its blob limit (2 MB by default) and, worse, fails or
terminates a workflow whose own commands carry one. So every kosh client (the CLI, the
console, the reply bridge, the demo) measures what it is about to send (a case's start
input, a signal, an update) and refuses it locally when it exceeds `MAX_INPUT_BYTES`: the
caller gets a clear error, nothing is sent, no case ever sees it. Valid input is far below
the limit (every text field of an application or a fact has a maximum length).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import client
from temporalio.converter import PayloadConverter

MAX_INPUT_BYTES = 128 * 1024


class PayloadTooLargeError(ValueError):
    """Input over kosh's limit; nothing was sent."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"{what}: the input is {size:,} bytes; a case accepts at most {limit:,} bytes "
            "per input (nothing was sent)"
        )
        self.what, self.size, self.limit = what, size, limit


class InputSizeLimit(client.Interceptor):
    """Refuse a start, signal or update whose arguments encode to more than `limit` bytes."""

    def __init__(self, converter: PayloadConverter, limit: int = MAX_INPUT_BYTES) -> None:
        self.converter, self.limit = converter, limit

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _Outbound(next, self)


class _Outbound(client.OutboundInterceptor):
    def __init__(self, next: client.OutboundInterceptor, limit: InputSizeLimit) -> None:
        super().__init__(next)
        self._limit = limit

    def _check(self, what: str, args: Sequence[Any]) -> None:
        if not args:
            return
        size = sum(p.ByteSize() for p in self._limit.converter.to_payloads(args))
        if size > self._limit.limit:
            raise PayloadTooLargeError(what, size, self._limit.limit)

    async def start_workflow(
        self, input: client.StartWorkflowInput
    ) -> client.WorkflowHandle[Any, Any]:
        self._check(f"start {input.workflow}", input.args)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: client.SignalWorkflowInput) -> None:
        self._check(f"signal {input.signal}", input.args)
        await super().signal_workflow(input)

    async def start_workflow_update(
        self, input: client.StartWorkflowUpdateInput
    ) -> client.WorkflowUpdateHandle[Any]:
        self._check(f"update {input.update}", input.args)
        return await super().start_workflow_update(input)
