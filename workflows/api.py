"""The applicant workflow's public surface: names, inputs, signals, updates, queries.

The CLI, the demo and the tests depend on this module only, never on the workflow's insides.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, StrictBool
from temporalio.common import SearchAttributeKey

from domain import agenda
from domain.application import Application
from domain.case import Payment
from domain.events import Authority
from domain.model import Model
from domain.regions import Region
from domain.scoring import GateOutcome, ScoreBreakdown
from domain.text import PlainLine, PlainText

TASK_QUEUE = "kosh-cases"
WORKFLOW_NAME = "ApplicantWorkflow"

# Search attributes: never personal data. Registered by `kosh dev` and docker-compose.
SA_STAGE = SearchAttributeKey.for_keyword("KoshStage")
SA_TRACK = SearchAttributeKey.for_keyword("KoshTrack")
SA_REGION = SearchAttributeKey.for_keyword("KoshRegion")
SA_POLICY = SearchAttributeKey.for_keyword("KoshPolicyVersion")
SA_SCORE = SearchAttributeKey.for_int("KoshScore")
SA_CONTRACT_END = SearchAttributeKey.for_datetime("KoshContractEnd")
SA_CLOSE_REASON = SearchAttributeKey.for_keyword("KoshCloseReason")
# The next date something must happen (a reply, an interview, an arrival, a repayment...).
SA_NEXT_DEADLINE = SearchAttributeKey.for_datetime("KoshNextDeadline")
# Who the case waits for, one word (domain.agenda.WAITING_FOR): the staff console's worklists.
SA_WAITING_FOR = SearchAttributeKey.for_keyword("KoshWaitingFor")
WAITING_FOR = agenda.WAITING_FOR
# Since when (case time) it has waited for that: "waiting for an interview over 10 days".
SA_WAITING_SINCE = SearchAttributeKey.for_datetime("KoshWaitingSince")
# The labour path's (workflows/employer_api.py): the employer hashed, never its BIN.
SA_INDUSTRY = SearchAttributeKey.for_keyword("KoshIndustry")
SA_PROJECT = SearchAttributeKey.for_keyword("KoshProject")
SA_EMPLOYER = SearchAttributeKey.for_keyword("KoshEmployer")
SEARCH_ATTRIBUTES = (
    SA_STAGE,
    SA_TRACK,
    SA_REGION,
    SA_POLICY,
    SA_SCORE,
    SA_CONTRACT_END,
    SA_CLOSE_REASON,
    SA_NEXT_DEADLINE,
    SA_WAITING_FOR,
    SA_WAITING_SINCE,
    SA_INDUSTRY,
    SA_PROJECT,
    SA_EMPLOYER,
)

# Signal, update and query names (stable: staff tools and stored histories use them).
SIGNAL_INTERVIEW = "record_interview"
UPDATE_INTERVIEW = "submit_interview"
SIGNAL_FACT = "record_fact"
UPDATE_FACT = "submit_fact"
SIGNAL_AUTHORITY = "record_authority_reply"
QUERY_STATUS = "status"
# Every input that names a request id is answered here, accepted or refused with its rule:
# a sender that signals reads its answer by this query (adapters/answered_signals.py).
QUERY_ANSWER = "input_answer"


def case_workflow_id(case_id: str) -> str:
    """Workflow id of a case: one case, one workflow id, for the case's whole life."""
    return f"case-{case_id}"


class CaseInput(Model):
    """Start input. `seconds_per_year` compresses the policy calendar for demonstrations."""

    case_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    application: Application
    seconds_per_year: float | None = Field(default=None, ge=0.01)
    # With a compressed clock, human response windows never shrink below this (wall seconds).
    human_floor_seconds: float = Field(default=0.0, ge=0)
    # Set by continue-as-new only: the state handed over whole.
    snapshot: dict[str, object] | None = None


def static_summary(inp: CaseInput) -> str:
    """The one line the Temporal UI shows for a case forever: no personal data."""
    return f"{inp.application.track} case {inp.case_id}"


def static_details(inp: CaseInput) -> str:
    clock = f"{inp.seconds_per_year} s per case year" if inp.seconds_per_year else "real time"
    return (
        f"**Case:** {inp.case_id}  \n**Track:** {inp.application.track}  \n"
        f"**Clock:** {clock}  \n"
        "Live state: the `status` query and this workflow's current details."
    )


# Every staff input carries proof of its sender: an assertion kosh issued to the signed-in
# member for this case and this request id (adapters/assertions.py). The case verifies it and
# takes the actor from it; no input names its own actor.
ASSERTION_MAX = 2048


class InterviewOutcome(Model):
    """Staff's interview result (signal `record_interview`, update `submit_interview`); the
    interviewer on record is the member the assertion proves."""

    passed: bool
    points: int = Field(ge=0)
    notes: PlainText = Field(default="", max_length=2000)
    request_id: str | None = Field(default=None, max_length=100)
    assertion: str | None = Field(default=None, max_length=ASSERTION_MAX)


class AuthorityReplyInput(Model):
    """A competent authority's reply to a request (signal `record_authority_reply`, sent by
    the reply bridge when the authority answers, days or weeks after the request)."""

    authority: Authority
    reference: PlainLine = Field(min_length=1, max_length=100)
    outcome: GateOutcome
    reason: PlainText = Field(min_length=1, max_length=500)


class AllocationWord(Model):
    """An allocation round's word for this case (signal `take_allocation`, sent by the round,
    which reads the answer by the `input_answer` query): the case takes what the round's
    record says of it, never the message's own claim."""

    round_id: PlainLine = Field(min_length=1, max_length=200)
    request_id: str | None = Field(default=None, max_length=300)


FactKind = Literal[
    "general_track",
    "arrival",
    "move",
    "departure",
    "repayment",
    "referral",
    "withdrawal",
    "death",
    "citizenship",
    "revocation",
    "employment",
    "employment_end",
    "housing_certificate",
]


class StaffFact(Model):
    """A real-world fact staff record on a case (signal `record_fact`, update `submit_fact`).

    Its actor is the member (or agency feed) its assertion proves: a case officer, or for
    arrivals and repayments an agency feed. arrival: region (+ on); move: region (new,
    optional) + on; departure: on; repayment: amount_tiyn + reference; referral: approve +
    reason (the officer who decides is the actor); withdrawal: reason; death: on; citizenship:
    on; revocation: reason + fault (true: for the holder's fault, a breach under a social
    contract; false: not the holder's doing); employment (a family member housed by the
    employer, for the employer's subsidy): member + employer_id + on (its start) +
    housing_provided; employment_end: member (+ on); housing_certificate: region +
    amount_tiyn (the home's price) + reference (the family's application);
    general_track: reason (optional; a kandas family waiting for an allocation round gives up
    its candidacy and takes the general track).
    """

    kind: FactKind
    region: Region | None = None
    on: date | None = None
    amount_tiyn: int | None = Field(default=None, gt=0)
    reference: PlainLine | None = Field(default=None, max_length=100)
    approve: bool | None = None
    reason: PlainText | None = Field(default=None, max_length=2000)
    fault: StrictBool | None = None
    member: int | None = Field(default=None, ge=1, le=99)  # 1: the applicant
    employer_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$"
    )
    housing_provided: bool | None = None
    request_id: str | None = Field(default=None, max_length=100)
    assertion: str | None = Field(default=None, max_length=ASSERTION_MAX)


class UpdateResult(Model):
    accepted: bool
    reason: str = ""
    rule: str = ""  # the rule that refused it (empty when accepted): for a program to act on


class RefusedInput(Model):
    """A signal the case refused: kept visible in the status query, never fatal."""

    received_at: datetime
    name: str
    rule: str
    reason: str


class CaseStatus(Model):
    """What the `status` query answers (and `kosh status` prints)."""

    case_id: str
    stage: str
    track: str | None
    policy_id: str
    region: Region | None
    case_time: datetime
    waiting_for: str
    score_total: int | None
    decision: str | None
    decision_reasons: tuple[str, ...]
    breakdown: ScoreBreakdown | None = None
    # What the case waits for, and until when (case dates), e.g. {"interview": 2026-03-01}.
    deadlines: dict[str, date] = Field(default_factory=dict)
    # The scoring pilot's limit from submission to the decision: "at_risk", "exceeded".
    procedure_flags: tuple[str, ...] = ()
    contract_ends_on: date | None
    support_paid_tiyn: int
    outstanding_tiyn: int
    payments: tuple[Payment, ...] = ()  # every disbursement and repayment, in order
    repayment_due_on: date | None = None
    closed_reason: str | None
    closed_detail: str
    events: int
    refused: tuple[RefusedInput, ...]  # the newest 50
    refused_total: int = 0
    # What the case folded, event by event (8 hex characters each: store.records.fingerprint),
    # for the reconciliation to compare with the record.
    fingerprints: str = ""


class CaseResult(Model):
    """The workflow's result when the case closes."""

    case_id: str
    closed_reason: str
    detail: str
    events: int
    support_paid_tiyn: int
    repaid_tiyn: int


# The workflow code's release: a `kosh dev` state folder whose cases ran under another
# cannot continue them.
RELEASE = "2026-12-first-release"
