"""Activities that ask other agencies: documents, KAZTEST, authorities, registries, permits."""

from __future__ import annotations

from temporalio import activity

from activities import models as m
from activities.errors import classified
from activities.logging import activity_log
from adapters.ports import (
    AddressRegistry,
    BorderControl,
    CompetentAuthorities,
    DocumentRegistry,
    LanguageTestCentre,
    LocalExecutive,
    PermitRegistry,
)


class VerificationActivities:
    def __init__(
        self,
        *,
        documents: DocumentRegistry,
        language: LanguageTestCentre,
        authorities: CompetentAuthorities,
        address: AddressRegistry,
        border: BorderControl,
        permits: PermitRegistry,
        executive: LocalExecutive,
    ) -> None:
        self.documents = documents
        self.language = language
        self.authorities = authorities
        self.address = address
        self.border = border
        self.permits = permits
        self.executive = executive

    @activity.defn
    async def verify_documents(self, ref: m.CaseRef) -> m.DocumentCheckResult:
        async with classified():
            verdict = await self.documents.verify(case_id=ref.case_id, application=ref.application)
        activity_log(case_id=ref.case_id).info("documents_verified", authentic=verdict.authentic)
        return m.DocumentCheckResult(authentic=verdict.authentic, reasons=verdict.reasons)

    @activity.defn
    async def sit_language_test(self, req: m.LanguageTestInput) -> m.LanguageTestResult:
        async with classified():
            result = await self.language.sit_test(
                case_id=req.case_id, application=req.application, attempt=req.attempt
            )
        activity_log(case_id=req.case_id).info(
            "language_test_sat", test_attempt=req.attempt, rules_broken=result.rules_broken
        )
        return m.LanguageTestResult(
            attempt=result.attempt,
            section_percent=result.section_percent,
            rules_broken=result.rules_broken,
        )

    @activity.defn
    async def check_authority(self, req: m.AuthorityCheckInput) -> m.AuthorityCheckResult:
        async with classified():
            reply = await self.authorities.check(
                case_id=req.case_id, application=req.application, authority=req.authority
            )
        activity_log(case_id=req.case_id, authority=req.authority).info(
            "authority_checked", outcome=reply.outcome
        )
        return m.AuthorityCheckResult(
            authority=req.authority, outcome=reply.outcome, reason=reply.reason
        )

    @activity.defn
    async def request_authority_check(self, req: m.AuthorityRequestInput) -> m.AuthorityRequestAck:
        """Lodge a check with an authority; its verdict arrives later, by signal."""
        async with classified():
            reference = await self.authorities.request(
                case_id=req.case_id,
                application=req.application,
                authority=req.authority,
                request_key=req.request_key,
            )
        activity_log(case_id=req.case_id, authority=req.authority).info("authority_asked")
        return m.AuthorityRequestAck(authority=req.authority, reference=reference)

    @activity.defn
    async def watch_registration(self, req: m.WatchInput) -> m.WatchAck:
        """Ask the address registry to report the family's registration in the region."""
        async with classified():
            reference = await self.address.watch(
                case_id=req.case_id, region=req.region, request_key=req.request_key
            )
        activity_log(case_id=req.case_id).info("registration_watched")
        return m.WatchAck(reference=reference)

    @activity.defn
    async def check_residence(self, req: m.ResidenceCheckInput) -> m.ResidenceCheckResult:
        async with classified():
            region = await self.address.registered_region(
                case_id=req.case_id,
                settled_region=req.settled_region,
                settled_on=req.settled_on,
                on=req.on,
            )
        activity_log(case_id=req.case_id).info(
            "residence_checked", in_region=region == req.settled_region
        )
        return m.ResidenceCheckResult(region=region)

    @activity.defn
    async def check_departure(self, req: m.DepartureCheckInput) -> m.DepartureCheckResult:
        async with classified():
            day = await self.border.departed_on(
                case_id=req.case_id, since=req.since, until=req.until
            )
        activity_log(case_id=req.case_id).info("departure_checked", departed=day is not None)
        return m.DepartureCheckResult(departed_on=day)

    @activity.defn
    async def issue_permit(self, req: m.IssueInput) -> m.IssueResult:
        async with classified():
            number = await self.permits.issue_permit(case_id=req.case_id)
        activity_log(case_id=req.case_id).info("permit_issued")
        return m.IssueResult(number=number)

    @activity.defn
    async def request_kandas_status(self, req: m.KandasRequestInput) -> m.KandasRequestAck:
        """Lodge the kandas status request with the local executive body (once per key)."""
        async with classified():
            reference = await self.executive.request_kandas_status(
                case_id=req.case_id,
                application=req.application,
                requested_on=req.requested_on,
                request_key=req.request_key,
            )
        activity_log(case_id=req.case_id).info("kandas_status_requested")
        return m.KandasRequestAck(reference=reference)

    @activity.defn
    async def kandas_decisions(self, req: m.KandasLookupInput) -> m.KandasLookupResult:
        """The steps the local executive body took on the request up to `on`."""
        async with classified():
            steps = await self.executive.kandas_decisions(
                case_id=req.case_id,
                reference=req.reference,
                requested_on=req.requested_on,
                on=req.on,
            )
        activity_log(case_id=req.case_id).info(
            "kandas_decisions_read", steps=[s.kind for s in steps]
        )
        return m.KandasLookupResult(steps=steps)
