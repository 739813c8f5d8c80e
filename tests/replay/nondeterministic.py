"""Edits of the workflows for the replay guard's tests: one changes the commands without a
patch (a stored history cannot replay), one makes the same change the supported way
(a rule change, docs/decisions/005: old histories replay, new cases take the new path).

Kept in its own module: the workflow sandbox re-imports a workflow's module, and this one
imports nothing but the workflows (a test module pulling in asyncpg would be re-imported too).
"""

from __future__ import annotations

from temporalio import workflow

from workflows import api
from workflows import employer_api as eapi
from workflows.case.workflow import ApplicantWorkflow
from workflows.labour.workflow import EmployerPermitWorkflow
from workflows.runtime import RuleChanges

# A rule change as the next release would add one: a pause before the first step.
EXAMPLE_CHANGE = "2027-01-example-pause"


@workflow.defn(name=api.WORKFLOW_NAME)
class ReorderedWorkflow(ApplicantWorkflow):
    """One more timer before the first step, for every case: a history recorded without it
    cannot replay."""

    @workflow.run
    async def run(self, inp: api.CaseInput) -> api.CaseResult:
        await workflow.sleep(1)
        return await super().run(inp)


@workflow.defn(name=api.WORKFLOW_NAME)
class RuleChangeWorkflow(ApplicantWorkflow):
    """The same timer behind a rule change: cases started before it keep their commands."""

    @workflow.run
    async def run(self, inp: api.CaseInput) -> api.CaseResult:
        changes = RuleChanges(
            (EXAMPLE_CHANGE,), self.case.run.rules, continued=inp.snapshot is not None
        )
        if changes.follows(EXAMPLE_CHANGE):
            await workflow.sleep(1)
        return await super().run(inp)


@workflow.defn(name=eapi.WORKFLOW_NAME)
class ReorderedEmployerWorkflow(EmployerPermitWorkflow):
    """One more timer before a labour request's first step, without a patch."""

    @workflow.run
    async def run(self, inp: eapi.LabourInput) -> eapi.LabourResult:
        await workflow.sleep(1)
        return await super().run(inp)
