"""Activities of the labour path: the labour market's facts, the worker's screening, the
request's own stream in the record, and the employer's keyed id (the worker holds the key)."""

from __future__ import annotations

from datetime import date

import asyncpg
from pydantic import BaseModel
from temporalio import activity

from activities.errors import classified, recorded
from activities.logging import activity_log
from adapters.ports import LabourAgencies
from domain.labour import EmploymentReport, LabourEvent, VacancyRecord, Worker, employer_key
from domain.model import Model
from domain.regions import Region
from domain.scoring import GateOutcome
from store.labour import EmployerSuspendedError, append_labour_events, read_labour_events
from store.records import NewLabourEvent, labour_stream

# The record's refusal that ends a labour request (beside no place left): rights suspended.
SUSPENDED = {EmployerSuspendedError: "EmployerSuspended"}


class VacancyInput(Model):
    request_id: str
    reference: str
    employer_id: str
    industry: str
    region: Region
    on: date  # case time


class VacancyResult(Model):
    vacancy: VacancyRecord | None


class EmploymentInput(Model):
    request_id: str
    permit_from: date
    offered_wage_tiyn: int
    on: date


class ScreeningInput(Model):
    request_id: str
    worker: Worker
    authority: str


class ScreeningResult(Model):
    authority: str
    outcome: GateOutcome
    reason: str


class EmployerKeyInput(Model):
    request_id: str
    employer_id: str  # the BIN: sealed in the history like every payload


class EmployerKeyResult(Model):
    employer_key: str


class PendingLabourEvent(Model):
    event_id: str
    event: LabourEvent


class LabourAppendInput(Model):
    """One decision's events, from the request's `writer` (as activities.models.AppendInput)."""

    request_id: str
    expected_seq: int
    writer: str
    events: tuple[PendingLabourEvent, ...]


class LabourAppendResult(BaseModel):
    """`adopted`: what an earlier attempt of the decision recorded instead, for the request to
    fold (as activities.models.AppendResult)."""

    last_seq: int
    appended: int
    duplicates: int
    adopted: tuple[PendingLabourEvent, ...] = ()
    recorded: tuple[PendingLabourEvent, ...] = ()  # as activities.models.AppendResult


class LabourActivities:
    def __init__(
        self, *, agencies: LabourAgencies, pool: asyncpg.Pool, employer_secret: bytes
    ) -> None:
        self.agencies = agencies
        self.pool = pool
        self.employer_secret = employer_secret  # KOSH_EMPLOYER_HMAC_KEY(_FILE)

    @activity.defn
    async def pseudonymise_employer(self, req: EmployerKeyInput) -> EmployerKeyResult:
        """The employer's keyed id (domain.labour.employer_key), which the request records
        once and shows everywhere instead of the BIN; the key never enters a workflow."""
        key = employer_key(req.employer_id, self.employer_secret)
        activity_log(case_id=labour_stream(req.request_id)).info("employer_pseudonymised")
        return EmployerKeyResult(employer_key=key)

    @activity.defn
    async def check_vacancy(self, req: VacancyInput) -> VacancyResult:
        async with classified():
            record = await self.agencies.vacancy(
                reference=req.reference,
                employer_id=req.employer_id,
                industry=req.industry,
                region=req.region,
                on=req.on,
            )
        activity_log(case_id=labour_stream(req.request_id)).info(
            "vacancy_checked", listed=record is not None
        )
        return VacancyResult(vacancy=record)

    @activity.defn
    async def employment_report(self, req: EmploymentInput) -> EmploymentReport:
        async with classified():
            report = await self.agencies.employment(
                case_id=labour_stream(req.request_id),
                permit_from=req.permit_from,
                offered_wage_tiyn=req.offered_wage_tiyn,
                on=req.on,
            )
        activity_log(case_id=labour_stream(req.request_id)).info(
            "employment_reviewed", ended=report.ended_on is not None
        )
        return report

    @activity.defn
    async def screen_worker(self, req: ScreeningInput) -> ScreeningResult:
        async with classified():
            reply = await self.agencies.screen_worker(
                case_id=labour_stream(req.request_id), worker=req.worker, authority=req.authority
            )
        activity_log(case_id=labour_stream(req.request_id), authority=req.authority).info(
            "worker_screened", outcome=reply.outcome
        )
        return ScreeningResult(authority=req.authority, outcome=reply.outcome, reason=reply.reason)

    @activity.defn
    async def append_labour_events(self, req: LabourAppendInput) -> LabourAppendResult:
        """Idempotent by event id and content, as a case's append: a retry appends nothing
        twice, and a retried decision adopts what its earlier attempt recorded."""
        batch = [NewLabourEvent(event_id=p.event_id, event=p.event) for p in req.events]
        refused = recorded(
            quota_type="LabourQuotaExhausted",
            refusals={EmployerSuspendedError: "EmployerSuspended"},
        )
        log = activity_log(case_id=labour_stream(req.request_id))
        async with refused, self.pool.acquire() as conn:
            result = await append_labour_events(
                conn,
                request_id=req.request_id,
                expected_seq=req.expected_seq,
                events=batch,
                writer=req.writer,
            )
            held: tuple[PendingLabourEvent, ...] = ()
            if result.adopted:
                stored = await read_labour_events(
                    conn, request_id=req.request_id, after_seq=req.expected_seq
                )
                held = tuple(
                    PendingLabourEvent(event_id=s.event_id, event=s.event)
                    for s in stored[: result.adopted]
                )
                log.warning("earlier_attempt_adopted", writer=req.writer, adopted=len(held))
        log.info("events_appended", appended=result.appended, duplicates=result.duplicates)
        return LabourAppendResult(
            last_seq=result.last_seq,
            appended=result.appended,
            duplicates=result.duplicates,
            adopted=held,
            recorded=held or req.events,
        )
