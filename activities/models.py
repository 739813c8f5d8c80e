"""One input and one result model per activity: signatures stay compatible as fields grow."""

from __future__ import annotations

from datetime import date, datetime

from adapters.ports import KandasStep, StaffNotice
from domain.application import Application
from domain.events import ApplicationSubmitted, Event
from domain.model import Model
from domain.regions import Region
from domain.scoring import GateOutcome


class CaseRef(Model):
    case_id: str
    application: Application


class DocumentCheckResult(Model):
    authentic: bool
    reasons: tuple[str, ...]


class LanguageTestInput(Model):
    case_id: str
    application: Application
    attempt: int


class LanguageTestResult(Model):
    attempt: int
    section_percent: dict[str, int]
    rules_broken: bool = False


class AuthorityCheckInput(Model):
    case_id: str
    application: Application
    authority: str


class AuthorityCheckResult(Model):
    authority: str
    outcome: GateOutcome
    reason: str


class AuthorityRequestInput(Model):
    case_id: str
    application: Application
    authority: str
    request_key: str  # the same key lodges one request, however often the activity retries


class AuthorityRequestAck(Model):
    authority: str
    reference: str


class KandasRequestInput(Model):
    case_id: str
    application: Application
    requested_on: date
    request_key: str


class KandasRequestAck(Model):
    reference: str


class KandasLookupInput(Model):
    case_id: str
    reference: str
    requested_on: date
    on: date


class KandasLookupResult(Model):
    steps: tuple[KandasStep, ...]


class WatchInput(Model):
    case_id: str
    region: Region
    request_key: str


class WatchAck(Model):
    reference: str


class ResidenceCheckInput(Model):
    case_id: str
    settled_region: Region
    settled_on: date
    on: date


class ResidenceCheckResult(Model):
    region: Region | None


class DepartureCheckInput(Model):
    case_id: str
    since: date
    until: date


class DepartureCheckResult(Model):
    departed_on: date | None


class IssueInput(Model):
    case_id: str


class IssueResult(Model):
    number: str


class DisburseInput(Model):
    case_id: str
    idempotency_key: str
    amount_tiyn: int
    purpose: str
    payee: str = "family"  # or the employer paid its subsidy (its id)


class DisburseResult(Model):
    reference: str
    duplicate: bool


class InvoiceInput(Model):
    case_id: str
    idempotency_key: str
    amount_tiyn: int
    due_on: date


class InvoiceResult(Model):
    invoice: str


class ActorProofInput(Model):
    """A staff input's proof of its sender, for the workflow it was sent to."""

    workflow_id: str
    request_id: str | None
    assertion: str | None
    role: str
    or_roles: tuple[str, ...] = ()  # any of these also suffices (e.g. an agency feed)


class ActorVerdict(Model):
    """Who sent it (`staff_id`), or why the input is refused: `unauthenticated` (the sender is
    not proved) or `actor_not_authorised` (proved, but not in a role that may do this)."""

    staff_id: str | None = None
    rule: str | None = None
    reason: str = ""

    @property
    def authorised(self) -> bool:
        return self.rule is None


class NotifyInput(Model):
    notice: StaffNotice


class NotifyResult(Model):
    delivered: bool


class WokeInput(Model):
    """A wait on staff that began at `started` (the workflow's time) and was due to end
    `seconds` later, floor included."""

    started: datetime
    seconds: float


class WokeResult(Model):
    late: bool


class PendingEvent(Model):
    event_id: str
    event: Event
    idempotency_key: str | None = None


class AppendInput(Model):
    """One decision's events, from the case's `writer` (ids from domain.record.event_id), so a
    retried workflow task finds what an earlier attempt of it recorded."""

    case_id: str
    expected_seq: int
    writer: str
    events: tuple[PendingEvent, ...]


class RecordedEvent(Model):
    """An event as the record holds it, for the workflow to fold (AppendResult.recorded). An
    application stays out (personal data; the case's own input, the same in every attempt, so
    the workflow has it): for `ApplicationSubmitted` only its `at` and `policy_id` come back,
    `event` is None."""

    event: Event | None = None
    at: datetime | None = None
    policy_id: str | None = None


def recorded_event(event: Event) -> RecordedEvent:
    if isinstance(event, ApplicationSubmitted):
        return RecordedEvent(at=event.at, policy_id=event.policy_id)
    return RecordedEvent(event=event)


class AppendResult(Model):
    """`adopted`: what an earlier attempt recorded instead (a workflow task retried with a
    later clock decides again; the record's version stands, and the workflow folds these);
    empty when the events sent are the ones recorded."""

    last_seq: int
    appended: int
    duplicates: int
    adopted: tuple[PendingEvent, ...] = ()
    # The events the record holds at the batch's seqs, which the workflow folds (not the ones
    # it decided): under local appends a replay could decide a batch again with another clock
    # than the attempt that recorded it (decisions 020 and 022), and the case must believe,
    # on every replay alike, what the record holds.
    recorded: tuple[RecordedEvent, ...] = ()
