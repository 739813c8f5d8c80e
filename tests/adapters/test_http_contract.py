"""The HTTP clients against the simulated agencies, both sides for real on loopback.

Each test serves a fresh `AgencySimulator` and kosh's callback receiver with uvicorn, talks
to them through `HttpAgencies`, and compares the typed answers with what the in-process
`Simulator` answers for the same input (outcomes are seeded, so the two must agree). Then the
error mapping of adapters/http.py, one row each, the payment ledger's idempotency, the
callbacks the agencies send, and the receiver's status codes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from adapters import agency_api as wire
from adapters.callbacks import PATH, CaseGoneError, callback_app
from adapters.http import AgencySettings, HttpAgencies
from adapters.ports import (
    AgencyMessage,
    AuthorityAnswer,
    PaymentReceipt,
    RegistrationNotice,
    RejectedRequestError,
    RepaymentNotice,
    TransientAdapterError,
)
from adapters.sim_server import AgencySimulator
from adapters.simulator import SimConfig, Simulator, World
from domain.application import Application
from domain.labour import Worker
from tests.workflows.harness import application, new_case_id
from worker import serving

LOOPBACK = "127.0.0.1:0"
TOKEN = "callback-s3cret"
QUICK = SimConfig(latency_ms=(0, 1), reply_latency_ms=(0, 1))
Message = AgencyMessage
Call = Callable[[HttpAgencies], Awaitable[object]]


class InlineSimulator(Simulator):
    """Answers a lodged check before the request returns: when `request` (or `watch`) is
    back, every callback it caused has been delivered, or refused, already."""

    async def _dispatch(self, answer: Message) -> None:
        await self._deliver(answer)


class Sink:
    """kosh's side of the callbacks: records what arrives, or fails as told."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.messages: list[Message] = []
        self.arrived: asyncio.Queue[Message] = asyncio.Queue()

    async def __call__(self, message: Message) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.messages.append(message)
        self.arrived.put_nowait(message)

    async def next(self) -> Message:
        return await asyncio.wait_for(self.arrived.get(), 5.0)


@dataclass
class Line:
    """One test's wire: the clients, the simulator behind the server, kosh's receiver."""

    agencies: HttpAgencies
    sim: Simulator
    sink: Sink
    receiver_url: str


@contextlib.asynccontextmanager
async def line(
    sim: Simulator,
    *,
    sink: Sink | None = None,
    api_token: str | None = None,
    client_token: str | None = None,
    callback_token: str = TOKEN,
    timeout: float = 5.0,
    with_callback_url: bool = True,
) -> AsyncIterator[Line]:
    sink = sink or Sink()
    agency = AgencySimulator(sim, api_token=api_token, callback_token=callback_token)
    # The receiver outlives the agency: a stalled handler still calling back at shutdown
    # finds it there.
    async with (
        serving(callback_app(sink, token=TOKEN), LOOPBACK) as receiver,
        serving(agency.app(), LOOPBACK) as base_url,
    ):
        settings = AgencySettings(
            base_url=base_url,
            token=client_token,
            timeout_seconds=timeout,
            callback_url=receiver + PATH if with_callback_url else "",
        )
        agencies = HttpAgencies(settings)
        try:
            yield Line(agencies=agencies, sim=sim, sink=sink, receiver_url=receiver + PATH)
        finally:
            await agencies.aclose()


def with_questionnaire(app: Application, **answers: Any) -> Application:
    return app.model_copy(update={"questionnaire": app.questionnaire.model_copy(update=answers)})


# ---- every method answers what the simulator answers ----------------------------------------
async def test_documents_verdicts_match_the_simulator() -> None:
    genuine, forged = application(), application(forged=True)
    local = Simulator(QUICK)
    async with line(InlineSimulator(QUICK)) as w:
        for app in (genuine, forged):
            over_http = await w.agencies.verify(case_id="c-docs", application=app)
            assert over_http == await local.verify(case_id="c-docs", application=app)
        forged_verdict = await w.agencies.verify(case_id="c-docs", application=forged)
    assert not forged_verdict.authentic
    assert any("check digit" in r for r in forged_verdict.reasons)


@pytest.mark.parametrize("kazakh", ["basic", "fluent"])
async def test_language_results_match_the_simulator(kazakh: str) -> None:
    app = application(kazakh=kazakh)
    local = Simulator(QUICK)
    async with line(InlineSimulator(QUICK)) as w:
        for attempt in (1, 2, 10):
            result = await w.agencies.sit_test(case_id="c-lang", application=app, attempt=attempt)
            assert result == await local.sit_test(
                case_id="c-lang", application=app, attempt=attempt
            )
            assert result.attempt == attempt
            assert set(result.section_percent) == {"listening", "reading"}


async def test_screenings_match_the_simulator_for_every_authority() -> None:
    world = World()
    world.plan_verdict("c-planned", "security", "deny", "listed by the security service")
    config = SimConfig(latency_ms=(0, 1), security_refer_rate=0.5)
    local = Simulator(config, world)
    inputs = [
        ("c-clean", application()),
        ("c-record", with_questionnaire(application(), criminal_record=True)),
        ("c-deported", with_questionnaire(application(), deported_before=True)),
        ("c-planned", application()),
        *((f"c-seeded-{n}", application()) for n in range(8)),
    ]
    outcomes = set()
    async with line(InlineSimulator(config, world)) as w:
        for case_id, app in inputs:
            for authority in ("security", "criminal_record", "deportation"):
                reply = await w.agencies.check(
                    case_id=case_id, application=app, authority=authority
                )
                assert reply == await local.check(
                    case_id=case_id, application=app, authority=authority
                ), (case_id, authority)
                outcomes.add(reply.outcome)
    assert outcomes == {"clear", "refer", "deny"}


async def test_check_requests_return_the_simulators_reference_and_call_back_its_verdict() -> None:
    app = with_questionnaire(application(), criminal_record=True)
    local_answers: list[Message] = []
    local = InlineSimulator(QUICK)

    async def keep(message: Message) -> None:
        local_answers.append(message)

    local.connect_replies(keep)
    async with line(InlineSimulator(QUICK)) as w:
        references = []
        for authority in ("security", "criminal_record"):
            key = f"c-req:authority:{authority}"
            reference = await w.agencies.request(
                case_id="c-req", application=app, authority=authority, request_key=key
            )
            assert reference == await local.request(
                case_id="c-req", application=app, authority=authority, request_key=key
            )
            references.append(reference)
        # the same key lodges nothing new: the same reference, no second verdict
        again = await w.agencies.request(
            case_id="c-req",
            application=app,
            authority="security",
            request_key="c-req:authority:security",
        )
        assert again == references[0]
    assert w.sink.messages == local_answers
    assert [
        (m.reference, m.outcome) for m in w.sink.messages if isinstance(m, AuthorityAnswer)
    ] == [
        (references[0], "clear"),
        (references[1], "refer"),
    ]
    assert w.sim.requests == local.requests


async def test_address_lookups_match_the_simulator() -> None:
    world = World()
    world.plan_move("c-moved", after_days=200, to_region="Almaty")
    local = Simulator(QUICK, world)
    settled = date(2027, 3, 1)
    seen = set()
    async with line(InlineSimulator(QUICK, world)) as w:
        for case_id in ("c-moved", "c-stays"):
            for days in (0, 199, 200, 900):
                on = settled + timedelta(days=days)
                region = await w.agencies.registered_region(
                    case_id=case_id, settled_region="Pavlodar", settled_on=settled, on=on
                )
                assert region == await local.registered_region(
                    case_id=case_id, settled_region="Pavlodar", settled_on=settled, on=on
                )
                seen.add(region)
    assert seen == {"Pavlodar", "Almaty"}


async def test_border_lookups_match_the_simulator() -> None:
    world = World()
    world.plan_departure("c-left", after_days=30)
    local = Simulator(QUICK, world)
    since = date(2027, 1, 1)
    seen = []
    async with line(InlineSimulator(QUICK, world)) as w:
        for case_id, until in (("c-left", 60), ("c-left", 10), ("c-stayed", 60)):
            last = since + timedelta(days=until)
            day = await w.agencies.departed_on(case_id=case_id, since=since, until=last)
            assert day == await local.departed_on(case_id=case_id, since=since, until=last)
            seen.append(day)
    assert seen == [date(2027, 1, 31), None, None]


async def test_permits_match_the_simulator() -> None:
    local = Simulator(QUICK)
    async with line(InlineSimulator(QUICK)) as w:
        permit = await w.agencies.issue_permit(case_id="c-permit")
        # asked again (a retried activity): the number already issued
        assert await w.agencies.issue_permit(case_id="c-permit") == permit
    assert permit == await local.issue_permit(case_id="c-permit")
    assert permit.startswith("RP-")


KANDAS_ASKED = date(2026, 3, 6)  # a Friday: three working days end on Wednesday 11 March
LATER = date(2026, 12, 31)


@pytest.mark.parametrize(
    ("outcome", "kinds"),
    [
        ("granted", ["granted"]),
        ("hearing_granted", ["preliminary_refusal", "hearing", "granted"]),
        ("hearing_refused", ["preliminary_refusal", "hearing", "refused"]),
        ("extended", ["extended", "granted"]),
        ("late", ["granted"]),
    ],
)
async def test_the_local_executive_bodys_steps_match_the_simulator(
    outcome: str, kinds: list[str]
) -> None:
    world = World()
    world.plan_kandas("c-kandas", outcome)
    local = Simulator(QUICK, world)
    app, key = application(), "c-kandas:kandas"
    async with line(InlineSimulator(QUICK, world)) as w:
        reference = await w.agencies.request_kandas_status(
            case_id="c-kandas", application=app, requested_on=KANDAS_ASKED, request_key=key
        )
        # lodged again (a retried activity): the same reference
        assert reference == await w.agencies.request_kandas_status(
            case_id="c-kandas", application=app, requested_on=KANDAS_ASKED, request_key=key
        )
        steps = await w.agencies.kandas_decisions(
            case_id="c-kandas", reference=reference, requested_on=KANDAS_ASKED, on=LATER
        )
        assert steps == await local.kandas_decisions(
            case_id="c-kandas", reference=reference, requested_on=KANDAS_ASKED, on=LATER
        )
        before = await w.agencies.kandas_decisions(
            case_id="c-kandas", reference=reference, requested_on=KANDAS_ASKED, on=KANDAS_ASKED
        )
    assert reference.startswith("KR-")
    assert [s.kind for s in steps] == kinds
    # nothing is decided before the day asked, but a grant at once (the simulator's default)
    assert [s.kind for s in before] == (["granted"] if outcome == "granted" else [])
    decided = steps[-1]
    if decided.kind == "granted":
        assert decided.certificate_number == Simulator.kandas_certificate("c-kandas")
    in_time = date(2026, 3, 11)
    assert (decided.on <= in_time) == (outcome in ("granted", "hearing_granted", "hearing_refused"))
    if outcome == "late":
        assert decided.on == date(2026, 3, 13)  # two working days after the due date


async def test_a_sitting_ended_for_breaking_the_rules_is_told_over_http() -> None:
    world = World()
    world.plan_rules_broken("c-rules", attempt=2)
    local = Simulator(QUICK, world)
    app = application()
    async with line(InlineSimulator(QUICK, world)) as w:
        first = await w.agencies.sit_test(case_id="c-rules", application=app, attempt=1)
        second = await w.agencies.sit_test(case_id="c-rules", application=app, attempt=2)
    assert not first.rules_broken and set(first.section_percent) == {"listening", "reading"}
    assert (second.rules_broken, second.section_percent) == (True, {})
    assert second == await local.sit_test(case_id="c-rules", application=app, attempt=2)


async def test_the_country_of_citizenship_consents_unless_planned_otherwise() -> None:
    world = World()
    world.plan_verdict("c-refused", "citizenship_consent", "deny", "consent refused")
    local = Simulator(QUICK, world)
    app = application()
    async with line(InlineSimulator(QUICK, world)) as w:
        given = await w.agencies.check(
            case_id="c-given", application=app, authority="citizenship_consent"
        )
        refused = await w.agencies.check(
            case_id="c-refused", application=app, authority="citizenship_consent"
        )
    assert (given.outcome, given.reason) == ("clear", "written consent given")
    assert (refused.outcome, refused.reason) == ("deny", "consent refused")
    assert refused == await local.check(
        case_id="c-refused", application=app, authority="citizenship_consent"
    )


async def test_the_labour_market_and_worker_screenings_match_the_simulator() -> None:
    world = World()
    world.plan_vacancy("ENB-short", days_on_market=5)
    world.plan_vacancy("ENB-gone", days_on_market=0, listed=False)
    world.plan_employment("labour-lr-1", event="ended", after_days=30)
    world.plan_verdict("labour-lr-1", "security", "deny", "on a watch list")
    local = Simulator(QUICK, world)
    on, start = date(2027, 3, 1), date(2027, 1, 1)
    worker = Worker(
        full_name="Ali Veli", born_on=date(1990, 4, 2), citizenship="TUR", passport="U12345678"
    )
    async with line(InlineSimulator(QUICK, world)) as w:
        for reference in ("ENB-short", "ENB-gone", "ENB-seeded"):
            ask = {
                "reference": reference,
                "employer_id": "BIN-1",
                "industry": "mining",
                "region": "Karaganda",
                "on": on,
            }
            assert await w.agencies.vacancy(**ask) == await local.vacancy(**ask)  # type: ignore[arg-type]
        assert await w.agencies.vacancy(**{**ask, "reference": "ENB-gone"}) is None  # type: ignore[arg-type]
        short = await w.agencies.vacancy(**{**ask, "reference": "ENB-short"})  # type: ignore[arg-type]
        assert short is not None and (on - short.posted_on).days == 5
        for case_id in ("labour-lr-1", "labour-lr-2"):
            facts = {"case_id": case_id, "permit_from": start, "offered_wage_tiyn": 1, "on": on}
            assert await w.agencies.employment(**facts) == await local.employment(**facts)  # type: ignore[arg-type]
        ended = await w.agencies.employment(
            case_id="labour-lr-1", permit_from=start, offered_wage_tiyn=1, on=on
        )
        assert ended.ended_on == date(2027, 1, 31) and ended.end_notified_on == date(2027, 2, 2)
        for authority in ("security", "deportation"):
            verdict = await w.agencies.screen_worker(
                case_id="labour-lr-1", worker=worker, authority=authority
            )
            assert verdict == await local.screen_worker(
                case_id="labour-lr-1", worker=worker, authority=authority
            )
        denied = await w.agencies.screen_worker(
            case_id="labour-lr-1", worker=worker, authority="security"
        )
    assert (denied.outcome, denied.reason) == ("deny", "on a watch list")


async def test_a_disbursement_matches_the_simulator_and_the_ledger_lists_it() -> None:
    local = Simulator(QUICK)
    key = "c-pay:support:rent:2027-03"
    async with line(InlineSimulator(QUICK)) as w:
        receipt = await w.agencies.disburse(
            idempotency_key=key, case_id="c-pay", amount_tiyn=150_000, purpose="rent"
        )
        ledger = await w.agencies.ledger()
    assert receipt == await local.disburse(
        idempotency_key=key, case_id="c-pay", amount_tiyn=150_000, purpose="rent"
    )
    assert not receipt.duplicate
    assert ledger == [
        wire.LedgerEntry(
            idempotency_key="c-pay:support:rent:2027-03",
            case_id="c-pay",
            amount_tiyn=150_000,
            reference=receipt.reference,
            purpose="rent",
            payee="family",
        )
    ]
    assert w.sim.ledger == local.ledger


async def test_an_employers_subsidy_is_paid_to_the_employer_over_http() -> None:
    key = "c-pay:support:employer_subsidy:member-1"
    async with line(InlineSimulator(QUICK)) as w:
        first = await w.agencies.disburse(
            idempotency_key=key,
            case_id="c-pay",
            amount_tiyn=173_000_000,
            purpose="employer_subsidy",
            payee="BIN-990140000123",
        )
        again = await w.agencies.disburse(
            idempotency_key=key,
            case_id="c-pay",
            amount_tiyn=173_000_000,
            purpose="employer_subsidy",
            payee="BIN-990140000123",
        )
        with pytest.raises(RejectedRequestError, match="another payment"):  # to someone else
            await w.agencies.disburse(
                idempotency_key=key,
                case_id="c-pay",
                amount_tiyn=173_000_000,
                purpose="employer_subsidy",
                payee="family",
            )
        [entry] = await w.agencies.ledger()
    assert (again.reference, again.duplicate) == (first.reference, True)
    assert (entry.purpose, entry.payee) == ("employer_subsidy", "BIN-990140000123")
    assert w.sim.orders == {key: ("employer_subsidy", "BIN-990140000123")}


async def test_an_invoice_matches_the_simulator_and_each_repayment_is_called_back() -> None:
    world = World()
    world.plan_repayment("c-owes", parts=2)
    local = InlineSimulator(QUICK, world)
    local_notices: list[Message] = []

    async def keep(message: Message) -> None:
        local_notices.append(message)

    local.connect_replies(keep)
    due = date(2028, 6, 1)

    async def invoice(w: Line, amount_tiyn: int) -> str:
        return await w.agencies.invoice(
            idempotency_key="c-owes:repayment",
            case_id="c-owes",
            amount_tiyn=amount_tiyn,
            due_on=due,
        )

    async with line(InlineSimulator(QUICK, world)) as w:
        number = await invoice(w, 1_000_001)
        notices = list(w.sink.messages)
        again = await invoice(w, 1_000_001)  # a 409 over the wire: no second invoice
        with pytest.raises(RejectedRequestError, match=r"422 rejected: .*another invoice"):
            await invoice(w, 5)
    assert (
        number
        == again
        == await local.invoice(
            idempotency_key="c-owes:repayment", case_id="c-owes", amount_tiyn=1_000_001, due_on=due
        )
    )
    assert notices == w.sink.messages == local_notices
    assert [(n.invoice, n.amount_tiyn) for n in notices if isinstance(n, RepaymentNotice)] == [
        (number, 500_000),
        (number, 500_001),
    ]
    assert w.sim.invoices == {"c-owes:repayment": (number, 1_000_001)}


async def test_a_watch_matches_the_simulator_and_the_registration_is_called_back() -> None:
    world = World()
    world.plan_registration("c-reg")
    local = Simulator(QUICK, world)
    async with line(Simulator(QUICK, world)) as w:  # the notice comes later, from a task
        key = "c-reg:registration:Pavlodar"
        reference = await w.agencies.watch(case_id="c-reg", region="Pavlodar", request_key=key)
        notice = await w.sink.next()
        quiet = await w.agencies.watch(
            case_id="c-quiet", region="Kostanay", request_key="c-quiet:registration:Kostanay"
        )
    assert reference == await local.watch(case_id="c-reg", region="Pavlodar", request_key=key)
    assert notice == RegistrationNotice(case_id="c-reg", region="Pavlodar", reference=reference)
    assert quiet.startswith("AW-") and quiet != reference
    assert w.sink.messages == [notice]  # nobody planned c-quiet's registration


# ---- callbacks ------------------------------------------------------------------------------
async def test_an_authority_posts_its_verdict_to_the_callback_url_later() -> None:
    async with line(Simulator(QUICK)) as w:  # the real outbox: a task, after a latency
        reference = await w.agencies.request(
            case_id="c-cb",
            application=application(),
            authority="deportation",
            request_key="c-cb:authority:deportation",
        )
        answer = await w.sink.next()
    assert answer == AuthorityAnswer(
        case_id="c-cb",
        authority="deportation",
        reference=reference,
        outcome="clear",
        reason="no findings",
    )


async def test_a_silent_authority_posts_nothing() -> None:
    cid = new_case_id()
    sim = InlineSimulator(QUICK)
    sim.world.plan_silence(cid, "security")
    async with line(sim) as w:
        for authority in ("security", "criminal_record"):
            await w.agencies.request(
                case_id=cid,
                application=application(),
                authority=authority,
                request_key=f"{cid}:authority:{authority}",
            )
    assert f"{cid}:authority:security" in sim.requests  # lodged, and never answered
    assert [(m.case_id, getattr(m, "authority", None)) for m in w.sink.messages] == [
        (cid, "criminal_record")
    ]


async def test_a_callback_with_the_wrong_token_is_refused_and_not_retried() -> None:
    sink = Sink()
    async with line(InlineSimulator(QUICK), sink=sink, callback_token="not-the-token") as w:
        await w.agencies.request(
            case_id="c-tok",
            application=application(),
            authority="security",
            request_key="c-tok:authority:security",
        )
    assert (sink.calls, sink.messages) == (0, [])


async def test_the_agency_retries_a_callback_kosh_could_not_take_and_stops_on_410() -> None:
    app = application()
    sink = Sink(RuntimeError("Temporal unreachable"))  # 503: try again later
    async with line(InlineSimulator(QUICK), sink=sink) as w:
        delivered = await w.agencies.request(
            case_id="c-busy",
            application=app,
            authority="security",
            request_key="c-busy:authority:security",
        )
        assert (sink.calls, [m.reference for m in sink.messages]) == (2, [delivered])
        sink.failures.append(CaseGoneError("case c-gone is not running"))  # 410: stop
        await w.agencies.request(
            case_id="c-gone", application=app, authority="security", request_key="c-gone:s"
        )
    assert sink.calls == 3  # the 410 was final: no second try
    assert [m.case_id for m in sink.messages] == ["c-busy"]


async def test_a_request_needs_a_callback_url() -> None:
    async with line(InlineSimulator(QUICK), with_callback_url=False) as w:
        with pytest.raises(RejectedRequestError, match="callback URL"):
            await w.agencies.request(
                case_id="c-1", application=application(), authority="security", request_key="k"
            )
        with pytest.raises(RejectedRequestError, match="callback URL"):
            await w.agencies.watch(case_id="c-1", region="Pavlodar", request_key="k")
        with pytest.raises(RejectedRequestError, match="callback URL"):
            await w.agencies.invoice(
                idempotency_key="k", case_id="c-1", amount_tiyn=1, due_on=date(2028, 1, 1)
            )
    assert (w.sim.requests, w.sim.invoices) == ({}, {})


# ---- error mapping --------------------------------------------------------------------------
APP = application()
CALLS: dict[str, Call] = {
    "verify": lambda a: a.verify(case_id="c-err", application=APP),
    "sit_test": lambda a: a.sit_test(case_id="c-err", application=APP, attempt=1),
    "check": lambda a: a.check(case_id="c-err", application=APP, authority="security"),
    "request": lambda a: a.request(
        case_id="c-err", application=APP, authority="security", request_key="c-err:a"
    ),
    "registered_region": lambda a: a.registered_region(
        case_id="c-err", settled_region="Pavlodar", settled_on=date(2027, 1, 1), on=date.today()
    ),
    "watch": lambda a: a.watch(case_id="c-err", region="Pavlodar", request_key="c-err:w"),
    "departed_on": lambda a: a.departed_on(
        case_id="c-err", since=date(2027, 1, 1), until=date(2028, 1, 1)
    ),
    "issue_permit": lambda a: a.issue_permit(case_id="c-err"),
    "request_kandas_status": lambda a: a.request_kandas_status(
        case_id="c-err", application=APP, requested_on=date(2027, 1, 1), request_key="c-err:k"
    ),
    "kandas_decisions": lambda a: a.kandas_decisions(
        case_id="c-err", reference="KR-1", requested_on=date(2027, 1, 1), on=date(2027, 1, 9)
    ),
    "disburse": lambda a: a.disburse(
        idempotency_key="c-err:p", case_id="c-err", amount_tiyn=100, purpose="rent"
    ),
    "invoice": lambda a: a.invoice(
        idempotency_key="c-err:i", case_id="c-err", amount_tiyn=100, due_on=date(2028, 1, 1)
    ),
}
EVERY_CALL = pytest.mark.parametrize("name", sorted(CALLS))


@EVERY_CALL
async def test_an_outage_is_transient(name: str) -> None:
    sim = InlineSimulator(SimConfig(latency_ms=(0, 1), failure_rate=1.0))
    async with line(sim) as w:
        with pytest.raises(TransientAdapterError, match=r"503 unavailable: simulated outage"):
            await CALLS[name](w.agencies)
    assert (sim.ledger, sim.requests, sim.invoices) == ({}, {}, {})  # nothing was done


@EVERY_CALL
async def test_a_stall_past_the_client_timeout_is_transient(name: str) -> None:
    sim = InlineSimulator(SimConfig(latency_ms=(0, 1), stall_rate=1.0, stall_ms=500))
    async with line(sim, timeout=0.2) as w:
        with pytest.raises(TransientAdapterError, match="no answer in time"):
            await CALLS[name](w.agencies)


@pytest.mark.parametrize("name", [*sorted(CALLS), "ledger"])
async def test_an_agency_that_is_down_is_transient(name: str) -> None:
    async with serving(AgencySimulator(Simulator(QUICK)).app(), LOOPBACK) as gone:
        pass  # served, then stopped: nothing listens on that port any more
    agencies = HttpAgencies(AgencySettings(base_url=gone, callback_url="http://127.0.0.1:9/cb"))
    call = CALLS.get(name, lambda a: a.ledger())
    try:
        with pytest.raises(TransientAdapterError, match="ConnectError"):
            await call(agencies)
    finally:
        await agencies.aclose()


@pytest.mark.parametrize("call", ["check", "request"])
async def test_an_unknown_authority_is_rejected_by_name(call: str) -> None:
    async with line(InlineSimulator(QUICK)) as w:
        with pytest.raises(RejectedRequestError, match=r"404 unknown_authority: .*'tax_office'"):
            if call == "check":
                await w.agencies.check(case_id="c-1", application=APP, authority="tax_office")
            else:
                await w.agencies.request(
                    case_id="c-1", application=APP, authority="tax_office", request_key="k"
                )
    assert w.sim.requests == {}


async def test_an_invalid_body_is_rejected_naming_the_field() -> None:
    async with line(InlineSimulator(QUICK)) as w:
        # a body of the wrong shape, through the same call and error mapping as every method
        wrong = wire.ApplicantBody(case_id="c-1", application=APP)
        with pytest.raises(RejectedRequestError, match="422 invalid_request: attempt: Field"):
            await w.agencies._call(wire.KAZTEST, wrong, wire.AttemptOut)
        payment = wire.DisburseBody(case_id="c-1", amount_tiyn=100, purpose="rent")
        with pytest.raises(RejectedRequestError, match=r"422 idempotency_key: .*Idempotency-Key"):
            await w.agencies._call(wire.DISBURSEMENTS, payment, wire.ReceiptOut)
        with pytest.raises(RejectedRequestError, match="Idempotency-Key"):
            await w.agencies.disburse(
                idempotency_key="k" * 201, case_id="c-1", amount_tiyn=100, purpose="rent"
            )
    assert w.sim.ledger == {}


async def test_a_request_the_wire_model_refuses_is_rejected_not_retried() -> None:
    async with line(InlineSimulator(QUICK)) as w:
        with pytest.raises(RejectedRequestError, match="amount_tiyn"):
            await w.agencies.disburse(
                idempotency_key="c-1:p", case_id="c-1", amount_tiyn=0, purpose="rent"
            )
    assert w.sim.disbursement_calls == 0


@pytest.mark.parametrize("client_token", [None, "wrong"])
async def test_a_wrong_api_token_is_rejected(client_token: str | None) -> None:
    sim = InlineSimulator(QUICK)
    async with line(sim, api_token="right", client_token=client_token) as w:
        with pytest.raises(RejectedRequestError, match="401 unauthorized"):
            await w.agencies.verify(case_id="c-1", application=APP)
        with pytest.raises(RejectedRequestError, match="401 unauthorized"):
            await w.agencies.ledger()
    async with line(sim, api_token="right", client_token="right") as w:
        assert (await w.agencies.verify(case_id="c-1", application=APP)).authentic


# ---- payments: once per idempotency key -------------------------------------------------------
async def test_a_repeated_disbursement_returns_the_first_receipt_and_pays_once() -> None:
    sim = InlineSimulator(QUICK)

    async def pay(w: Line, amount_tiyn: int) -> PaymentReceipt:
        return await w.agencies.disburse(
            idempotency_key="c-2:support:once",
            case_id="c-2",
            amount_tiyn=amount_tiyn,
            purpose="subsidy",
        )

    async with line(sim) as w:
        first = await pay(w, 700_000)
        again = await pay(w, 700_000)  # a 409 over the wire
        with pytest.raises(RejectedRequestError, match=r"422 rejected: .*used for another payment"):
            await pay(w, 700_001)
        ledger = await w.agencies.ledger()
    assert (again.reference, again.duplicate, first.duplicate) == (first.reference, True, False)
    assert sim.disbursement_calls == 3
    assert [(e.idempotency_key, e.amount_tiyn) for e in ledger] == [("c-2:support:once", 700_000)]
    assert sim.total_paid("c-2") == 700_000


async def test_a_payment_whose_answer_was_lost_is_paid_once_when_retried() -> None:
    sim = InlineSimulator(SimConfig(seed=3, latency_ms=(0, 1), failure_rate=0.5))
    async with line(sim) as w:
        lost: tuple[str, str] | None = None
        for n in range(40):  # until the treasury pays and the answer is lost on the way
            key, case_id = f"c-lost-{n}:support:once", f"c-lost-{n}"
            with contextlib.suppress(TransientAdapterError):
                await w.agencies.disburse(
                    idempotency_key=key, case_id=case_id, amount_tiyn=500, purpose="subsidy"
                )
                continue
            if key in sim.ledger:
                lost = key, case_id
                break
        assert lost is not None, "no payment lost its answer"
        key, case_id = lost
        paid_before = dict(sim.ledger)
        for _ in range(40):  # the activity's retries, until one gets through
            try:
                receipt = await w.agencies.disburse(
                    idempotency_key=key, case_id=case_id, amount_tiyn=500, purpose="subsidy"
                )
                break
            except TransientAdapterError:
                continue
        else:
            pytest.fail("no retry got through")
    assert (receipt.reference, receipt.duplicate) == (sim.ledger[key][2], True)
    assert sim.ledger == paid_before  # the retries paid nothing more
    assert sim.total_paid(case_id) == 500


# ---- the receiver ---------------------------------------------------------------------------
REPLY = wire.AuthorityReplyCallback(
    case_id="c-9", authority="security", reference="AR-1", outcome="clear", reason="no findings"
).model_dump(mode="json")
GOOD = {"Authorization": f"Bearer {TOKEN}"}


@contextlib.asynccontextmanager
async def receiver(sink: Sink) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serving(callback_app(sink, token=TOKEN), LOOPBACK) as url,
        httpx.AsyncClient(base_url=url, timeout=5.0) as client,
    ):
        yield client


async def test_the_receiver_hands_a_valid_callback_to_the_sink() -> None:
    sink = Sink()
    registration = {"kind": "registration", "case_id": "c-9", "region": "Abai", "reference": "W"}
    repayment = {
        "kind": "repayment",
        "case_id": "c-9",
        "invoice": "INV-1",
        "amount_tiyn": 300,
        "reference": "INV-1-1",
    }
    async with receiver(sink) as client:
        statuses = [
            (await client.post(PATH, json=body, headers=GOOD)).status_code
            for body in (REPLY, registration, repayment)
        ]
    assert statuses == [202, 202, 202]
    assert sink.messages == [
        AuthorityAnswer(
            case_id="c-9",
            authority="security",
            reference="AR-1",
            outcome="clear",
            reason="no findings",
        ),
        RegistrationNotice(case_id="c-9", region="Abai", reference="W"),
        RepaymentNotice(case_id="c-9", invoice="INV-1", amount_tiyn=300, reference="INV-1-1"),
    ]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
async def test_the_receiver_refuses_a_wrong_token(headers: dict[str, str]) -> None:
    sink = Sink()
    async with receiver(sink) as client:
        answer = await client.post(PATH, json=REPLY, headers=headers)
    assert answer.status_code == 401
    assert wire.ProblemOut.model_validate_json(answer.content).error == "unauthorized"
    assert sink.calls == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"outcome": "maybe"}, "authority_reply.outcome"),
        ({"authority": "tax_office"}, "authority_reply.authority"),
        ({"reason": None}, "authority_reply.reason"),
        ({"kind": "gossip"}, "(body)"),
    ],
)
async def test_the_receiver_refuses_a_malformed_body_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    sink = Sink()
    body = {k: v for k, v in {**REPLY, **change}.items() if v is not None}
    async with receiver(sink) as client:
        answer = await client.post(PATH, json=body, headers=GOOD)
        garbage = await client.post(PATH, content=b"{not json", headers=GOOD)
    problem = wire.ProblemOut.model_validate_json(answer.content)
    assert (answer.status_code, problem.error, problem.retryable) == (
        422,
        "invalid_callback",
        False,
    )
    assert problem.detail.startswith(f"{field}: ") or f"; {field}: " in problem.detail
    assert garbage.status_code == 422
    assert sink.calls == 0


@pytest.mark.parametrize(
    ("failure", "status", "retryable"),
    [(CaseGoneError("case c-9 is not running"), 410, False), (RuntimeError("down"), 503, True)],
)
async def test_the_receiver_tells_the_agency_whether_to_try_again(
    failure: BaseException, status: int, retryable: bool
) -> None:
    sink = Sink(failure)
    async with receiver(sink) as client:
        answer = await client.post(PATH, json=REPLY, headers=GOOD)
        again = await client.post(PATH, json=REPLY, headers=GOOD)
    assert answer.status_code == status
    assert wire.ProblemOut.model_validate_json(answer.content).retryable is retryable
    assert again.status_code == 202  # the sink took it this time
    assert sink.calls == 2 and len(sink.messages) == 1
