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
        # The general track's is permanent residence, proved by a card renewed at its end
        # (docs/decisions/019); a kandas family's permit runs beside its contract.
        rules = self.p.general
        general = self.s.track == "general"
        years = rules.residence_card_years if general else rules.permit_term_years
        return [
            self._e(
                ev.PermitIssued,
                permit_number=c.permit_number,
                valid_until=add_years(self.today, years),
            )
        ]

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

    def LodgeCandidacy(self, c: cmd.LodgeCandidacy) -> list[ev.Event]:
        """The family waits for the rounds of its preferred regions, ranked by its frozen
        score and its submission time (docs/decisions/014)."""
        self._kandas_relocation()
        if self.s.kandas_certificate is None:
            raise WrongStageError("kandas_status_first", "kandas status is not granted yet")
        if self.s.candidacy is not None:
            return []
        b, app = self.s.breakdown, self.s.application
        assert b is not None and app is not None
        regions = tuple(r for r in app.preferred_regions if r in LABOUR_DEFICIT_REGIONS)
        return [
            self._e(ev.CandidacyLodged, score=b.total, submitted_at=b.submitted_at, regions=regions)
        ]

    def TakeAllocation(self, c: cmd.TakeAllocation) -> list[ev.Event]:
        """A round's word: a place offered is reserved (the record's ledger still refuses one
        beyond the quota); not reached, the family stays a candidate until it has not been
        reached in `allocation.rounds_not_reached` rounds of each region it listed, then takes
        the general track."""
        self._kandas_relocation()
        s = self.s
        if s.candidacy is None:
            raise WrongStageError("candidacy_first", "the family has no candidacy lodged")
        if c.round_id == s.granted_round or c.round_id in s.rounds_not_reached:
            return []  # this round's word is already recorded
        if s.region is not None:
            raise InvalidCommandError("quota_place_held", f"a place is held in {s.region}")
        if c.region not in s.candidacy.regions:
            raise InvalidCommandError(
                "region_not_preferred", f"{c.region} is not among the family's regions"
            )
        # the round's word as the case records it, granted or not
        word = c.model_dump(include={"round_id", "number", "region", "rank", "cut_off"})
        if c.offered:
            granted = self._e(ev.AllocationGranted, **word)
            return [
                granted,
                *self.ReserveQuotaPlace(cmd.ReserveQuotaPlace(region=c.region, year=c.year)),
            ]
        missed_event = self._e(ev.AllocationNotReached, **word)
        limit = self.p.allocation.rounds_not_reached
        missed = [*s.not_reached_in, c.region]
        if any(missed.count(r) < limit for r in s.candidacy.regions):
            return [missed_event]
        detail = (
            f"not reached in {limit} allocation rounds of each of its regions "
            f"({', '.join(s.candidacy.regions)}); the permit stands without support"
        )
        return [
            missed_event,
            self._e(ev.MovedToGeneralTrack, reason="rounds_exhausted", detail=detail),
        ]

    def ChooseGeneralTrack(self, c: cmd.ChooseGeneralTrack) -> list[ev.Event]:
        """Only a family still waiting for a place may choose: one with a place holds it
        until it arrives or the place lapses."""
        require(self.s, "relocation", rule="general_track_choice_stage")
        if self.s.region is not None:
            raise WrongStageError(
                "general_track_choice_stage",
                f"a place is held in {self.s.region}: the family is relocating",
            )
        if self.s.candidacy is None:
            raise WrongStageError(
                "general_track_choice_stage", "the family is not waiting for an allocation round"
            )
        return [self._e(ev.MovedToGeneralTrack, reason="applicant_chose", detail=c.reason)]

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
