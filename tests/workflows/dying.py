"""kosh's workflows on a worker that dies after an append (tests/workflows/fault_switch.py): the
append lands in the record, then the workflow task fails before it completes, as when the
process is SIGKILLed between the two. The worker stays down while the test moves the clock on;
revived, it retries the task from the last completed one, later: the append's answer is in the
history (an ordinary activity: docs/decisions/022), so the task takes it and goes on."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tests.workflows.fault_switch import FAULTS
    from workflows import api
    from workflows import employer_api as eapi

from workflows.case.workflow import ApplicantWorkflow
from workflows.labour.workflow import EmployerPermitWorkflow
from workflows.runtime import Runtime


class WorkerDied(RuntimeError):
    """Fails the workflow task (not the workflow): what a killed worker leaves behind."""


def die_after_append(rt: Runtime) -> None:
    # A clock that runs on with the wall (domain/clock.py), as a real case's does: the retried
    # task runs later in case time, and still decides nothing again (the append's answer is
    # in the history); under local appends it decided again and adopted the record's events.
    rt.clock = rt.time.clock = rt.clock.model_copy(update={"moves": "wall"})
    append = rt.append

    async def dying(method: Any, request: Any, *, summary: str) -> Any:
        fault = FAULTS.get(workflow.info().workflow_id)
        if fault is None or workflow.unsafe.is_replaying():  # replaying what was done before
            return await append(method, request, summary=summary)
        if fault.state == "down":
            assert fault.died_at is not None
            if workflow.now() < fault.died_at + fault.down_for:
                raise WorkerDied("the worker is still down")
            fault.retried_at = workflow.now()
        decided_at = workflow.now()
        result = await append(method, request, summary=summary)
        if fault.state == "armed" and fault.target in {p.event.type for p in request.events}:
            fault.state, fault.died_at = "down", decided_at
            raise WorkerDied(f"the worker died after appending {fault.target}")
        if fault.state in ("down", "recovered"):  # the retried task's appends, one by one
            fault.state = "recovered"
            fault.adopted += tuple(p.event.type for p in result.adopted)
        return result

    rt.append = dying  # type: ignore[method-assign]


@workflow.defn(name=api.WORKFLOW_NAME)
class DyingApplicantWorkflow(ApplicantWorkflow):
    @workflow.init
    def __init__(self, inp: api.CaseInput) -> None:
        super().__init__(inp)
        die_after_append(self.case.rt)

    @workflow.run
    async def run(self, inp: api.CaseInput) -> api.CaseResult:
        return await super().run(inp)


@workflow.defn(name=eapi.WORKFLOW_NAME)
class DyingEmployerWorkflow(EmployerPermitWorkflow):
    @workflow.init
    def __init__(self, inp: eapi.LabourInput) -> None:
        super().__init__(inp)
        die_after_append(self.req.rt)

    @workflow.run
    async def run(self, inp: eapi.LabourInput) -> eapi.LabourResult:
        return await super().run(inp)
