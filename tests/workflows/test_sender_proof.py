"""Every staff input proves who sent it (issue #20): the attacks a tester made with a plain
Temporal client, reproduced exactly, now refused as `unauthenticated` and listed in the
case's status, the case unchanged; an input with kosh's assertion is applied, its actor taken
from the assertion."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import time
from typing import Any

from temporalio.client import WorkflowUpdateFailedError

from adapters.assertions import EXPIRED, Issuer, SigningKeys
from adapters.ports import StaffNotice, peek_assertion
from cli.demo import DEMO_INTERVIEWER, SimulatedStaff
from store.staff import put_staff
from tests.conftest import venv_binary
from tests.workflows.harness import (
    GOOD_INTERVIEW,
    INTERVIEWER,
    ISSUER,
    OFFICER,
    Handle,
    Rig,
    application,
    of_type,
    signed,
    types,
    update,
)
from workflows import api


async def at_interview(rig: Rig) -> Handle:
    h = await rig.start(application())
    await rig.notice("interview_due")
    return h


async def refusals(rig: Rig, h: Handle, count: int) -> list[tuple[str, str]]:
    status = await rig.wait_status(h, lambda s: len(s.refused) == count)
    return [(r.rule, r.reason) for r in status.refused]


async def test_the_temporal_cli_cannot_record_an_interview_as_a_staff_member(
    case_rig: Rig,
) -> None:
    """`temporal workflow signal -w case-<id> --name record_interview --input
    '{"interviewer_id":"staff-demo","passed":true,"points":100}'`: once, this approved the
    case."""
    h = await at_interview(case_rig)
    target = case_rig.env.client.service_client.config.target_host
    attack = '{"interviewer_id":"staff-demo","passed":true,"points":100}'
    command = [venv_binary("temporal"), "workflow", "signal", "--address", target]
    command += ["-w", h.id, "--name", api.SIGNAL_INTERVIEW, "--input", attack]
    sent = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
    assert sent.returncode == 0, sent.stderr  # Temporal takes the signal; the case refuses it

    [(rule, reason)] = await refusals(case_rig, h, 1)
    assert rule == "unauthenticated" and reason.startswith("no assertion")
    status = await case_rig.status(h)
    assert (status.stage, status.waiting_for, status.decision) == ("scoring", "interview", None)
    assert "InterviewRecorded" not in types(await case_rig.events(status.case_id))


async def test_a_raw_client_cannot_withdraw_a_case_as_a_case_officer(case_rig: Rig) -> None:
    h = await at_interview(case_rig)
    fact = {"kind": "withdrawal", "actor_id": OFFICER, "reason": "by someone else"}
    await h.signal(api.SIGNAL_FACT, fact)
    [(rule, _)] = await refusals(case_rig, h, 1)
    assert rule == "unauthenticated"
    assert (await case_rig.status(h)).stage == "scoring"


async def test_forged_expired_misdirected_and_replayed_assertions_are_refused(
    case_rig: Rig,
) -> None:
    h = await at_interview(case_rig)
    other = await case_rig.start(application())
    stranger = Issuer(SigningKeys.generate("staff", "not-kosh"))  # a key no worker knows
    expired = Issuer(ISSUER.keys, clock=lambda: time.time() - 3600)
    good = signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER, request_id="r-good")
    prefix, _, signature = good["assertion"].split(".")
    claims = peek_assertion(good["assertion"])
    assert claims is not None
    as_another = claims.model_copy(update={"sub": "staff-1"}).model_dump_json().encode()
    tampered = base64.urlsafe_b64encode(as_another).decode().rstrip("=")

    attacks: list[dict[str, Any]] = [
        # signed by a key the workers do not hold
        GOOD_INTERVIEW
        | {
            "request_id": "r1",
            "assertion": stranger.issue(staff_id=INTERVIEWER, workflow_id=h.id, request_id="r1"),
        },
        # kosh's signature, the claims changed
        good | {"assertion": f"{prefix}.{tampered}.{signature}"},
        # expired an hour ago
        GOOD_INTERVIEW
        | {
            "request_id": "r2",
            "assertion": expired.issue(staff_id=INTERVIEWER, workflow_id=h.id, request_id="r2"),
        },
        # issued for another case
        signed(other.id, GOOD_INTERVIEW, by=INTERVIEWER, request_id="r3"),
        # kosh's assertion for request r-good, sent again as another request
        good | {"request_id": "r4"},
    ]
    for attack in attacks:
        await h.signal(api.SIGNAL_INTERVIEW, attack)
    refused = await refusals(case_rig, h, len(attacks))
    assert [rule for rule, _ in refused] == ["unauthenticated"] * len(attacks)
    unknown, forged, old, misdirected, replayed = (reason for _, reason in refused)
    assert unknown == "the assertion is signed by an unknown key 'not-kosh'"
    assert forged == "the assertion's signature does not verify"
    assert old.startswith("the assertion expired")
    assert misdirected == f"the assertion was issued for {other.id}"
    assert replayed == "the assertion was issued for request 'r-good', not 'r4'"

    # an update is refused by its validator as well, nothing recorded
    try:
        await update(h, api.UPDATE_INTERVIEW, signed(other.id, GOOD_INTERVIEW, by=INTERVIEWER))
    except WorkflowUpdateFailedError as exc:
        assert getattr(exc.cause, "type", None) == "unauthenticated"
    else:
        raise AssertionError("an update for another case was accepted")

    # the genuine one is applied once; its interviewer is the assertion's member
    assert (await update(h, api.UPDATE_INTERVIEW, good)).accepted
    again = await update(h, api.UPDATE_INTERVIEW, good)  # a retry: the first answer
    assert again.accepted
    [recorded] = of_type(await case_rig.events(h.id.removeprefix("case-")), "InterviewRecorded")
    assert recorded.interviewer_id == INTERVIEWER


async def test_an_assertion_of_a_member_deactivated_since_is_refused(case_rig: Rig) -> None:
    async with case_rig.pool.acquire() as conn:
        await put_staff(conn, staff_id="staff-9", roles=["interviewer"])
    h = await at_interview(case_rig)
    issued = signed(h.id, GOOD_INTERVIEW, by="staff-9")
    async with case_rig.pool.acquire() as conn:
        await put_staff(conn, staff_id="staff-9", roles=["interviewer"], active=False)

    answer = await update(h, api.UPDATE_INTERVIEW, issued)
    assert (answer.accepted, answer.reason) == (
        False,
        "unauthenticated: staff-9 is not an active member of the registry",
    )
    assert (await case_rig.status(h)).stage == "scoring"


async def test_an_answer_whose_assertion_expired_before_the_case_took_it_is_signed_again(
    case_rig: Rig,
) -> None:
    """The 2,000-case soak of issue #25: under load a case took the simulated staff's arrival
    up after its five minutes, refused it `unauthenticated`, and the family's relocation
    lapsed. The refusal is kept (the case listed it); the staff sign the same request again
    and it is applied once."""
    async with case_rig.pool.acquire() as conn:
        await put_staff(conn, staff_id=DEMO_INTERVIEWER, roles=["interviewer"])
    h = await at_interview(case_rig)
    cid = h.id.removeprefix("case-")
    issued: list[float] = []

    def clock() -> float:  # the first proof is signed as if an hour ago: expired on arrival
        issued.append(time.time() - (3600 if not issued else 0))
        return issued[-1]

    office = SimulatedStaff(
        case_rig.env.client,
        case_rig.sim,
        {cid: "fulfilled"},
        issuer=Issuer(ISSUER.keys, clock=clock),
    )
    notice = StaffNotice(case_id=cid, kind="interview_due", message="interview due")
    await office.answer(notice, patience=30)

    status = await case_rig.wait_status(h, lambda s: s.stage != "scoring")
    assert len(issued) == 2
    [(rule, reason)] = [(r.rule, r.reason) for r in status.refused]
    assert rule == "unauthenticated" and reason.startswith(EXPIRED)
    [recorded] = of_type(await case_rig.events(cid), "InterviewRecorded")
    assert recorded.interviewer_id == DEMO_INTERVIEWER
