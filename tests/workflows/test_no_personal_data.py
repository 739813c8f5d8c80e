"""No personal data in logs: a whole case runs with logs captured, and neither the
applicant's name nor the passport number nor a family member's name appears in them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from activities.logging import REDACTED, redact_personal
from adapters.ports import StaffNotice
from tests.workflows.harness import (
    FULL_NAME,
    OFFICER,
    Handle,
    Rig,
    application,
    arrive,
    interview,
    signed,
)
from worker import configure_logging
from workflows import api


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(json=True, stream=stream)
    caplog.set_level(logging.DEBUG)
    try:
        yield stream
    finally:
        configure_logging(json=False)


async def test_a_whole_case_logs_no_personal_data(
    case_rig: Rig, captured_logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    async def free_text_with_the_name(handle: Handle, notice: StaffNotice) -> None:
        # under contract a withdrawal is refused: the refusal is logged, the text must not be
        fact = {"kind": "withdrawal", "reason": f"{FULL_NAME} found work in Almaty"}
        await handle.signal(api.SIGNAL_FACT, signed(handle.id, fact, by=OFFICER))

    case_rig.staff.on("interview_due", interview)
    case_rig.staff.on("arrival_due", arrive)
    case_rig.staff.on("discrepancy_found", free_text_with_the_name)
    app = application()
    h = await case_rig.start(app)
    cid = h.id.removeprefix("case-")
    case_rig.sim.world.plan_move(cid, after_days=30, to_region="Almaty")
    result = await case_rig.finish(h)
    status = await case_rig.status(h)
    assert result.closed_reason == "breach_referred"
    assert [r.rule for r in status.refused] == ["withdraw_under_contract"]

    text = captured_logs.getvalue() + "\n".join(r.getMessage() for r in caplog.records)
    text += "\n".join(str(r.__dict__) for r in caplog.records)
    assert "events_appended" in text  # the logs were captured at all
    personal = [FULL_NAME, *FULL_NAME.split(), app.document.number, app.born_on.isoformat()]
    personal += [m.full_name for m in app.family]
    assert [p for p in personal if p in text] == []


def test_the_processor_redacts_personal_fields_wherever_they_are() -> None:
    app = application()
    line = redact_personal(
        None,
        "info",
        {
            "event": "something",
            "application": app,
            "case_id": "c-1",
            "context": {"notes": "Aigerim said", "attempt": 2, "family": [{"x": 1}]},
            "items": [{"full_name": "X"}, 3],
        },
    )
    assert line["application"] == REDACTED
    assert line["context"] == {"notes": REDACTED, "attempt": 2, "family": REDACTED}
    assert line["items"] == [{"full_name": REDACTED}, 3]
    assert (line["event"], line["case_id"]) == ("something", "c-1")
