"""The permit, and for kandas the status, a quota place, the arrival and the social contract."""

from __future__ import annotations

from domain import commands as cmd
from domain import events as ev
from domain.calendar import add_years
from domain.decisions.base import Decision, require
from domain.errors import InvalidCommandError, WrongStageError
from domain.regions import LABOUR_DEFICIT_REGIONS


class Relocation(Decision):
    def IssuePermit(self, c: cmd.IssuePermit) -> list[ev.Event]:
        require(self.s, "permit", rule="permit_stage")
        years = self.p.general.permit_term_years
        return [
            self._e(
                ev.PermitIssued,
                permit_number=c.permit_number,
                valid_until=add_years(self.today, years),
            )
        ]

    def GrantKandasStatus(self, c: cmd.GrantKandasStatus) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.kandas_certificate is not None:
            return []
        return [self._e(ev.KandasStatusGranted, certificate_number=c.certificate_number)]

    def ReserveQuotaPlace(self, c: cmd.ReserveQuotaPlace) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.kandas_certificate is None:
            raise WrongStageError("kandas_status_first", "kandas status is not granted yet")
        if self.s.region is not None:
            raise InvalidCommandError("quota_place_held", f"a place is held in {self.s.region}")
        if c.region not in LABOUR_DEFICIT_REGIONS:
            raise InvalidCommandError(
                "region_not_labour_deficit", f"{c.region} is not a labour-deficit region"
            )
        capacity = self.p.quota(c.region, c.year)
        if capacity <= 0:
            raise InvalidCommandError("no_quota_for_region", f"{c.region} has no quota in {c.year}")
        return [self._e(ev.QuotaPlaceReserved, region=c.region, year=c.year, capacity=capacity)]

    def GiveUpSupport(self, c: cmd.GiveUpSupport) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.region is not None:
            raise InvalidCommandError("quota_place_held", f"a place is held in {self.s.region}")
        return [self._e(ev.KandasSupportUnavailable, regions_tried=c.regions_tried)]

    def RecordArrival(self, c: cmd.RecordArrival) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.region is None:
            raise WrongStageError("arrival_before_quota", "no quota place is reserved yet")
        if c.region != self.s.region:
            raise InvalidCommandError(
                "arrival_region_mismatch",
                f"the reserved place is in {self.s.region}, not {c.region}",
            )
        if self.s.arrived_on is not None:
            return []
        arrived_on = self._not_future(c.arrived_on)
        issued = self.s.permit_issued_on
        if issued is not None and arrived_on < issued:
            raise InvalidCommandError(
                "arrival_before_permit",
                f"{arrived_on.isoformat()} is before the permit was issued ({issued.isoformat()})",
            )
        return [self._e(ev.RelocationArrived, region=c.region, arrived_on=arrived_on)]

    def LapseRelocation(self, c: cmd.LapseRelocation) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.arrived_on is not None:
            raise InvalidCommandError("already_arrived", "the family has arrived")
        return [
            *self._release("no arrival by the deadline"),
            self._close("relocation_lapsed", "no arrival in the region by the deadline"),
        ]

    def SignSocialContract(self, c: cmd.SignSocialContract) -> list[ev.Event]:
        self._kandas_relocation()
        if self.s.arrived_on is None or self.s.region is None:
            raise WrongStageError("contract_before_arrival", "the family has not arrived yet")
        app = self.s.application
        assert app is not None
        return [
            self._e(
                ev.SocialContractSigned,
                region=self.s.region,
                starts_on=self.s.arrived_on,
                ends_on=add_years(self.s.arrived_on, self.p.contract.term_years),
                family_size=app.family_size,
            )
        ]
