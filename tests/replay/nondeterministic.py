"""A deliberately non-deterministic edit of ApplicantWorkflow, for the replay guard's test.

Kept in its own module: the workflow sandbox re-imports a workflow's module, and this one
imports nothing but the workflow (a test module pulling in asyncpg would be re-imported too).
"""

from __future__ import annotations

from temporalio import workflow

from workflows import api
from workflows import employer_api as eapi
from workflows.applicant import ApplicantWorkflow
from workflows.employer import EmployerPermitWorkflow


@workflow.defn(name=api.WORKFLOW_NAME)
class ReorderedWorkflow(ApplicantWorkflow):
    """One more timer before the first step: history recorded without it cannot replay."""

    @workflow.run
    async def run(self, inp: api.CaseInput) -> api.CaseResult:
        await workflow.sleep(1)
        return await super().run(inp)


@workflow.defn(name=api.WORKFLOW_NAME)
class UnguardedRuleChangeWorkflow(ApplicantWorkflow):
    """Every rule change applied to every case, without asking `workflow.patched`: a case
    started before a change cannot replay."""

    @workflow.run
    async def run(self, inp: api.CaseInput) -> api.CaseResult:
        return await super().run(inp)

    def _follows(self, change: str) -> bool:
        return True


@workflow.defn(name=eapi.WORKFLOW_NAME)
class UnguardedEmployerWorkflow(EmployerPermitWorkflow):
    """The labour request's rule changes applied to every request, without asking."""

    @workflow.run
    async def run(self, inp: eapi.LabourInput) -> eapi.LabourResult:
        return await super().run(inp)

    def _follows(self, change: str) -> bool:
        return True
