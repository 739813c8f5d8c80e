"""Proof of who sends staff input from the command line: the console, the one issuer of staff
assertions, signs one for the signed-in member (`kosh login`) for each request; `kosh
interview`, `kosh fact` and `kosh employer fact` attach it, and `kosh assert` prints one for
a hand-sent signal (docs/operators.md)."""

from __future__ import annotations

import os
import uuid
from typing import Annotated, Any

import httpx
import typer

from cli.common import JsonFlag, StateOpt, _emit, fail
from cli.identity import load_session
from cli.stack import find_stack
from console.issuing import PATH
from workflows import api
from workflows import employer_api as eapi


def console_url(state: Any) -> str:
    """KOSH_CONSOLE_PUBLIC_URL when set, else the console of a running `kosh dev`."""
    url = os.environ.get("KOSH_CONSOLE_PUBLIC_URL") or find_stack(state).console_url
    if not url:
        fail(
            "no console to prove who you are: set KOSH_CONSOLE_PUBLIC_URL (the console issues "
            "staff assertions), or run `kosh dev`",
            1,
        )
    return url.rstrip("/")


def assertion(state: Any, workflow_id: str, request_id: str) -> str:
    """The console's assertion that the signed-in member sends `request_id` to `workflow_id`;
    exit 2 when nobody is signed in or the sign-in is no longer valid, 1 when the console
    cannot be reached."""
    session = load_session(state)
    if session is None:
        fail("not signed in: run `kosh login STAFF_ID` (or set KOSH_STAFF_ID/KOSH_STAFF_TOKEN)", 2)
    url = console_url(state)
    try:
        answer = httpx.post(
            url + PATH,
            json={"workflow_id": workflow_id, "request_id": request_id},
            headers={"Authorization": f"Bearer {session.staff_id}:{session.token}"},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the console at {url} to prove who you are ({exc})", 1)
    if answer.status_code == 401:
        fail(
            f"{session.staff_id}: the sign-in token is no longer valid or the member is "
            "inactive; run `kosh login` again",
            2,
        )
    if answer.status_code != 200:
        fail(f"the console at {url} issued no assertion ({answer.status_code}: {answer.text})", 1)
    token: str = answer.json()["assertion"]
    return token


def proved(state: Any, workflow_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` with a fresh request id and its assertion."""
    request_id = payload.get("request_id") or f"cli-{uuid.uuid4().hex}"
    token = assertion(state, workflow_id, request_id)
    return {**payload, "request_id": request_id, "assertion": token}


def assert_cmd(
    target: Annotated[str, typer.Argument(help="Case id, labour request id, or workflow id.")],
    request_id: Annotated[
        str | None, typer.Option(help="The request it proves (default: a fresh one).")
    ] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Print an assertion that you (the signed-in member) send one request to one case: for a
    staff input sent by hand, e.g. with `temporal workflow signal` (docs/operators.md). Put
    it and its request_id in the input; it is valid for five minutes, for that request only."""
    if target.startswith(("case-", "labour-")):
        workflow_id = target
    elif target.startswith("lr-"):
        workflow_id = eapi.request_workflow_id(target)
    else:
        workflow_id = api.case_workflow_id(target)
    rid = request_id or f"hand-{uuid.uuid4().hex[:12]}"
    token = assertion(state, workflow_id, rid)
    body = {"workflow_id": workflow_id, "request_id": rid, "assertion": token}
    _emit(body, as_json, f'"request_id": "{rid}", "assertion": "{token}"')
