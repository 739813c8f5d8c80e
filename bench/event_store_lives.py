"""The case lives the event store bench appends: kandas cases driven through the decider,
one batch per decision, as the workflow hands them to the append activity
(bench/event_store.py)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time

from domain import commands as cmd
from domain import events as ev
from domain.agenda import support_schedule
from domain.application import Application, Document, FamilyMember, Questionnaire
from domain.case import CaseState, fold
from domain.decider import AUTHORITIES, decide
from domain.policy import policy_by_id
from domain.regions import Region
from store.events import NewEvent

T0 = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
TEMPLATE_ID = "c-template0000"
REGIONS: tuple[Region, ...] = (
    "Pavlodar",
    "Akmola",
    "Abai",
    "East Kazakhstan",
    "North Kazakhstan",
    "Kostanay",
    "Atyrau",
)
# The append rounds spread their cases over many ledger rows (region, year), so none runs out.
CASES_PER_YEAR = 25


def _application(rng: random.Random) -> Application:
    children = tuple(
        FamilyMember(relation="child", full_name="Dana Jr", born_on=date(2014 + i, 5, 1))
        for i in range(rng.randint(0, 2))
    )
    return Application(
        full_name=rng.choice(("Aigerim Bekova", "Nurlan Omarov", "Saule Tulegen")),
        born_on=date(rng.randint(1994, 1998), rng.randint(1, 12), rng.randint(1, 28)),
        citizenship=rng.choice(("MNG", "CHN", "UZB", "TKM")),
        track="kandas",
        ethnic_kazakh=True,
        document=Document(
            number="E1234567" + str(rng.randint(0, 9)), country="MNG", expires_on=date(2036, 1, 1)
        ),
        questionnaire=Questionnaire(
            education="master",
            kazakh="fluent",
            russian=rng.choice(("intermediate", "fluent")),
            work_years=rng.randint(3, 12),
        ),
        family=children,
        preferred_regions=tuple(rng.sample(REGIONS, 2)),
    )


def case_life(case_id: str, rng: random.Random, *, months: int, year: int) -> list[list[ev.Event]]:
    """What a kandas case appends, one batch per decision: submission to permit, a quota
    place, arrival and contract, then `months` months of support and residence checks."""
    start = T0 + timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 600))
    app = _application(rng)
    region = app.preferred_regions[0]
    refs = {a: f"{case_id}:{a}" for a in AUTHORITIES}
    steps: list[tuple[int, cmd.Command]] = [
        (0, cmd.SubmitApplication(case_id=case_id, application=app)),
        (1, cmd.RecordDocumentCheck(authentic=True)),
        *((1, cmd.RequestAuthorityCheck(authority=a, reference=refs[a])) for a in AUTHORITIES),
        (
            8,
            cmd.RecordLanguageAttempt(
                attempt=1, section_percent={"listening": rng.randint(50, 95), "reading": 60}
            ),
        ),
        (8, cmd.ScoreQuestionnaire()),
        *(
            (
                20,
                cmd.RecordAuthorityCheck(
                    authority=a, outcome="clear", reason="no record", reference=refs[a]
                ),
            )
            for a in AUTHORITIES
        ),
        (
            25,
            cmd.RecordInterview(
                interviewer_id="staff-7",
                passed=True,
                points=rng.randint(70, 95),
                notes="clear answers",
            ),
        ),
        (25, cmd.ComputeScore()),
        (27, cmd.IssuePermit(permit_number=f"RP-{rng.randint(10_000, 99_999)}")),
        (28, cmd.GrantKandasStatus(certificate_number=f"KC-{rng.randint(10_000, 99_999)}")),
        (28, cmd.ReserveQuotaPlace(region=region, year=year)),
        (40, cmd.RecordArrival(region=region, arrived_on=(start + timedelta(days=40)).date())),
        (40, cmd.SignSocialContract()),
    ]
    life = _Life()
    for day, command in steps:
        life.run(start + timedelta(days=day), command)
    life.run_contract(months, region)
    return life.batches


class _Life:
    def __init__(self) -> None:
        self.state = CaseState()
        self.batches: list[list[ev.Event]] = []

    def run(self, now: datetime, command: cmd.Command) -> None:
        events = decide(self.state, command, now=now)
        self.state = fold(events, self.state)
        if events:
            self.batches.append(events)

    def run_contract(self, months: int, region: Region) -> None:
        s = self.state
        assert s.contract_starts_on is not None, "the bench's case did not reach its contract"
        policy = policy_by_id(s.policy_id)
        until = s.contract_starts_on + timedelta(days=31 * months)
        later: list[tuple[date, cmd.Command]] = [
            (
                due.due_on,
                cmd.RecordSupportPayment(
                    measure=due.measure,
                    period=due.period,
                    amount_tiyn=due.amount_tiyn,
                    idempotency_key=due.idempotency_key,
                    payment_reference=f"pay-{due.idempotency_key}",
                ),
            )
            for due in support_schedule(s, policy)
            if due.due_on <= until
        ]
        every = timedelta(days=policy.contract.monitoring_interval_days)
        check = s.contract_starts_on + every
        while check <= until:
            later.append(
                (check, cmd.RecordResidenceCheck(reported_region=region, checked_on=check))
            )
            check += every
        for on, command in sorted(later, key=lambda item: item[0]):
            self.run(datetime.combine(on, day_time(10), tzinfo=UTC), command)


def renamed(event: ev.Event, case_id: str, year: int) -> ev.Event:
    """A template's event as case `case_id`'s, its quota place in `year`."""
    if isinstance(event, ev.QuotaPlaceReserved):
        return event.model_copy(update={"year": year})
    text = event.model_dump_json()
    if TEMPLATE_ID not in text:
        return event
    return ev.EVENT_ADAPTER.validate_json(text.replace(TEMPLATE_ID, case_id))


def rebatched(batches: list[list[ev.Event]], size: int) -> list[list[ev.Event]]:
    """`size` events per append (the decider's own batches when size is 0)."""
    if size <= 0:
        return batches
    flat = [e for b in batches for e in b]
    return [flat[i : i + size] for i in range(0, len(flat), size)]


@dataclass
class CaseLog:
    """A case's appends, with the event ids the workflow would have made beforehand."""

    case_id: str
    batches: list[list[ev.Event]]
    ids: list[list[str]] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    last_hash: bytes = b""

    def __post_init__(self) -> None:
        self.ids = [[str(uuid.uuid4()) for _ in b] for b in self.batches]
        seq = 0
        for b in self.batches:
            self.offsets.append(seq)
            seq += len(b)

    def new_events(self, k: int) -> list[NewEvent]:
        return [
            NewEvent(event_id=i, event=e, idempotency_key=getattr(e, "idempotency_key", None))
            for i, e in zip(self.ids[k], self.batches[k], strict=True)
        ]


def plan(
    templates: Sequence[list[list[ev.Event]]], *, events: int, batch: int, tag: str, year0: int
) -> list[CaseLog]:
    """Cases (whole lives, cut at `events` or just past it) named after `tag`."""
    cases: list[CaseLog] = []
    total = 0
    while total < events:
        i = len(cases)
        case_id, year = f"c-{tag}-{i:05d}", year0 + i // CASES_PER_YEAR
        life = [[renamed(e, case_id, year) for e in b] for b in templates[i % len(templates)]]
        cases.append(CaseLog(case_id, rebatched(life, batch)))
        total += sum(map(len, cases[-1].batches))
    return cases
