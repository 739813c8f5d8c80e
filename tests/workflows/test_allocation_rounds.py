"""Ranked allocation rounds on the time-skipping server (docs/decisions/014): a region with
fewer places than approved candidates gives them to the best-ranked; the one not reached is
told, and gets a place in a later round; a candidate past the policy's rounds takes the
general track with the reason recorded; a duplicated round never grants beyond its places;
a family may choose the general track itself, and is refused once it holds a place."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.allocation import RESEND_EVERY, AllocationActivities, HoldInput, TellInput
from adapters.answered_signals import send_and_wait
from domain.events import ApplicationSubmitted, QuotaPlaceReserved
from domain.policy import POLICY_2026_1, policy_in_force
from domain.regions import Region
from store.events import NewEvent, append_events
from store.queries import quota_usage
from store.rounds import read_round, rounds
from tests.workflows.harness import (
    OFFICER,
    ROUND_PATIENCE,
    Handle,
    Rig,
    application,
    as_staff,
    interview,
    of_type,
    one,
    types,
    update,
)
from workflows import api
from workflows.allocation_api import SIGNAL_ALLOCATION

REGION = "Atyrau"
RACED: Region = "Abai"  # filled to its last place by the racing-rounds test only


@pytest.fixture
async def waiting(case_rig: Rig) -> Any:
    """Answer interviews; leave "candidacy_lodged" to the test (it holds the rounds)."""
    case_rig.staff.on("interview_due", interview)
    case_rig.staff.answers.pop("candidacy_lodged", None)
    return case_rig


async def candidates(r: Rig, scope: str, n: int) -> list[Handle]:
    """`n` kandas families (Atyrau only) waiting for a round, started in order."""
    handles = []
    for i in range(n):
        h = await r.start(application(regions=(REGION,)), case_id=f"{scope}{i}")
        handles.append(h)
        await r.notice("candidacy_lodged", timeout=30)
    return handles


async def record(r: Rig, case_id: str) -> list[Any]:
    return await r.events(case_id)


async def test_the_best_ranked_get_the_places_and_the_one_not_reached_is_told_and_waits(
    waiting: Rig,
) -> None:
    r = waiting
    scope = f"rk{uuid.uuid4().hex[:6]}-"
    handles = await candidates(r, scope, 3)
    ids = [h.id.removeprefix("case-") for h in handles]
    scores = {cid: one(await record(r, cid), "CandidacyLodged").score for cid in ids}
    # equal applicants score alike: the tie goes to the earliest submission, so ranks follow
    # the order they applied in
    assert len(set(scores.values())) == 1

    first = f"{scope}atyrau-r1"
    await r.hold_round(REGION, scope=scope, size=2, round_id=first)
    for cid in ids[:2]:
        assert "AllocationGranted" in types(await record(r, cid))
    missed = one(await record(r, ids[2]), "AllocationNotReached")
    assert (missed.rank, missed.cut_off, missed.region) == (3, scores[ids[0]], REGION)
    told = await r.notice("allocation_not_reached")
    assert told.case_id == ids[2] and "rank 3" in told.message
    status = await r.status(handles[2])
    assert (status.stage, status.region, status.track) == ("relocation", None, "kandas")

    # the record holds the round: ranked list, scores, offers, then the answers
    async with r.pool.acquire() as conn:
        held = await read_round(conn, rid=first)
        listed = [x for x in await rounds(conn) if x.round_id == first]
    assert held is not None and held.closed is not None
    assert [(x.case_id, x.rank, x.offer) for x in held.held.ranked] == [
        (ids[0], 1, "offered"),
        (ids[1], 2, "offered"),
        (ids[2], 3, "not_reached"),
    ]
    assert [t.answer for t in held.closed.told] == ["granted", "granted", "not_reached"]
    assert [(x.candidates, x.granted, x.not_reached, x.cut_off) for x in listed] == [
        (3, 2, 1, scores[ids[0]])
    ]

    # the next round reaches the one left: a place for it
    await r.hold_round(REGION, scope=scope, size=2, round_id=f"{scope}atyrau-r2")
    granted = one(await record(r, ids[2]), "AllocationGranted")
    assert granted.round_id == f"{scope}atyrau-r2" and granted.rank == 1
    assert (await r.status(handles[2])).region == REGION


async def test_a_duplicated_or_retried_round_grants_nobody_twice_and_never_beyond_its_places(
    waiting: Rig,
) -> None:
    r = waiting
    scope = f"dup{uuid.uuid4().hex[:6]}-"
    handles = await candidates(r, scope, 3)
    ids = [h.id.removeprefix("case-") for h in handles]
    rid = f"{scope}atyrau-2026-12"
    await r.hold_round(REGION, scope=scope, size=1, round_id=rid)
    await r.hold_round(REGION, scope=scope, size=1, round_id=rid)  # the same round again
    reserved = [len(of_type(await record(r, cid), "QuotaPlaceReserved")) for cid in ids]
    assert reserved == [1, 0, 0]
    # one word per candidate per round, however often the round is told
    assert [len(of_type(await record(r, cid), "AllocationNotReached")) for cid in ids] == [0, 1, 1]
    async with r.pool.acquire() as conn:
        held = await read_round(conn, rid=rid)
    assert held is not None and held.held.places == 1


async def test_a_rounds_word_comes_by_signal_and_is_answered_from_the_record_only(
    waiting: Rig,
) -> None:
    """No update carries a round's word (docs/decisions/023); a word signalled by anybody
    else names a round the record does not hold for the case, and is answered with the rule."""
    r = waiting
    scope = f"sig{uuid.uuid4().hex[:6]}-"
    [h] = await candidates(r, scope, 1)
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await update(h, SIGNAL_ALLOCATION, {"round_id": "r-forged", "request_id": "rq-1"})
    assert isinstance(caught.value.cause, ApplicationError)
    assert caught.value.cause.type == "unknown_input"

    forged = {"round_id": f"{scope}no-such-round", "request_id": "rq-2"}
    answer = await send_and_wait(
        r.env.client,
        h.id,
        SIGNAL_ALLOCATION,
        forged,
        query=api.QUERY_ANSWER,
        patience=ROUND_PATIENCE,
    )
    assert (answer.accepted, answer.rule) == (False, "not_in_round")
    await r.hold_round(REGION, scope=scope, size=1, round_id=f"{scope}atyrau-r1")
    assert "AllocationGranted" in types(await record(r, h.id.removeprefix("case-")))


async def test_a_retried_tell_waits_for_the_answer_and_sends_the_word_again_only_now_and_then(
    waiting: Rig,
) -> None:
    """A case too busy to answer in one attempt is not sent the same word at every retry:
    the attempt's heartbeat says an earlier one signalled (the signal is in the history)."""
    r = waiting
    scope = f"tell{uuid.uuid4().hex[:6]}-"
    [h] = await candidates(r, scope, 1)
    acts = AllocationActivities(pool=r.pool, client=r.env.client)
    word = TellInput(
        workflow_id=h.id,
        signal=SIGNAL_ALLOCATION,
        query=api.QUERY_ANSWER,
        round_id=f"{scope}no-round",
        request_id=f"{scope}no-round:{h.id}",
        offered=True,
    )

    async def told(attempt: int, signalled: int | None) -> Any:
        info = dataclasses.replace(
            ActivityEnvironment().info,
            attempt=attempt,
            heartbeat_details=[] if signalled is None else [signalled],
            start_to_close_timeout=timedelta(seconds=2),
        )
        env = ActivityEnvironment()
        env.info = info
        return await env.run(acts.tell_candidate, word)

    def words(history: Any) -> int:
        return sum(
            1
            for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")
            and e.workflow_execution_signaled_event_attributes.signal_name == SIGNAL_ALLOCATION
        )

    with pytest.raises(ApplicationError) as caught:  # signalled by attempt 1: answer awaited
        await told(attempt=2, signalled=1)
    assert caught.value.type == "NoAnswerYet"
    assert words(await h.fetch_history()) == 0
    # now and then the word is sent again: the case answers (the record holds no such round)
    assert (await told(attempt=1 + RESEND_EVERY, signalled=1)).answer == "not_waiting"
    assert words(await h.fetch_history()) == 1
    # a refusal is not kept as the answer to a word sent again: asked afresh, refused again
    assert (await told(attempt=2 + RESEND_EVERY, signalled=None)).answer == "not_waiting"
    assert words(await h.fetch_history()) == 2


async def test_past_the_policys_rounds_an_unreached_candidate_takes_the_general_track(
    waiting: Rig,
) -> None:
    r = waiting
    scope = f"dl{uuid.uuid4().hex[:6]}-"
    [h] = await candidates(r, scope, 1)
    cid = h.id.removeprefix("case-")
    limit = POLICY_2026_1.allocation.rounds_not_reached
    for n in range(limit):
        await r.hold_round(REGION, scope=scope, size=0, round_id=f"{scope}atyrau-r{n}")
    events = await record(r, cid)
    assert len(of_type(events, "AllocationNotReached")) == limit
    moved = one(events, "MovedToGeneralTrack")
    assert moved.reason == "rounds_exhausted" and f"{limit} allocation rounds" in moved.detail
    assert REGION in moved.detail
    assert "QuotaPlaceReserved" not in types(events)
    told = await r.notice("general_track")
    assert told.case_id == cid and "not reached" in told.message
    status = await r.wait_status(h, lambda s: s.stage == "residence")
    assert (status.track, status.region) == ("general", None)


async def test_a_family_may_choose_the_general_track_while_it_waits_not_once_placed(
    waiting: Rig,
) -> None:
    r = waiting
    scope = f"ch{uuid.uuid4().hex[:6]}-"
    first, second = await candidates(r, scope, 2)
    choice = {"kind": "general_track", "reason": "the family settles near relatives"}
    chosen = await as_staff(first, api.UPDATE_FACT, choice, by=OFFICER)
    assert chosen.accepted, chosen.reason
    moved = one(await record(r, first.id.removeprefix("case-")), "MovedToGeneralTrack")
    assert (moved.reason, moved.detail) == ("applicant_chose", choice["reason"])
    # unproved, it is refused like any staff fact
    with pytest.raises(WorkflowUpdateFailedError) as bare:
        await update(second, api.UPDATE_FACT, choice)
    assert isinstance(bare.value.cause, ApplicationError)
    assert bare.value.cause.type == "unauthenticated"

    await r.hold_round(REGION, scope=scope, size=1, round_id=f"{scope}atyrau-r1")
    assert (await r.status(second)).region == REGION
    with pytest.raises(WorkflowUpdateFailedError) as late:
        await as_staff(second, api.UPDATE_FACT, choice, by=OFFICER)
    cause = late.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "general_track_choice_stage" and "relocating" in cause.message
    # the first family took no part in the round: it no longer waited
    events = await record(r, first.id.removeprefix("case-"))
    assert "AllocationGranted" not in types(events)
    desc = await r.latest(first).describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING


async def fill_but_one(r: Rig, region: Region, year: int, *, on: datetime) -> int:
    """Reserve every place of `region`'s year but one for made-up cases, through the store's
    own reservation; the region's capacity."""
    policy = policy_in_force(on.date())
    capacity = policy.quota(region, year)
    async with r.pool.acquire() as conn:
        used = sum(u.in_use for u in await quota_usage(conn, year=year) if u.region == region)
        for _ in range(capacity - 1 - used):
            filler = f"filler-{uuid.uuid4().hex[:12]}"
            batch = [
                ApplicationSubmitted(
                    policy_id=policy.id, at=on, case_id=filler, application=application()
                ),
                QuotaPlaceReserved(
                    policy_id=policy.id, at=on, region=region, year=year, capacity=capacity
                ),
            ]
            await append_events(
                conn,
                case_id=filler,
                expected_seq=0,
                events=[NewEvent(event_id=str(uuid.uuid4()), event=e) for e in batch],
            )
    return capacity


async def test_two_rounds_racing_for_the_last_place_never_grant_beyond_the_quota(
    waiting: Rig,
) -> None:
    """Two rounds of the region (say a late one and the next period's), each over its own
    candidate, both offer the year's last place: the ledger lets one case take it; the other
    case is told the place is gone and stays a candidate, and the round records it."""
    r = waiting
    scopes = [f"race{uuid.uuid4().hex[:6]}-", f"race{uuid.uuid4().hex[:6]}-"]
    handles = []
    for scope in scopes:
        h = await r.start(application(regions=(RACED,)), case_id=f"{scope}0")
        handles.append(h)
        await r.notice("candidacy_lodged", timeout=30)
    now = await r.env.get_current_time()
    capacity = await fill_but_one(r, RACED, now.year, on=now)
    rids = [f"{scope}abai-r" for scope in scopes]
    # both rounds decided before either tells anyone: each offers the year's last place
    acts = AllocationActivities(pool=r.pool)
    for scope, rid in zip(scopes, rids, strict=True):
        hold = HoldInput(round_id=rid, region=RACED, now=now, scope=scope)
        decided = await ActivityEnvironment().run(acts.hold_round, hold)
        assert decided.held is not None and decided.held.places == 1
    await asyncio.gather(
        *(r.hold_round(RACED, scope=s, round_id=rid) for s, rid in zip(scopes, rids, strict=True))
    )
    async with r.pool.acquire() as conn:
        [used] = [u for u in await quota_usage(conn, year=now.year) if u.region == RACED]
        held = [await read_round(conn, rid=rid) for rid in rids]
    assert (used.capacity, used.in_use) == (capacity, capacity)  # never beyond the quota
    assert all(h is not None and h.held.places == 1 for h in held)
    answers = sorted(h.closed.told[0].answer for h in held if h is not None and h.closed)
    assert answers == ["granted", "place_gone"]
    regions = [(await r.status(h)).region for h in handles]
    assert sorted(map(str, regions)) == sorted([RACED, "None"])
    [left] = [h for h, region in zip(handles, regions, strict=True) if region is None]
    missed = one(await record(r, left.id.removeprefix("case-")), "AllocationNotReached")
    assert missed.region == RACED
    assert (await r.status(left)).stage == "relocation"  # still a candidate
