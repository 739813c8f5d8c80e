"""Staff input delivered the way networks and people deliver it: three times, in the wrong
stage, to a case that has closed. The case records it once, refuses the rest with the rule,
and the sender of input to a closed case gets a clear error, with nothing sent."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from temporalio.service import RPCError, RPCStatusCode

import cli.cases
from tests.workflows.harness import GOOD_INTERVIEW, INTERVIEWER, Rig, application, of_type, signed
from workflows import api

pytestmark = pytest.mark.fault


async def test_the_same_staff_signal_three_times_is_applied_once(case_rig: Rig) -> None:
    h = await case_rig.start(application())
    await case_rig.notice("interview_due")
    once = signed(h.id, GOOD_INTERVIEW, by=INTERVIEWER, request_id="interview-form-7")
    for _ in range(3):  # a retrying sender
        await h.signal(api.SIGNAL_INTERVIEW, once)
    status = await case_rig.wait_status(h, lambda s: len(s.refused) == 2)
    assert [r.rule for r in status.refused] == ["duplicate_request", "duplicate_request"]
    assert len(of_type(await case_rig.events(status.case_id), "InterviewRecorded")) == 1


async def test_input_to_a_closed_case_gets_a_clear_error_and_nothing_is_sent(
    case_rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    h = await case_rig.start(application(forged=True))
    result = await case_rig.finish(h)
    assert result.closed_reason == "rejected"

    with pytest.raises(RPCError) as raw:  # a raw signal: Temporal refuses it
        await h.signal(api.SIGNAL_INTERVIEW, GOOD_INTERVIEW)
    assert raw.value.status == RPCStatusCode.NOT_FOUND

    async def client(state: Any) -> Any:
        return case_rig.env.client

    monkeypatch.setattr(cli.cases, "temporal", client)
    fact = {"kind": "withdrawal"}
    with pytest.raises(typer.Exit) as stopped:  # the CLI names it
        await cli.cases.send(None, result.case_id, api.UPDATE_FACT, fact)
    assert stopped.value.exit_code == 1
    said = " ".join(capsys.readouterr().err.split())
    assert f"case {result.case_id} is closed and takes no more input; nothing was sent" in said
    with pytest.raises(typer.Exit):
        await cli.cases.send(None, "no-such-case", api.UPDATE_FACT, fact)
    assert "no case no-such-case; nothing was sent" in " ".join(capsys.readouterr().err.split())
