"""The outside world's side of a worker: the agencies over HTTP, the staff notifier, and the
callback receiver whose messages become signals to their cases."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.callbacks import CaseGoneError, callback_app
from adapters.http import AgencySettings, HttpAgencies
from adapters.notifier import LogNotifier, WebhookNotifier
from adapters.ports import (
    AgencyMessage,
    RegistrationNotice,
    RepaymentNotice,
    ReplySink,
    StaffNotifier,
)
from workflows.api import (
    SIGNAL_AUTHORITY,
    SIGNAL_FACT,
    AuthorityReplyInput,
    StaffFact,
    case_workflow_id,
)

# The agency feeds' registry ids (migration 0005 registers them with the agency_feed role).
ADDRESS_REGISTRY_FEED = "feed.address-registry"
TREASURY_FEED = "feed.treasury"


@contextlib.asynccontextmanager
async def agencies(
    url: str, *, timeout: float, callback_url: str, token: str | None = None
) -> AsyncIterator[HttpAgencies]:
    """Every outside agency over HTTP (`kosh sim` stands in for them), closed when the block
    ends; they send later answers to `callback_url` (the callback receiver)."""
    http = HttpAgencies(
        AgencySettings(
            base_url=url, token=token, timeout_seconds=timeout, callback_url=callback_url
        )
    )
    try:
        yield http
    finally:
        await http.aclose()


@contextlib.asynccontextmanager
async def staff_notifier(url: str, *, token: str | None) -> AsyncIterator[StaffNotifier]:
    """Staff notices POSTed to the staff task system at `url`; without one, a log line each."""
    if not url:
        yield LogNotifier()
        return
    webhook = WebhookNotifier(url, token=token)
    try:
        yield webhook
    finally:
        await webhook.aclose()


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


def callback_receiver(client: Client, *, token: str | None) -> Starlette:
    """kosh's callback receiver (an ASGI app): agencies' later answers signal their cases."""
    return callback_app(authority_reply_sink(client), token=token)
