"""Staff input by signal and by update: refusals name the rule or the field, duplicates are
answered once, and no input, however wrong, fails the workflow or blocks the case.

These tests answer the case by hand while the clock runs at wall speed (nothing awaits the
result yet), so a deadline cannot pass between two steps.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError

from adapters.answered_signals import NotWaiting, send_and_wait
from store.staff import put_staff
from tests.workflows.harness import (
    FEEDS,
    GOOD_INTERVIEW,
    INTERVIEWER,
    OFFICER,
    ROUND_PATIENCE,
    RPC_TIMEOUT,
    Handle,
    Rig,
    application,
    arrive,
    interview,
    new_case_id,
    of_type,
    signed,
    types,
    update,
    withdraw,
)
from workflows import api


async def at_interview(rig: Rig) -> tuple[Handle, str]:
    """A kandas case whose checks are done and whose interview staff were asked for."""
    h = await rig.start(application())
    await rig.notice("interview_due")
    return h, h.id.removeprefix("case-")


async def rejected_by_validator(h: Handle, name: str, payload: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await update(h, name, payload)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


# ---- interview by signal ------------------------------------------------------------------
async def test_the_same_interview_signalled_twice_is_recorded_once(case_rig: Rig) -> None:
    case_rig.staff.on("arrival_due", withdraw)
    h, cid = await at_interview(case_rig)
    await h.signal(api.SIGNAL_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER))
    await h.signal(api.SIGNAL_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER))

    status = await case_rig.wait_status(h, lambda s: bool(s.refused))
    [refused] = status.refused
    # the first interview moved the case on, so the second finds it past the interview stage
    # (domain/decider.py checks the stage before `interview_recorded`)
    assert (refused.name, refused.rule) == ("interview", "interview_recorded")

    result = await case_rig.finish(h)  # the case goes on: permit, relocation, then withdrawal
    assert result.closed_reason == "withdrawn"
    events = await case_rig.events(cid)
    assert len(of_type(events, "InterviewRecorded")) == 1
    assert {"PermitIssued", "QuotaPlaceReserved", "QuotaPlaceReleased"} <= set(types(events))


async def test_malformed_interview_signals_are_refused_naming_the_field(case_rig: Rig) -> None:
    h, cid = await at_interview(case_rig)
    bad: list[Any] = [
        signed(h.id, GOOD_INTERVIEW | {"points": -5}, by=INTERVIEWER),
        signed(h.id, {"passed": True}, by=INTERVIEWER),
        "passed with 80 points",
    ]
    for payload in bad:
        await h.signal(api.SIGNAL_INTERVIEW, payload)
    await h.signal(api.SIGNAL_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER))

    status = await case_rig.wait_status(h, lambda s: s.stage != "scoring")
    assert [(r.name, r.rule) for r in status.refused] == [("interview", "invalid_input")] * 3
    points, missing, not_a_dict = (r.reason for r in status.refused)
    assert points.startswith("points:") and "greater than or equal to 0" in points
    assert missing.startswith("points:") and "required" in missing
    assert not_a_dict.startswith("(input):") and "dictionary" in not_a_dict
    assert await case_rig.task_failures(h) == []
    [recorded] = of_type(await case_rig.events(cid), "InterviewRecorded")
    assert (recorded.interviewer_id, recorded.points) == ("staff-7", 80)


# ---- a signal's answer, read by the input_answer query (docs/decisions/023) ----------------
async def test_a_signalled_input_is_answered_by_query_accepted_or_refused_with_the_rule(
    case_rig: Rig,
) -> None:
    h, cid = await at_interview(case_rig)
    client = case_rig.env.client
    # a shape refused before it is parsed is still answered, under the request id it names
    bad = signed(h.id, GOOD_INTERVIEW | {"points": -5}, by=INTERVIEWER, request_id="rq-bad")
    refused = await send_and_wait(
        client, h.id, api.SIGNAL_INTERVIEW, bad, query=api.QUERY_ANSWER, patience=RPC_TIMEOUT
    )
    assert (refused.accepted, refused.rule) == (False, "invalid_input")
    assert refused.reason.startswith("invalid_input: points:")

    good = signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER, request_id="rq-good")
    accepted = await send_and_wait(
        client, h.id, api.SIGNAL_INTERVIEW, good, query=api.QUERY_ANSWER, patience=RPC_TIMEOUT
    )
    assert accepted.accepted
    # sent again (a sender that lost the answer): the same answer; recorded once
    again = await send_and_wait(
        client, h.id, api.SIGNAL_INTERVIEW, good, query=api.QUERY_ANSWER, patience=RPC_TIMEOUT
    )
    assert again == accepted
    signals = [
        e
        for e in (await h.fetch_history()).events
        if e.HasField("workflow_execution_signaled_event_attributes")
        and e.workflow_execution_signaled_event_attributes.signal_name == api.SIGNAL_INTERVIEW
    ]
    assert len(signals) == 2  # the refused one and the good one: applied, so not sent again
    assert len(of_type(await case_rig.events(cid), "InterviewRecorded")) == 1
    # asked by the raw SDK: a request the case never received has no answer yet
    assert await h.query(api.QUERY_ANSWER, "rq-never-sent") is None

    withdrawal = {"kind": "withdrawal", "reason": "the family decided to stay"}
    sent = signed(h.id, withdrawal, by=OFFICER)
    assert (
        await send_and_wait(
            client, h.id, api.SIGNAL_FACT, sent, query=api.QUERY_ANSWER, patience=RPC_TIMEOUT
        )
    ).accepted
    assert (await case_rig.finish(h)).closed_reason == "withdrawn"
    # (a closed case is not asked here: a query of a closed workflow on the time-skipping
    # server is where this test's teardown once hung in a clean-clone run)
    with pytest.raises(NotWaiting):
        await send_and_wait(
            client,
            "case-nobody",
            api.SIGNAL_INTERVIEW,
            good,
            query=api.QUERY_ANSWER,
            patience=RPC_TIMEOUT,
        )


# ---- interview and facts by update --------------------------------------------------------
async def test_an_invalid_interview_update_is_rejected_by_the_validator(case_rig: Rig) -> None:
    h, cid = await at_interview(case_rig)
    before = await case_rig.events(cid)

    for payload, field in [
        (GOOD_INTERVIEW | {"points": -5}, "points"),
        ({"passed": True}, "points"),
        (GOOD_INTERVIEW | {"notes": "ok\x00"}, "notes"),
        (GOOD_INTERVIEW | {"points": 101}, "points"),
    ]:
        cause = await rejected_by_validator(
            h, api.UPDATE_INTERVIEW, signed(h.id, payload, by=INTERVIEWER)
        )
        assert field in cause.message, cause.message
    assert cause.type == "interview_points_max"  # the last one is well formed, but too high
    unsigned = await rejected_by_validator(h, api.UPDATE_INTERVIEW, GOOD_INTERVIEW)
    assert unsigned.type == "unauthenticated" and "no assertion" in unsigned.message

    status = await case_rig.status(h)
    assert (status.stage, status.refused, status.events) == ("scoring", (), len(before))
    assert await case_rig.events(cid) == before  # nothing recorded


async def test_an_update_in_the_wrong_stage_is_rejected_with_the_rule(case_rig: Rig) -> None:
    h, cid = await at_interview(case_rig)
    before = await case_rig.events(cid)
    arrival = signed(h.id, {"kind": "arrival", "region": "Pavlodar"}, by=OFFICER)
    cause = await rejected_by_validator(h, api.UPDATE_FACT, arrival)
    assert cause.type == "relocation_stage"
    assert cause.message.startswith("not accepted in stage 'scoring'")

    repayment = signed(
        h.id, {"kind": "repayment", "amount_tiyn": 100, "reference": "TRN-1"}, by=OFFICER
    )
    assert (await rejected_by_validator(h, api.UPDATE_FACT, repayment)).type == "repayment_stage"
    assert await case_rig.events(cid) == before


async def test_a_valid_interview_update_is_accepted_once_per_request_id(case_rig: Rig) -> None:
    h, cid = await at_interview(case_rig)
    payload = signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER, request_id="interview-1")

    first = await update(h, api.UPDATE_INTERVIEW, payload)
    again = await update(h, api.UPDATE_INTERVIEW, payload)  # a retry by the staff tool

    assert first == again == api.UpdateResult(accepted=True)
    assert len(of_type(await case_rig.events(cid), "InterviewRecorded")) == 1
    assert (await case_rig.status(h)).refused == ()
    # a second interview that is not a retry is refused by the validator
    other = signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER, request_id="interview-2")
    assert (
        await rejected_by_validator(h, api.UPDATE_INTERVIEW, other)
    ).type == "interview_recorded"


# ---- garbage never fails the case ---------------------------------------------------------
GARBAGE: list[tuple[str, Any]] = [
    (api.SIGNAL_INTERVIEW, "garbage"),
    (api.SIGNAL_INTERVIEW, 42),
    (api.SIGNAL_INTERVIEW, None),
    (api.SIGNAL_INTERVIEW, []),
    (api.SIGNAL_INTERVIEW, {"points": -5}),
    (api.SIGNAL_INTERVIEW, GOOD_INTERVIEW | {"extra": True}),
    (api.SIGNAL_INTERVIEW, GOOD_INTERVIEW | {"notes": "x" * 5000}),
    (api.SIGNAL_INTERVIEW, GOOD_INTERVIEW),  # well formed, wrong stage
    (api.SIGNAL_FACT, {"kind": "teleport"}),
    (api.SIGNAL_FACT, {"kind": "arrival"}),
    (api.SIGNAL_FACT, {"kind": "arrival", "region": "Atlantis"}),
    (api.SIGNAL_FACT, {"kind": "arrival", "region": "Pavlodar"}),
    (api.SIGNAL_FACT, {"kind": "repayment"}),
    (
        api.SIGNAL_FACT,
        {"kind": "repayment", "amount_tiyn": -1, "reference": "x"},
    ),
    (
        api.SIGNAL_FACT,
        {"kind": "repayment", "amount_tiyn": 1, "reference": "x"},
    ),
    (
        api.SIGNAL_FACT,
        {"kind": "referral", "approve": True, "reason": "r"},
    ),
    (
        api.SIGNAL_FACT,
        {"kind": "withdrawal", "reason": "changed their mind"},
    ),
    (api.SIGNAL_FACT, {"kind": "departure", "on": "not a date"}),
    (api.SIGNAL_FACT, {"kind": "departure", "on": "2999-01-01"}),
    (api.SIGNAL_FACT, {"kind": "move", "region": "Pavlodar"}),
    (api.SIGNAL_FACT, {"kind": "move", "on": "2999-01-01"}),
    (
        api.SIGNAL_FACT,
        {"kind": "arrival", "region": "Pavlodar", "request_id": ["x"]},
    ),
    (api.SIGNAL_FACT, "x" * 10_000),
]


def as_sent(workflow_id: str, payload: Any) -> Any:
    """A garbage dict as a member would send it through kosh (signed: the rules, not the
    proof, refuse it); anything else raw. A request id that is itself garbage is kept."""
    if not isinstance(payload, dict):
        return payload
    by = OFFICER if "kind" in payload else INTERVIEWER
    sent = signed(workflow_id, {k: v for k, v in payload.items() if k != "request_id"}, by=by)
    return sent | ({"request_id": payload["request_id"]} if "request_id" in payload else {})


async def test_a_burst_of_garbage_in_monitoring_is_refused_and_the_contract_is_fulfilled(
    case_rig: Rig,
) -> None:
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", arrive)
    h = await case_rig.start(application(regions=("Pavlodar",)))
    await case_rig.wait_status(h, lambda s: s.stage == "monitoring")

    for name, payload in GARBAGE:
        await h.signal(name, as_sent(h.id, payload))
    status = await case_rig.wait_status(h, lambda s: len(s.refused) == len(GARBAGE))
    assert all(r.rule for r in status.refused)
    assert {r.rule for r in status.refused} >= {
        "invalid_input",
        "missing_field",
        "interview_recorded",
        "relocation_stage",
        "repayment_stage",
        "referral_stage",
        "withdraw_under_contract",
        "move_within_region",
        "date_in_future",
    }

    result = await case_rig.finish(h)
    assert result.closed_reason == "fulfilled"
    assert len(of_type(await case_rig.events(result.case_id), "SupportPaid")) == 13
    for run in await case_rig.run_ids(h):
        history = await case_rig.env.client.get_workflow_handle(h.id, run_id=run).fetch_history()
        assert not [
            e for e in history.events if e.HasField("workflow_task_failed_event_attributes")
        ]
    assert len((await case_rig.status(h)).refused) == len(GARBAGE)  # kept across runs


# ---- bugs -----------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("args", [[], [GOOD_INTERVIEW, "extra"]], ids=["no-args", "two-args"])
async def test_a_signal_with_the_wrong_number_of_arguments_is_refused(
    broken_rig: Rig, args: list[Any]
) -> None:
    h, cid = await at_interview(broken_rig)
    await h.signal(api.SIGNAL_INTERVIEW, args=args)
    await h.signal(api.SIGNAL_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER))

    assert await broken_rig.recorded(cid, "InterviewRecorded", timeout=5)
    status = await broken_rig.status(h)
    assert [(r.name, r.rule) for r in status.refused] == [("interview", "invalid_input")]


async def test_an_update_in_flight_when_the_case_closes_is_answered(case_rig: Rig) -> None:
    entered, release = case_rig.sim.gate("verify")
    h = await case_rig.start(application(forged=True))
    await asyncio.wait_for(entered.wait(), RPC_TIMEOUT)
    withdrawal = signed(
        h.id, {"kind": "withdrawal", "reason": "the family decided to stay"}, by=OFFICER
    )
    pending = await h.start_update(
        api.UPDATE_FACT,
        withdrawal,
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        result_type=api.UpdateResult,
    )
    release.set()  # the document check now finds the forgery and closes the case

    answer = await asyncio.wait_for(pending.result(), 5)
    assert not answer.accepted and answer.reason.startswith("case_closed")
    assert (await case_rig.finish(h, timeout=5)).closed_reason == "rejected"


YEAR_SECONDS = 6.0


async def test_input_queued_at_the_year_end_does_not_stop_continue_as_new(
    live_rig: Rig,
) -> None:
    """A fact that arrives while a payment is in flight waits for the case's lock (a decision
    is never taken between a payment and its record), then is decided; the case still hands
    over at the year's end. On the dev server (tests/workflows/conftest.py `live_env`): the
    case's clock runs on with the wall."""
    case_rig = live_rig
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", arrive)
    entered, release = case_rig.sim.gate("disburse")
    # A compressed clock that runs on with the wall (domain/clock.py: the demo's stands still
    # during a call), so a held payment spans New Year. Six wall seconds a case-year: a
    # faster clock outruns a loaded machine (each workflow step costs weeks of case time, the
    # overdue agenda never catches up and queries starve).
    h = await case_rig.start(
        application(), seconds_per_year=YEAR_SECONDS, human_floor_seconds=30, clock_moves="wall"
    )
    try:
        # the relocation subsidy, in flight (after the interview, a round and the arrival)
        await asyncio.wait_for(entered.wait(), ROUND_PATIENCE)
        region = (await case_rig.status(h)).region
        # Well formed, so it queues behind the payment; refused by the rules once decided.
        fact = signed(h.id, {"kind": "move", "region": region}, by=OFFICER)
        await h.signal(api.SIGNAL_FACT, fact)
        await asyncio.sleep(YEAR_SECONDS * 1.1)  # more than a case-year
        assert (await case_rig.status(h)).refused == ()  # still queued behind the payment
    finally:
        release.set()  # a payment left held would hold the test server's clock for good

    status = await case_rig.wait_status(h, lambda s: bool(s.refused), timeout=20)
    assert status.refused[0].rule == "move_within_region"
    async with asyncio.timeout(20):
        while len(await case_rig.run_ids(h)) < 2:
            await asyncio.sleep(0.1)


async def test_an_arrival_dated_before_the_case_is_refused(case_rig: Rig) -> None:
    case_rig.staff.on("interview_due", interview)
    h = await case_rig.start(application())
    await case_rig.notice("arrival_due")
    region = (await case_rig.status(h)).region
    backdated = signed(h.id, {"kind": "arrival", "region": region, "on": "2001-06-01"}, by=OFFICER)
    try:
        answer = await update(h, api.UPDATE_FACT, backdated)
    except WorkflowUpdateFailedError:
        answer = api.UpdateResult(accepted=False)
    await asyncio.sleep(0.5)
    paid = of_type(await case_rig.events(h.id.removeprefix("case-")), "SupportPaid")
    assert (answer.accepted, len(paid)) == (False, 0)


async def test_an_arrival_with_an_impossible_date_never_breaks_the_workflow(
    broken_rig: Rig,
) -> None:
    broken_rig.staff.on("interview_due", interview)
    h = await broken_rig.start(application())
    cid = h.id.removeprefix("case-")
    await broken_rig.notice("arrival_due")
    region = (await broken_rig.status(h)).region
    future = {"kind": "arrival", "region": region, "on": "9999-06-01"}
    await h.signal(api.SIGNAL_FACT, signed(h.id, future, by=OFFICER))
    await h.signal(api.SIGNAL_FACT, signed(h.id, {"kind": "arrival", "region": region}, by=OFFICER))

    async with asyncio.timeout(5):  # the workflow task fails at once, or the case goes on
        while not (failed := await broken_rig.task_failures(h)):
            if (status := await broken_rig.status(h)).stage == "monitoring":
                break
            await asyncio.sleep(0.05)
    assert failed == []
    assert status.refused[0].name == "fact"
    assert "SocialContractSigned" in types(await broken_rig.events(cid))


async def test_only_an_active_interviewer_in_the_registry_may_record_the_interview(
    case_rig: Rig,
) -> None:
    async with case_rig.pool.acquire() as conn:
        await put_staff(conn, staff_id="staff-left", roles=["interviewer"], active=False)
        await put_staff(conn, staff_id="officer-only", roles=["case_officer"])
    h = await case_rig.start(application())
    await case_rig.notice("interview_due")

    answers = [
        await update(h, api.UPDATE_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=who))
        for who in ("stranger-1", "staff-left", "officer-only")
    ]
    assert [a.accepted for a in answers] == [False, False, False]
    assert [a.reason for a in answers] == [
        "unauthenticated: stranger-1 is not an active member of the registry",
        "unauthenticated: staff-left is not an active member of the registry",
        "actor_not_authorised: officer-only is not an interviewer",
    ]
    await h.signal(api.SIGNAL_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by="stranger-2"))
    status = await case_rig.wait_status(h, lambda s: len(s.refused) == 4)
    assert [r.rule for r in status.refused] == [
        "unauthenticated",
        "unauthenticated",
        "actor_not_authorised",
        "unauthenticated",
    ]
    assert "InterviewRecorded" not in types(await case_rig.events(status.case_id))

    accepted = await update(h, api.UPDATE_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER))
    assert accepted.accepted, accepted.reason


async def test_every_fact_is_proved_and_the_registry_decides_who_may(case_rig: Rig) -> None:
    case_rig.staff.on("interview_due", interview)
    h = await case_rig.start(application())
    await case_rig.notice("arrival_due")
    region = (await case_rig.status(h)).region
    arrival = {"kind": "arrival", "region": region}

    async def answer(fact: dict[str, Any]) -> str:
        """The case's answer: refused by the validator (nothing recorded) or by the case."""
        try:
            result = await update(h, api.UPDATE_FACT, fact)
        except WorkflowUpdateFailedError as exc:
            assert isinstance(exc.cause, ApplicationError)
            return f"rejected {exc.cause.type}: {exc.cause.message}"
        return "accepted" if result.accepted else f"refused {result.reason}"

    by_feed = FEEDS.issue(staff_id=OFFICER, workflow_id=h.id, request_id="r-feed")
    assert [
        await answer(arrival | {"actor_id": OFFICER}),  # naming oneself proves nothing
        await answer(signed(h.id, arrival, by="staff-7")),  # an interviewer
        await answer(signed(h.id, {"kind": "withdrawal"}, by="feed.treasury")),  # feeds: no
        await answer(arrival | {"request_id": "r-feed", "assertion": by_feed}),
    ] == [
        "rejected unauthenticated: no assertion: staff input is sent by kosh (the console, "
        "the CLI), or carries one from `kosh assert`",
        "refused actor_not_authorised: staff-7 is not a case officer or an agency feed",
        "refused actor_not_authorised: feed.treasury is not a case officer",
        "refused unauthenticated: a feed key asserts agency feeds only, not officer-3",
    ]
    await h.signal(api.SIGNAL_FACT, arrival)
    status = await case_rig.wait_status(h, lambda s: len(s.refused) == 4)
    assert [r.rule for r in status.refused] == [
        "actor_not_authorised",
        "actor_not_authorised",
        "unauthenticated",
        "unauthenticated",  # the unsigned signal: kept and refused, never applied
    ]
    assert status.stage == "relocation"

    # the address registry's feed (migration 0005), asserted with the feeds' key: accepted
    token = FEEDS.issue(staff_id="feed.address-registry", workflow_id=h.id, request_id="r-1")
    accepted = await update(h, api.UPDATE_FACT, arrival | {"request_id": "r-1", "assertion": token})
    assert accepted.accepted, accepted.reason
    await case_rig.wait_status(h, lambda s: s.stage == "monitoring")


async def test_a_flood_of_bad_signals_is_counted_but_cannot_grow_the_case_without_bound(
    case_rig: Rig,
) -> None:
    h = await case_rig.start(application())
    await case_rig.notice("interview_due")
    for i in range(120):
        atlantis = {"kind": "arrival", "region": f"Atlantis-{i}"}
        await h.signal(api.SIGNAL_FACT, signed(h.id, atlantis, by=OFFICER))
    status = await case_rig.wait_status(h, lambda s: s.refused_total == 120, timeout=20)
    assert len(status.refused) == 50
    kept = [r.received_at for r in status.refused]
    assert kept == sorted(kept)  # the newest fifty, oldest first
    assert all(r.reason.startswith("region:") for r in status.refused)
    assert {r.rule for r in status.refused} == {"invalid_input"}
    accepted = await update(h, api.UPDATE_INTERVIEW, signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER))
    assert accepted.accepted, accepted.reason


async def test_a_fact_sent_with_the_start_waits_for_the_application(case_rig: Rig) -> None:
    """A withdrawal signalled with the start (signal-with-start: the handler may run before
    the workflow's first line) is applied once the application is recorded, not refused for a
    case that has none yet."""
    cid = new_case_id()
    fact = {"kind": "withdrawal", "reason": "staying home"}
    withdrawal = signed(api.case_workflow_id(cid), fact, by=OFFICER)
    handle = await case_rig.env.client.start_workflow(
        api.WORKFLOW_NAME,
        api.CaseInput(case_id=cid, application=application()),
        id=api.case_workflow_id(cid),
        task_queue=case_rig.task_queue,
        result_type=api.CaseResult,
        start_signal=api.SIGNAL_FACT,
        start_signal_args=[withdrawal],
    )
    case_rig.handles.append(handle)
    result = await case_rig.finish(handle)
    assert (result.closed_reason, result.detail) == ("withdrawn", "staying home")
    assert types(await case_rig.events(cid))[:1] == ["ApplicationSubmitted"]
    # the withdrawal is not refused; the agencies' answers to the checks the case asked before
    # its own steps let the withdrawal in (workflows/decision_lock.py) are, for a closed case
    refused = (await case_rig.status(handle)).refused
    assert {(r.name, r.rule) for r in refused} <= {("authority", "case_closed")}
