"""bench/rates.py (pure parts): rates and ratios, the report and its markers and command,
the applicants it starts, the baseline workflow, and that docs/performance.md carries a
measured section with the command that made it. Nothing here is timed."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.rates import BARE_UPDATE, REJECTED_EARLY, BareWorkflow, applicants, local_activity
from bench.rates_report import MARK_BEGIN, MARK_END, Measured, Rate, Row, UpdateCost, report, table

ROOT = Path(__file__).resolve().parent.parent


def measured() -> Measured:
    return Measured(
        starts=Row("cases submitted", Rate(100, 100, 4.0), Rate(100, 100, 2.0)),
        updates=Row("interview updates", Rate(100, 98, 10.0), Rate(100, 100, 1.0)),
        actor="staff-demo",
        start_bytes=(1536, 170),
        costs=(
            UpdateCost(events=17, workflow_tasks=3, activities=("check_actor", "x"), upserts=1),
            UpdateCost(events=2, workflow_tasks=1, activities=(), upserts=0),
        ),
    )


def marker(name: str, data: bytes) -> HistoryEvent:
    e = HistoryEvent(event_type=EventType.EVENT_TYPE_MARKER_RECORDED)
    e.marker_recorded_event_attributes.marker_name = name
    e.marker_recorded_event_attributes.details["data"].CopyFrom(
        Payloads(payloads=[Payload(data=data)])
    )
    return e


def test_a_local_activitys_marker_names_its_activity_and_nothing_else_does() -> None:
    data = b'{"seq":3,"attempt":1,"activity_id":"3","activity_type":"check_actor"}'
    assert local_activity(marker("core_local_activity", data)) == "check_actor"
    assert local_activity(marker("core_patch", data)) is None
    assert local_activity(HistoryEvent(event_type=EventType.EVENT_TYPE_TIMER_FIRED)) is None


def test_a_rate_counts_only_what_succeeded_and_the_ratio_is_kosh_over_bare() -> None:
    assert Rate(100, 98, 10.0).per_second == 9.8
    assert Rate(5, 0, 0.0).per_second == 0.0
    assert Row("x", Rate(10, 10, 2.0), Rate(10, 10, 1.0)).ratio == 0.5
    assert Row("x", Rate(10, 10, 2.0), Rate(10, 0, 1.0)).ratio == 0.0


def test_the_table_has_a_row_per_comparison_with_its_counts() -> None:
    m = measured()
    lines = table([m.starts, m.updates]).splitlines()
    assert lines[0].startswith("| what | kosh per second | bare per second | ratio (kosh/bare) |")
    assert lines[2] == "| cases submitted | 25.0 | 50.0 | 0.50 | 100/100 | 100/100 |"
    assert lines[3] == "| interview updates | 9.8 | 100.0 | 0.10 | 98/100 | 100/100 |"


def test_the_report_is_the_section_with_its_command_and_where_the_time_goes() -> None:
    text = report(measured(), ["--cases", "100", "--write", "docs/performance.md"])
    assert text.startswith(MARK_BEGIN) and text.endswith(MARK_END)
    assert "`python -m bench.rates --cases 100 --write docs/performance.md`" in text
    assert "CPUs" in text and "GiB" in text
    assert "`staff-demo` (an interviewer) and answered accepted: 98 of 100" in text
    assert "1.5 KiB" in text and "170 bytes" in text
    assert "3 workflow tasks, 2 activities (check_actor, x)" in text
    assert "1 search-attribute upsert and 17 history events" in text
    assert "1 workflow task, no activity and 2 events for the bare update" in text


def test_every_applicant_started_reaches_the_interview() -> None:
    cases = applicants(25, seed=7)
    assert len(cases) == 25
    assert len({c.case_id for c in cases}) == 25
    assert not {c.scenario.name for c in cases} & REJECTED_EARLY


async def test_the_bare_workflow_ends_on_its_update(time_env: WorkflowEnvironment) -> None:
    queue = f"bench-bare-{uuid.uuid4()}"
    async with Worker(time_env.client, task_queue=queue, workflows=[BareWorkflow]):
        handle = await time_env.client.start_workflow(
            BareWorkflow.run, id=f"bare-{uuid.uuid4()}", task_queue=queue
        )
        assert await handle.query("ready") is True
        await handle.execute_update(BARE_UPDATE, {"interviewer_id": "staff-demo"})
        await handle.result()
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


def test_the_performance_doc_carries_measured_rates_and_their_command() -> None:
    doc = (ROOT / "docs" / "performance.md").read_text()
    section = doc[doc.index(MARK_BEGIN) : doc.index(MARK_END)]
    assert "`python -m bench.rates " in section
    assert "| what | kosh per second | bare per second |" in section
    assert "| cases submitted (workflow starts) |" in section
    assert "| interview updates (accepted) |" in section
