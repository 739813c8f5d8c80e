"""A simulator of the outside services with real behaviour: seeded outcomes, latency, failures.

Outcomes are a pure function of (seed, case id, applicant data, question), so a scenario
replays identically; latency and injected transient failures vary per call, as real
networks do. The payments side keeps its own ledger and honours idempotency keys, so a test
can prove that retried disbursements paid exactly once. `World` holds the facts of people's
lives that registries would report (a family that moves away, a departure abroad).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import structlog

from adapters.ports import (
    FAMILY,
    AgencyMessage,
    AuthorityAnswer,
    AuthorityReply,
    DocumentVerdict,
    LanguageAttemptResult,
    PaymentReceipt,
    RegistrationNotice,
    RejectedRequestError,
    RepaymentNotice,
    ReplySink,
    StaffNotice,
    TransientAdapterError,
)
from adapters.sim_executive import KANDAS_OUTCOMES, ExecutiveSimulator
from adapters.sim_labour import LabourMarketSimulator
from domain.application import Application
from domain.regions import Region
from domain.scoring import GateOutcome

LEVEL_BASE = {"none": 12, "basic": 42, "intermediate": 65, "fluent": 85}
MRZ_WEIGHTS = (7, 3, 1)


def mrz_check_digit(text: str) -> int:
    """ICAO 9303 check digit over digits and letters (A=10 ... Z=35)."""
    total = 0
    for i, ch in enumerate(text):
        value = int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10
        total += value * MRZ_WEIGHTS[i % 3]
    return total % 10


def with_check_digit(body: str) -> str:
    """A document number made valid by appending its check digit."""
    return body + str(mrz_check_digit(body))


@dataclass(frozen=True)
class SimConfig:
    seed: int = 7
    latency_ms: tuple[int, int] = (2, 25)
    failure_rate: float = 0.0
    # A share of calls that hang for stall_ms before answering (callers time out).
    stall_rate: float = 0.0
    stall_ms: int = 5000
    security_refer_rate: float = 0.0
    # Authorities answer a lodged check after this long (wall milliseconds)...
    reply_latency_ms: tuple[int, int] = (20, 400)
    # ...or, for this share of (case, authority) pairs, never.
    silence_rate: float = 0.0
    # Rare outcomes, none unless asked for (the demo plans them per case instead): a KAZTEST
    # sitting ended for breaking the rules, a kandas request answered other than in time.
    rules_broken_rate: float = 0.0
    kandas_hearing_rate: float = 0.0
    kandas_extension_rate: float = 0.0
    kandas_late_rate: float = 0.0


@dataclass
class World:
    """Facts a registry would know, dated in case time: offsets count days from the date the
    caller anchors on (a move from the contract's start, a departure from the `since` border
    control is asked about: the permit's issue), never from the wall clock."""

    moves: dict[str, tuple[int, Region]] = field(default_factory=dict)
    departures: dict[str, int] = field(default_factory=dict)
    silent: set[tuple[str, str]] = field(default_factory=set)
    registrations: set[str] = field(default_factory=set)
    repayments: dict[str, int] = field(default_factory=dict)
    verdicts: dict[tuple[str, str], tuple[GateOutcome, str]] = field(default_factory=dict)
    # Kandas status: case id -> one of KANDAS_OUTCOMES (instead of the seeded outcome)
    kandas: dict[str, str] = field(default_factory=dict)
    # KAZTEST sittings ended for breaking the rules: (case id, attempt)
    rules_broken: set[tuple[str, int]] = field(default_factory=set)
    # Labour market: vacancy reference -> (days on the market, local hire?, listed at all?)
    vacancies: dict[str, tuple[int, bool, bool]] = field(default_factory=dict)
    # Labour request case id -> (what happens: underpaid / unregistered / ended / ended_silently,
    # days after the permit starts)
    employments: dict[str, tuple[str, int]] = field(default_factory=dict)

    def plan_move(self, case_id: str, *, after_days: int, to_region: Region) -> None:
        self.moves[case_id] = (after_days, to_region)

    def plan_departure(self, case_id: str, *, after_days: int) -> None:
        self.departures[case_id] = after_days

    def plan_verdict(self, case_id: str, authority: str, outcome: GateOutcome, reason: str) -> None:
        """What the authority will find on this case (instead of the seeded outcome)."""
        self.verdicts[(case_id, authority)] = (outcome, reason)

    def plan_repayment(self, case_id: str, *, parts: int = 1) -> None:
        """The family repays an invoice in `parts` transfers, soon after it is issued."""
        self.repayments[case_id] = parts

    def plan_registration(self, case_id: str) -> None:
        """The family registers in its reserved region soon after it is reserved."""
        self.registrations.add(case_id)

    def plan_vacancy(
        self, reference: str, *, days_on_market: int, local_hired: bool = False, listed: bool = True
    ) -> None:
        """What the labour market will say of this vacancy (instead of the seeded record)."""
        self.vacancies[reference] = (days_on_market, local_hired, listed)

    def plan_employment(self, case_id: str, *, event: str, after_days: int) -> None:
        """What happens to the employment: "underpaid" (the wage drops to half the offer, at
        most 300,000 KZT: below every region's average), "unregistered" (the address is never
        registered), "ended" (ends, notice given), "ended_silently" (ends, no notice)."""
        if event not in ("underpaid", "unregistered", "ended", "ended_silently"):
            raise ValueError(f"unknown employment event {event!r}")
        self.employments[case_id] = (event, after_days)

    def plan_kandas(self, case_id: str, outcome: str) -> None:
        """How the local executive body will answer this case's kandas status request."""
        if outcome not in KANDAS_OUTCOMES:
            raise ValueError(f"unknown kandas outcome {outcome!r}")
        self.kandas[case_id] = outcome

    def plan_rules_broken(self, case_id: str, *, attempt: int = 1) -> None:
        """The applicant breaks the test's rules at this KAZTEST attempt (the sitting ends)."""
        self.rules_broken.add((case_id, attempt))

    def plan_silence(self, case_id: str, authority: str) -> None:
        """The authority accepts this case's check request and never answers it."""
        self.silent.add((case_id, authority))


class Simulator(ExecutiveSimulator, LabourMarketSimulator):
    """Implements every port in adapters/ports.py in memory (the local executive body's and
    the labour market's in their own modules, mixed in)."""

    world: World
    config: SimConfig

    def __init__(self, config: SimConfig | None = None, world: World | None = None) -> None:
        self.config = config or SimConfig()
        self.world = world or World()
        self.ledger: dict[str, tuple[str, int, str]] = {}
        self.orders: dict[str, tuple[str, str]] = {}  # by key: each payment's purpose, payee
        self.disbursement_calls = 0
        self.notices: asyncio.Queue[StaffNotice] = asyncio.Queue()
        self.notice_log: list[StaffNotice] = []
        self._chaos = random.Random(self.config.seed ^ 0x5EED)
        self.requests: dict[str, str] = {}
        self.invoices: dict[str, tuple[str, int]] = {}
        self.replies: ReplySink | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._log = structlog.get_logger("kosh.simulator")

    def connect_replies(self, sink: ReplySink) -> None:
        """Where authorities send their later replies (set by the composition root)."""
        self.replies = sink

    def _rng(self, *parts: object) -> random.Random:
        key = ":".join(str(p) for p in (self.config.seed, *parts))
        return random.Random(hashlib.sha256(key.encode()).digest())

    async def _network(self, operation: str) -> None:
        low, high = self.config.latency_ms
        await asyncio.sleep(self._chaos.uniform(low, high) / 1000)
        if self._chaos.random() < self.config.stall_rate:  # a caller's timeout fires first
            await asyncio.sleep(self.config.stall_ms / 1000)
        if self._chaos.random() < self.config.failure_rate:
            raise TransientAdapterError(f"simulated outage in {operation}")

    async def verify(self, *, case_id: str, application: Application) -> DocumentVerdict:
        await self._network("documents")
        doc = application.document
        reasons = []
        if mrz_check_digit(doc.number[:-1]) != int(doc.number[-1]):
            reasons.append("document number check digit mismatch (possible forgery)")
        if doc.expires_on <= date.today():
            reasons.append(f"document expired on {doc.expires_on.isoformat()}")
        return DocumentVerdict(authentic=not reasons, reasons=tuple(reasons))

    async def sit_test(
        self, *, case_id: str, application: Application, attempt: int
    ) -> LanguageAttemptResult:
        await self._network("language")
        base = LEVEL_BASE[application.questionnaire.kazakh]
        rng = self._rng(case_id, "kaztest", attempt)
        broken = self._rng(case_id, "kaztest-rules", attempt).random()
        if (case_id, attempt) in self.world.rules_broken or broken < self.config.rules_broken_rate:
            return LanguageAttemptResult(attempt=attempt, section_percent={}, rules_broken=True)
        sections = {
            s: max(0, min(100, base + rng.randint(-10, 10))) for s in ("listening", "reading")
        }
        return LanguageAttemptResult(attempt=attempt, section_percent=sections)

    async def check(
        self, *, case_id: str, application: Application, authority: str
    ) -> AuthorityReply:
        await self._network(f"authority:{authority}")
        return self._verdict(case_id, application, authority)

    def _verdict(self, case_id: str, application: Application, authority: str) -> AuthorityReply:
        planned = self.world.verdicts.get((case_id, authority))
        if planned is not None:
            return AuthorityReply(outcome=planned[0], reason=planned[1])
        q = application.questionnaire
        if authority == "deportation" and q.deported_before:
            return AuthorityReply(outcome="deny", reason="deportation on record")
        if authority == "citizenship_consent":
            return AuthorityReply(outcome="clear", reason="written consent given")
        if authority == "criminal_record" and q.criminal_record:
            return AuthorityReply(outcome="refer", reason="declared record needs review")
        refer = self._rng(case_id, "security").random() < self.config.security_refer_rate
        if authority == "security" and refer:
            return AuthorityReply(outcome="refer", reason="name match needs review")
        return AuthorityReply(outcome="clear", reason="no findings")

    async def request(
        self, *, case_id: str, application: Application, authority: str, request_key: str
    ) -> str:
        await self._network(f"authority:{authority}")
        known = self.requests.get(request_key)
        if known is not None:
            return known
        reference = "AR-" + hashlib.sha256(request_key.encode()).hexdigest()[:10].upper()
        self.requests[request_key] = reference
        silent = self._rng(case_id, authority, "silence").random() < self.config.silence_rate
        if silent or (case_id, authority) in self.world.silent:
            return reference
        verdict = self._verdict(case_id, application, authority)
        answer = AuthorityAnswer(
            case_id=case_id,
            authority=authority,  # type: ignore[arg-type]  # validated by the model
            reference=reference,
            outcome=verdict.outcome,
            reason=verdict.reason,
        )
        await self._dispatch(answer)
        return reference

    async def watch(self, *, case_id: str, region: Region, request_key: str) -> str:
        await self._network("address")
        known = self.requests.get(request_key)
        if known is not None:
            return known
        reference = "AW-" + hashlib.sha256(request_key.encode()).hexdigest()[:10].upper()
        self.requests[request_key] = reference
        if case_id in self.world.registrations:
            await self._dispatch(
                RegistrationNotice(case_id=case_id, region=region, reference=reference)
            )
        return reference

    async def _dispatch(self, answer: AgencyMessage) -> None:
        """Answer later, as real authorities do (days of case time; here, wall latency)."""
        task = asyncio.create_task(self._answer_later(answer))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _answer_later(self, answer: AgencyMessage) -> None:
        low, high = self.config.reply_latency_ms
        await asyncio.sleep(self._chaos.uniform(low, high) / 1000)
        await self._deliver(answer)

    async def _deliver(self, answer: AgencyMessage) -> None:
        if self.replies is None:
            self._log.warning("authority_reply_undeliverable", case_id=answer.case_id)
            return
        try:
            await self.replies(answer)
        except Exception as exc:  # an outside party's failed callback: the case's deadline
            # escalates it to an officer, so a lost reply never leaves the case hanging
            self._log.warning(
                "authority_reply_lost", case_id=answer.case_id, error=type(exc).__name__
            )

    async def registered_region(
        self, *, case_id: str, settled_region: Region, settled_on: date, on: date
    ) -> Region | None:
        await self._network("address")
        plan = self.world.moves.get(case_id)
        if plan is not None and on >= settled_on + timedelta(days=plan[0]):
            return plan[1]
        return settled_region

    async def departed_on(self, *, case_id: str, since: date, until: date) -> date | None:
        await self._network("border")
        offset = self.world.departures.get(case_id)
        if offset is None:
            return None
        day = since + timedelta(days=offset)
        return day if day <= until else None

    async def issue_permit(self, *, case_id: str) -> str:
        await self._network("permits")
        return "RP-" + hashlib.sha256(f"permit:{case_id}".encode()).hexdigest()[:10].upper()

    async def disburse(
        self,
        *,
        idempotency_key: str,
        case_id: str,
        amount_tiyn: int,
        purpose: str,
        payee: str = FAMILY,
    ) -> PaymentReceipt:
        self.disbursement_calls += 1
        await self._network("payments")
        known, order = self.ledger.get(idempotency_key), (case_id, amount_tiyn, payee)
        if known is not None:
            if (*known[:2], self.orders[idempotency_key][1]) != order:
                raise RejectedRequestError(f"key {idempotency_key} was used for another payment")
            return PaymentReceipt(reference=known[2], duplicate=True)
        reference = "PAY-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:12].upper()
        self.ledger[idempotency_key] = (case_id, amount_tiyn, reference)
        self.orders[idempotency_key] = (purpose, payee)
        if self._chaos.random() < self.config.failure_rate:
            raise TransientAdapterError("paid, but the answer was lost")
        return PaymentReceipt(reference=reference)

    async def invoice(
        self, *, idempotency_key: str, case_id: str, amount_tiyn: int, due_on: date
    ) -> str:
        await self._network("treasury")
        known = self.invoices.get(idempotency_key)
        if known is not None:
            if known[1] != amount_tiyn:
                raise RejectedRequestError(f"key {idempotency_key} was used for another invoice")
            return known[0]
        number = "INV-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
        self.invoices[idempotency_key] = (number, amount_tiyn)
        parts = self.world.repayments.get(case_id, 0)
        amounts = [amount_tiyn // parts] * (parts - 1) if parts else []
        if parts:
            amounts.append(amount_tiyn - sum(amounts))
        for i, amount in enumerate(amounts, 1):
            await self._dispatch(
                RepaymentNotice(
                    case_id=case_id, invoice=number, amount_tiyn=amount, reference=f"{number}-{i}"
                )
            )
        return number

    def total_paid(self, case_id: str | None = None) -> int:
        return sum(a for c, a, _ in self.ledger.values() if case_id in (None, c))

    async def notify(self, notice: StaffNotice) -> None:
        self.notice_log.append(notice)
        await self.notices.put(notice)
