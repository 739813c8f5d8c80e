"""A retried task adopts what its earlier attempt recorded while other answers are still in
flight (the soak of issue #25 found it): the checks run in parallel, and an earlier attempt
had recorded the language test's result; the retry adopts it at another branch's append, and
the language test's own answer then arrives for a decision the record already took. It is
dropped (the record's stands), and the case goes on, instead of failing every task after.

Made deterministic on the time-skipping server: while the KAZTEST sitting and the authority
checks are held in flight, the test records the language test's result as the workflow itself
would (its writer's next event id, the decider's events), then lets the checks answer."""

from __future__ import annotations

import asyncio

from adapters.simulator import Simulator
from domain import commands as cmd
from domain.case import fold
from domain.decider import decide
from domain.record import event_id, fingerprints
from store.events import append_events, read_events
from store.records import NewEvent
from tests.workflows.harness import Rig, application, interview, types


async def test_an_answer_in_flight_for_a_decision_the_record_took_is_dropped(
    case_rig: Rig,
) -> None:
    r = case_rig
    r.staff.on("interview_due", interview)
    sitting, release_sitting = r.sim.gate("language")
    lodged, release_checks = r.sim.gate("request")
    h = await r.start(application())
    cid = h.id.removeprefix("case-")
    await asyncio.wait_for(asyncio.gather(sitting.wait(), lodged.wait()), 10)
    assert await r.recorded(cid, "QuestionnaireScored")

    # the earlier attempt's record: the language test decided as the workflow decides it
    writer = (await h.describe()).run_id
    async with r.pool.acquire() as conn:
        stored = await read_events(conn, case_id=cid)
        state = fold([s.event for s in stored])
        assert state.application is not None
        result = await Simulator.sit_test(  # the sitting's answer, past the gate
            r.sim, case_id=cid, application=state.application, attempt=1
        )
        command = cmd.RecordLanguageAttempt(attempt=1, section_percent=result.section_percent)
        events = decide(state, command, now=stored[-1].event.at)
        seq = len(stored)
        batch = [
            NewEvent(event_id=event_id(writer, seq + i), event=e) for i, e in enumerate(events, 1)
        ]
        await append_events(conn, case_id=cid, expected_seq=seq, events=batch, writer=writer)

    release_checks.set()  # an authority's append finds the record ahead: adopts it
    assert await r.recorded(cid, "AuthorityCheckRequested")
    release_sitting.set()  # the sitting's answer, for a decision the record already holds
    # the case goes on to wait for the family's arrival (no staff answers it here): still there
    status = await r.wait_status(h, lambda s: s.waiting_for == "arrival", timeout=20)
    stored_now = await r.events(cid)
    for _ in range(50):  # an append may still be landing: read the two at one moment
        if status.events == len(stored_now):
            break
        await asyncio.sleep(0.1)
        status, stored_now = await r.status(h), await r.events(cid)

    assert await r.task_failures(h) == []
    recorded = types(stored_now)
    assert recorded.count("LanguageTestScored") == 1
    assert status.events == len(recorded)
    assert status.fingerprints == fingerprints(stored_now)
