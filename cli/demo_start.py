"""Starting the demo cohort's workflows: an applicant's case (an employer's request:
cli/demo_labour.py)."""

from __future__ import annotations

import asyncio
from typing import Protocol

from temporalio.client import Client

from domain.application import Application
from workflows import api


class DemoCase(Protocol):
    """cli/demo.py's DemoCase, as far as starting it goes (that module imports this one)."""

    @property
    def case_id(self) -> str: ...

    @property
    def application(self) -> Application: ...


async def submit(
    client: Client, case: DemoCase, *, seconds_per_year: float, human_floor_seconds: float
) -> None:
    inp = api.CaseInput(
        case_id=case.case_id,
        application=case.application,
        seconds_per_year=seconds_per_year,
        human_floor_seconds=human_floor_seconds,
    )
    await client.start_workflow(
        api.WORKFLOW_NAME,
        inp,
        id=api.case_workflow_id(case.case_id),
        task_queue=api.TASK_QUEUE,
        static_summary=api.static_summary(inp),
        static_details=api.static_details(inp),
    )
    await asyncio.sleep(0)
