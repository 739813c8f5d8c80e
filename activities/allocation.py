"""Allocation rounds' side effects (docs/decisions/014): hold a round in the record (its
candidates from the cases projection, the places left from the quota ledger, the ranking
from domain/allocation.py), tell each candidate's case, close the round; and for a case, the
round's word for it as the record holds it (the case takes the record's word, never the
message's)."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.errors import recorded
from activities.logging import activity_log
from adapters.answered_signals import NoAnswerYet, NotWaiting, send_and_wait
from domain import commands as cmd
from domain.allocation import (
    AllocationRoundClosed,
    AllocationRoundHeld,
    Answer,
    Told,
    hold_round,
)
from domain.model import Model
from domain.policy import Policy, PolicyYearError, in_force
from domain.regions import Region
from store.policies import known_versions
from store.rounds import candidates, candidates_now, in_use, read_round, record_round

# Of an attempt's time, the share spent waiting for the case's answer (the rest: the signal,
# the last query); a case that has not answered by then is told again by the next attempt.
PATIENCE_SHARE = 0.7
RESEND_EVERY = 20  # attempts


class HoldInput(Model):
    round_id: str
    region: Region
    now: datetime  # the round's case time
    size: int | None = None
    scope: str = ""


class HoldResult(Model):
    """The round as the record holds it (None: nobody waited for it, nothing recorded);
    `closed`: the round was already closed (a duplicate of a finished round), with the
    answers it recorded (`told`)."""

    held: AllocationRoundHeld | None
    closed: bool = False
    told: tuple[Told, ...] = ()


class ClockInput(Model):
    region: Region
    speedup: float  # the compressed clock's: case seconds per wall second
    period_months: int  # a round's period: how far a waiting family's clock runs at most
    scope: str = ""


class ClockResult(Model):
    """The case time a compressed clock's round is held at (None: no family waits)."""

    now: datetime | None


class TellInput(Model):
    """Send the round's word to a candidate's workflow: a signal it applies once per request
    id, however often the round (or this activity) is retried; its answer read by a query."""

    workflow_id: str
    signal: str
    query: str  # the case's query for its answer (workflows/api.py QUERY_ANSWER)
    round_id: str
    request_id: str
    offered: bool


class TellResult(Model):
    answer: Answer


class CloseInput(Model):
    event: AllocationRoundClosed


class CloseResult(Model):
    recorded: bool


class WordInput(Model):
    round_id: str
    case_id: str


class WordResult(Model):
    """The command the round's record asks of this case (None: the record holds no such
    round, or the case is not on its list)."""

    command: cmd.TakeAllocation | None
    at: datetime | None = None  # the round's case time (a family's demo clock reaches it)


class AllocationActivities:
    def __init__(self, *, pool: asyncpg.Pool, client: Client | None = None) -> None:
        self.pool = pool
        self.client = client  # to tell the candidates' workflows (worker.py gives its own)

    @activity.defn
    async def hold_round(self, req: HoldInput) -> HoldResult:
        """The round's decision, recorded once: a round the record already holds (a retry, a
        duplicated round of the same period) is returned as recorded, never decided again."""
        log = activity_log(round_id=req.round_id, region=req.region)
        async with recorded(), self.pool.acquire() as conn:
            known = await read_round(conn, rid=req.round_id)
            if known is None:
                # the version in force in the region on the round's day (built in, or
                # published in the record: its quota is the region's capacity)
                policy = in_force(req.now.date(), req.region, await known_versions(conn))
                year = req.now.year
                listed = await candidates(conn, scope=req.scope)
                if any(req.region in c.regions for c in listed):
                    _has_figures(policy, req.region, year)
                waiting = [c for c in listed if req.region in c.regions]
                # No one waiting: nothing to decide, whatever the year's figures (a year the
                # policy has no quota for is an error only when a family waits on it).
                event = (
                    hold_round(
                        rid=req.round_id,
                        region=req.region,
                        today=req.now.date(),
                        now=req.now,
                        policy_id=policy.id,
                        capacity=policy.quota(req.region, year),
                        in_use=await in_use(conn, region=req.region, year=year),
                        size=req.size,
                        candidates=waiting,
                        months=policy.allocation.period_months,
                    )
                    if waiting
                    else None
                )
                if event is None:
                    log.info("round_without_candidates")
                    return HoldResult(held=None)
                if await record_round(conn, rid=req.round_id, event=event):
                    log.info("round_held", candidates=len(event.ranked), places=event.places)
                    return HoldResult(held=event)
                known = await read_round(conn, rid=req.round_id)  # another held it first
                assert known is not None
            log.info("round_found_in_record", closed=known.closed is not None)
            told = known.closed.told if known.closed is not None else ()
            return HoldResult(held=known.held, closed=known.closed is not None, told=told)

    @activity.defn
    async def candidates_clock(self, req: ClockInput) -> ClockResult:
        """On a compressed clock (the demo's) every case runs its own clock from its start, so
        there is no one calendar: the round is held at the case time of the waiting family
        whose clock is furthest behind (the workflow records the answer once)."""
        async with recorded(), self.pool.acquire() as conn:
            now = await candidates_now(
                conn,
                region=req.region,
                speedup=req.speedup,
                period_months=req.period_months,
                scope=req.scope,
            )
        return ClockResult(now=now)

    @activity.defn
    async def tell_candidate(self, req: TellInput) -> TellResult:
        """The candidate's answer: the place taken, not reached, the place gone (the ledger
        refused it: another round filled the region), or the case no longer waiting. The word
        is signalled and the answer read by the case's `input_answer` query, not sent as an
        update (docs/decisions/023); Temporal away or busy: the round retries."""
        if self.client is None:
            raise RuntimeError("allocation activities need a Temporal client to tell candidates")
        log = activity_log(round_id=req.round_id, candidate=req.workflow_id)
        payload = {"round_id": req.round_id, "request_id": req.request_id}
        info = activity.info()
        timeout = info.start_to_close_timeout
        patience = timeout.total_seconds() * PATIENCE_SHARE if timeout else 10.0
        # An earlier attempt's signal is in the case's history (its heartbeat says so): this
        # attempt waits for the answer only, and sends the word again only now and then (a
        # signal taken by a run that was continuing as new is answered by the next run).
        signalled = int(info.heartbeat_details[0]) if info.heartbeat_details else None
        sent = signalled is not None and info.attempt - signalled < RESEND_EVERY
        try:
            result = await send_and_wait(
                self.client,
                req.workflow_id,
                req.signal,
                payload,
                query=req.query,
                patience=patience,
                alive=lambda: activity.heartbeat(info.attempt if not sent else signalled),
                sent=sent,
            )
        except NotWaiting as exc:
            log.info("candidate_not_waiting", reason=str(exc))  # gone, closed, refused
            return TellResult(answer="not_waiting")
        except NoAnswerYet as exc:
            # Busy, or its worker away: the next attempt tells it again (applied once).
            raise ApplicationError(str(exc), type="NoAnswerYet") from None
        answer: Answer
        if result.accepted:
            answer = "granted" if req.offered else "not_reached"
        elif result.rule == "QuotaExhausted":
            answer = "place_gone"
        else:
            answer = "not_waiting"
        log.info("candidate_told", answer=answer, rule=result.rule)
        return TellResult(answer=answer)

    @activity.defn
    async def close_round(self, req: CloseInput) -> CloseResult:
        async with recorded(), self.pool.acquire() as conn:
            done = await record_round(conn, rid=req.event.round_id, event=req.event)
        activity_log(round_id=req.event.round_id).info("round_closed", recorded=done)
        return CloseResult(recorded=done)

    @activity.defn
    async def round_word(self, req: WordInput) -> WordResult:
        async with recorded(), self.pool.acquire() as conn:
            known = await read_round(conn, rid=req.round_id)
        if known is None:
            return WordResult(command=None)
        h = known.held
        line = next((r for r in h.ranked if r.case_id == req.case_id), None)
        if line is None:
            return WordResult(command=None)
        return WordResult(
            at=h.at,
            command=cmd.TakeAllocation(
                round_id=h.round_id,
                number=h.number,
                region=h.region,
                year=h.year,
                rank=line.rank,
                offered=line.offer == "offered",
                cut_off=h.cut_off,
            ),
        )


def _has_figures(policy: Policy, region: Region, year: int) -> None:
    """A family waits, and the policy has no quota for the round's year: the round fails
    visibly (a retry cannot publish a figure), the families wait for the next round, and the
    schedule goes on (docs/decisions/015: a year without figures is never filled in)."""
    try:
        policy.quota(region, year)
    except PolicyYearError as exc:
        raise ApplicationError(str(exc), type="PolicyYearError", non_retryable=True) from None
