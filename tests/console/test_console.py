"""The staff console over HTTP (in-process ASGI), against cases on the time-skipping server:
sign-in, a case's picture, the interview form and its refusals."""

from __future__ import annotations

import re

import httpx
import pytest_asyncio

from store.staff import issue_token, put_staff
from tests.workflows.harness import Rig, application, types


async def token_for(rig: Rig, staff_id: str) -> str:
    """A member's sign-in token, issued by the staff registry (the previous one retired)."""
    async with rig.pool.acquire() as conn:
        issued = await issue_token(conn, staff_id=staff_id)
    assert issued is not None
    return issued


@pytest_asyncio.fixture
async def token(case_rig: Rig) -> str:
    """staff-7's sign-in token (an interviewer in the test registry)."""
    return await token_for(case_rig, "staff-7")


async def sign_in(
    browser: httpx.AsyncClient, token: str, staff_id: str = "staff-7"
) -> httpx.Response:
    return await browser.post("/login", data={"staff_id": staff_id, "token": token, "next": "/"})


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return found.group(1)


async def waiting_case(case_rig: Rig) -> tuple[str, str]:
    # The general track: a kandas family would go on to an allocation round after the
    # interview, which the test's end could cut short (a round still telling the case holds
    # the test server's clock for every later test).
    h = await case_rig.start(application(track="general"))
    await case_rig.notice("interview_due")  # checks done; the clock now runs at wall speed
    return h.id, h.id.removeprefix("case-")


async def interview_page(case_rig: Rig, browser: httpx.AsyncClient, token: str) -> tuple[str, str]:
    """A case waiting for its interview, and its page as staff-7 (signed in) sees it."""
    _, cid = await waiting_case(case_rig)
    assert (await sign_in(browser, token)).status_code == 303
    return cid, (await browser.get(f"/cases/{cid}")).text


async def test_pages_need_a_signed_in_member(browser: httpx.AsyncClient, token: str) -> None:
    for path in ("/", "/cases/anything"):
        answer = await browser.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    wrong = await sign_in(browser, "not-the-token")
    assert wrong.status_code == 401 and "wrong token" in wrong.text
    stranger = await sign_in(browser, token, staff_id="staff-1")  # another member's id
    assert stranger.status_code == 401
    assert (await browser.get("/")).status_code == 303


async def test_sign_in_follows_the_registry(
    case_rig: Rig, browser: httpx.AsyncClient, token: str
) -> None:
    assert (await sign_in(browser, token)).status_code == 303
    assert (await browser.get("/cases/none")).status_code == 404  # in, and shown "no case"
    async with case_rig.pool.acquire() as conn:
        newer = await issue_token(conn, staff_id="staff-7")  # a reissued token...
        assert newer is not None
    assert (await sign_in(browser, token)).status_code == 401  # ...retires the old one
    assert (await sign_in(browser, newer)).status_code == 303
    async with case_rig.pool.acquire() as conn:
        await put_staff(conn, staff_id="staff-7", roles=["interviewer"], active=False)
    try:
        # deactivated: signed out at the next request, and cannot sign in again
        assert (await browser.get("/cases/none")).status_code == 303
        assert (await sign_in(browser, newer)).status_code == 401
    finally:
        async with case_rig.pool.acquire() as conn:
            await put_staff(conn, staff_id="staff-7", roles=["interviewer"])


async def test_an_interview_recorded_in_the_console_moves_the_case_on(
    case_rig: Rig, browser: httpx.AsyncClient, token: str
) -> None:
    cid, page = await interview_page(case_rig, browser, token)
    assert "Record the interview" in page and "Recorded as interviewer staff-7" in page
    assert 'name="interviewer_id"' not in page  # who interviewed is the signed-in member

    form = {
        "csrf": hidden(page, "csrf"),
        "request_id": hidden(page, "request_id"),
        "outcome": "pass",
        "points": "82",
        "notes": "clear answers",
        "interviewer_id": "someone-else",  # ignored
    }
    sent = await browser.post(f"/cases/{cid}/interview", data=form)
    assert sent.status_code == 303
    after = (await browser.get(f"/cases/{cid}")).text
    assert "Interview recorded." in after
    again = await browser.post(f"/cases/{cid}/interview", data=form)  # a double submit
    assert again.status_code == 303

    status = await case_rig.wait_status(case_rig.handles[0], lambda s: s.decision is not None)
    assert status.decision == "approve"
    events = await case_rig.events(cid)
    [recorded] = [e for e in events if e.type == "InterviewRecorded"]
    assert (recorded.interviewer_id, recorded.points, recorded.notes) == (
        "staff-7",
        82,
        "clear answers",
    )
    assert types(events).count("InterviewRecorded") == 1


async def test_bad_input_is_named_and_nothing_is_sent(
    case_rig: Rig, browser: httpx.AsyncClient, token: str
) -> None:
    cid, page = await interview_page(case_rig, browser, token)
    base = {"csrf": hidden(page, "csrf"), "request_id": hidden(page, "request_id")}

    no_outcome = await browser.post(f"/cases/{cid}/interview", data={**base, "points": "80"})
    assert no_outcome.status_code == 422 and "outcome: choose pass or fail" in no_outcome.text
    words = await browser.post(
        f"/cases/{cid}/interview", data={**base, "outcome": "pass", "points": "eighty"}
    )
    assert words.status_code == 422 and "points:" in words.text
    assert 'value="eighty"' in words.text  # what staff typed is kept for correction
    too_many = await browser.post(
        f"/cases/{cid}/interview", data={**base, "outcome": "pass", "points": "100000"}
    )
    assert too_many.status_code == 303  # valid form, refused by the case's rule
    refused = (await browser.get(f"/cases/{cid}")).text
    assert "Refused (interview_points_max)" in refused
    forged = await browser.post(
        f"/cases/{cid}/interview", data={**base, "csrf": "forged", "outcome": "pass", "points": "1"}
    )
    assert forged.status_code == 403

    assert "InterviewRecorded" not in types(await case_rig.events(cid))
    status = await case_rig.status(case_rig.handles[0])
    assert status.waiting_for == "interview"


async def test_an_unknown_case_is_named(browser: httpx.AsyncClient, token: str) -> None:
    await sign_in(browser, token)
    answer = await browser.get("/cases/no-such-case")
    assert answer.status_code == 404 and "No case no-such-case." in answer.text


async def test_a_case_picture_carries_no_form_when_not_waiting_for_an_interview(
    case_rig: Rig, browser: httpx.AsyncClient, token: str
) -> None:
    h = await case_rig.start(application(forged=True))
    await case_rig.finish(h)
    await sign_in(browser, token)
    page = (await browser.get(f"/cases/{h.id.removeprefix('case-')}")).text
    assert "rejected" in page and "Record the interview" not in page
    assert "DocumentsRejected" in page  # the history from the business record


HOSTILE_FORMS = [
    {"outcome": "pass", "points": "80", "notes": "ok\x00"},
    {"outcome": "pass", "points": "80", "notes": "\u202eevil"},
    {"outcome": "pass", "points": "80", "notes": "x" * 100_000},
    {"outcome": "pass", "points": "-5", "notes": ""},
    {"outcome": "pass", "points": "1e309", "notes": ""},
    {"outcome": "pass", "points": "'; DROP TABLE events; --", "notes": ""},
    {"outcome": "maybe", "points": "80", "notes": ""},
    {"outcome": "pass", "points": "８０", "notes": ""},  # full-width digits
    {"outcome": "pass", "points": "99999999999999999999999", "notes": ""},
    {"outcome": "fail", "points": "0", "notes": "'; DELETE FROM staff; --"},  # valid: sent
]


async def test_hostile_forms_are_refused_naming_the_field_and_the_case_goes_on(
    case_rig: Rig, browser: httpx.AsyncClient, token: str
) -> None:
    cid, page = await interview_page(case_rig, browser, token)
    base = {"csrf": hidden(page, "csrf")}
    answers = []
    for form in HOSTILE_FORMS:
        sent = await browser.post(
            f"/cases/{cid}/interview", data={**base, **form, "request_id": form["points"][:20]}
        )
        answers.append(sent.status_code)
        if sent.status_code == 422:
            assert re.search(r"(points|notes|outcome): ", sent.text), form
    # refused in the form, field by field; a huge but well-formed number goes to the case,
    # which refuses it by its rule (interview_points_max); the last form is valid
    assert answers == [422] * 8 + [303, 303]
    assert await case_rig.task_failures(case_rig.handles[0]) == []
    status = await case_rig.wait_status(case_rig.handles[0], lambda s: s.decision is not None)
    assert status.decision == "reject"  # the one valid form: a failed interview
    events = await case_rig.events(cid)
    [recorded] = [e for e in events if e.type == "InterviewRecorded"]
    assert recorded.notes == "'; DELETE FROM staff; --"  # stored as text, nothing executed
