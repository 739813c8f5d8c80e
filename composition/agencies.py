"""The outside world's side of a worker: the agencies over HTTP, the staff notifier, and the
callback receiver whose messages become signals to their cases."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.assertions import AssertionKeyError, Issuer, SigningKeys, Verifier, VerifyKeys
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
from settings import Settings
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


def authority_reply_sink(client: Client, *, feeds: Issuer | None) -> ReplySink:
    """Authorities' later replies become `record_authority_reply` signals to their case (bound
    by the reference); the address registry's notice of a registration becomes an arrival and
    the treasury's of a transfer a repayment (`record_fact`), each asserted by its agency feed
    with `feeds` (without it the case refuses them as unauthenticated)."""

    def proved(fact: StaffFact, feed: str, workflow_id: str) -> StaffFact:
        if feeds is None or fact.request_id is None:
            return fact
        token = feeds.issue(staff_id=feed, workflow_id=workflow_id, request_id=fact.request_id)
        return fact.model_copy(update={"assertion": token})

    async def deliver(message: AgencyMessage) -> None:
        workflow_id = case_workflow_id(message.case_id)
        handle = client.get_workflow_handle(workflow_id)
        name: str
        payload: Any
        if isinstance(message, RegistrationNotice):
            name = SIGNAL_FACT
            arrival = StaffFact(
                kind="arrival", region=message.region, request_id=f"registry:{message.reference}"
            )
            payload = proved(arrival, ADDRESS_REGISTRY_FEED, workflow_id)
        elif isinstance(message, RepaymentNotice):
            name = SIGNAL_FACT
            repaid = StaffFact(
                kind="repayment",
                amount_tiyn=message.amount_tiyn,
                reference=message.reference,
                request_id=f"treasury:{message.reference}",
            )
            payload = proved(repaid, TREASURY_FEED, workflow_id)
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


def callback_receiver(client: Client, *, token: str | None, feeds: Issuer | None) -> Starlette:
    """kosh's callback receiver (an ASGI app): agencies' later answers signal their cases."""
    return callback_app(authority_reply_sink(client, feeds=feeds), token=token)


def assertion_keys(settings: Settings) -> tuple[Verifier, Issuer | None]:
    """A worker's: the public keys that verify staff and feed assertions, and the feeds' issuer
    for its callback receiver (KOSH_ASSERTION_PUBLIC_KEYS_FILE, KOSH_FEED_KEYS_FILE)."""
    try:
        public = settings.assertion_public_keys_file
        verify = VerifyKeys.load(public) if public is not None else VerifyKeys()
        feed_file = settings.feed_keys_file
        feeds = Issuer(SigningKeys.load(feed_file)) if feed_file is not None else None
    except AssertionKeyError as exc:
        raise SystemExit(str(exc)) from None
    if feeds is not None and feeds.scope != "feed":
        raise SystemExit(f"KOSH_FEED_KEYS_FILE={settings.feed_keys_file}: not a feed key file")
    return Verifier(verify), feeds
