"""AllocationRoundWorkflow: one region's round of one period (docs/decisions/014).

Started by the region's schedule (or directly: a test, an operator). The round's decision
is taken once, in the record (`hold_round`: the waiting candidates ranked, the places left
offered to the best-ranked); then each candidate's case is told, best-ranked first, and
takes the record's word (a place is reserved by the case's own append, so the ledger's
capacity check still holds with racing or duplicated rounds); then the answers are recorded.
A retried round (a worker killed mid-round) resumes from its history; a duplicated one finds
the record's decision and tells the same words, which each case takes once.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.allocation import (
        AllocationActivities,
        ClockInput,
        CloseInput,
        HoldInput,
        TellInput,
    )
    from domain.allocation import AllocationRoundClosed, Told, round_id
    from domain.clock import SECONDS_PER_YEAR, CaseClock
    from domain.policy import policy_in_force
    from workflows import allocation_api as rapi
    from workflows.api import QUERY_ANSWER, case_workflow_id

from workflows.runtime import Runtime


@workflow.defn(name=rapi.WORKFLOW_NAME)
class AllocationRoundWorkflow:
    @workflow.run
    async def run(self, inp: rapi.RoundInput) -> rapi.RoundResult:
        clock = CaseClock(
            origin=inp.origin or workflow.now(),
            seconds_per_year=inp.seconds_per_year or SECONDS_PER_YEAR,
        )
        rt = Runtime(clock)
        # The schedule's clock, read at the wall (a round does not wait: it has no case time
        # of its own to move).
        now = clock.case_time(workflow.now())
        if inp.seconds_per_year is not None and inp.round_id is None:
            # A compressed clock (the demo's) runs one clock per case, from its start: the
            # round is held at the case time of its candidates (the earliest of them), not at
            # the schedule's, which runs on past every case.
            period = policy_in_force(now.date()).allocation.period_months
            seen = await rt.call(
                AllocationActivities.candidates_clock,
                ClockInput(
                    region=inp.region,
                    speedup=clock.speedup,
                    period_months=period,
                    scope=inp.scope,
                ),
                summary="read the candidates' case time",
            )
            if seen.now is None:
                return rapi.RoundResult(
                    round_id="", candidates=0, granted=0, not_reached=0, cut_off=None
                )
            now = seen.now
        started = workflow.now()
        months = policy_in_force(now.date()).allocation.period_months
        rid = inp.round_id or round_id(inp.region, now.date(), months=months, scope=inp.scope)
        # Ordinary activities: a round is a handful of steps, and a local activity scheduled
        # after another activity's result would hold its task on an uncached worker.
        found = await rt.call(
            AllocationActivities.hold_round,
            HoldInput(round_id=rid, region=inp.region, now=now, size=inp.size, scope=inp.scope),
            summary=f"hold round {rid}",
        )
        held = found.held
        if held is None:
            return rapi.RoundResult(
                round_id=rid, candidates=0, granted=0, not_reached=0, cut_off=None
            )
        told: list[Told] = list(found.told)  # a finished round's answers, held again
        if not found.closed:
            for line in held.ranked:
                reply = await rt.call(
                    AllocationActivities.tell_candidate,
                    TellInput(
                        workflow_id=case_workflow_id(line.case_id),
                        signal=rapi.SIGNAL_ALLOCATION,
                        query=QUERY_ANSWER,
                        round_id=rid,
                        request_id=f"{rid}:{line.case_id}",
                        offered=line.offer == "offered",
                    ),
                    summary=f"tell rank {line.rank}",
                )
                told.append(Told(case_id=line.case_id, answer=reply.answer))
            closed = AllocationRoundClosed(
                policy_id=held.policy_id,
                at=now + (workflow.now() - started) * clock.speedup,
                round_id=rid,
                told=tuple(told),
            )
            await rt.call(
                AllocationActivities.close_round,
                CloseInput(event=closed),
                summary=f"close round {rid}",
            )
        return rapi.RoundResult(
            round_id=rid,
            candidates=len(held.ranked),
            granted=sum(1 for t in told if t.answer == "granted"),
            not_reached=sum(1 for t in told if t.answer in ("not_reached", "place_gone")),
            cut_off=held.cut_off,
        )
