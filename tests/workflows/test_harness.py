"""The harness's own failure message: what a test's workflows still have in flight."""

from __future__ import annotations

from tests.workflows.harness import Rig, application, in_flight


async def test_the_clock_check_names_each_workflow_and_what_it_has_in_flight(
    case_rig: Rig,
) -> None:
    h = await case_rig.start(application(forged=True))  # rejected at the document check
    await case_rig.finish(h)
    assert await in_flight(case_rig.env, h) == (
        f"{h.id}: COMPLETED, no task, activities pending: none"
    )
