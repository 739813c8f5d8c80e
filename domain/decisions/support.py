"""Support beyond the family's own under the contract (docs/decisions/018): an employer's
subsidy for a resettler it employs and houses, and the family's housing certificate."""

from __future__ import annotations

from domain import commands as cmd
from domain import events as ev
from domain.agenda import employer_subsidy_key
from domain.calendar import add_years
from domain.decisions.base import Decision, require
from domain.errors import InvalidCommandError
from domain.model import TIYN_PER_TENGE


class Support(Decision):
    def RecordEmployment(self, c: cmd.RecordEmployment) -> list[ev.Event]:
        """The subsidy falls due after the minimum years of employment, within the contract;
        once per resettler (a member whose employer was paid earns no second one)."""
        require(self.s, "monitoring", rule="employment_stage")
        app, starts, ends = self.s.application, self.s.contract_starts_on, self.s.contract_ends_on
        assert app is not None and starts is not None and ends is not None
        if c.member > app.family_size:
            raise InvalidCommandError(
                "employment_member",
                f"member {c.member}: the family has {app.family_size} (1 is the applicant)",
            )
        if not c.housing_provided:
            raise InvalidCommandError(
                "employer_subsidy_needs_housing",
                "the employer subsidy is for an employer who gives the resettler housing",
            )
        started = self._not_future(c.started_on)
        if started < starts:
            raise InvalidCommandError(
                "employment_before_contract",
                f"{started.isoformat()} is before the contract began ({starts.isoformat()})",
            )
        if employer_subsidy_key(self.s.case_id, c.member) in self.s.paid_keys:
            raise InvalidCommandError(
                "employer_subsidy_paid", f"member {c.member}'s employer was already paid it"
            )
        known = self.s.employment(c.member)
        if known is not None and known.ended_on is None:
            if (known.employer_id, known.started_on) == (c.employer_id, started):
                return []
            raise InvalidCommandError(
                "employment_recorded",
                f"member {c.member} is employed by {known.employer_id} since "
                f"{known.started_on.isoformat()}: record that employment's end first",
            )
        due = add_years(started, self.p.support.employer_subsidy_min_employment_years)
        if due > ends:
            raise InvalidCommandError(
                "employment_beyond_contract",
                f"the minimum employment is reached on {due.isoformat()}, after the "
                f"contract's last day ({ends.isoformat()})",
            )
        return [
            self._e(
                ev.EmploymentRecorded,
                member=c.member,
                employer_id=c.employer_id,
                started_on=started,
                housing_provided=True,
                subsidy_due_on=due,
            )
        ]

    def EndEmployment(self, c: cmd.EndEmployment) -> list[ev.Event]:
        require(self.s, "monitoring", rule="employment_stage")
        job = self.s.employment(c.member)
        if job is None:
            raise InvalidCommandError(
                "employment_unknown", f"no employment is recorded for member {c.member}"
            )
        if job.ended_on is not None:
            if c.ended_on in (None, job.ended_on):
                return []
            raise InvalidCommandError(
                "employment_ended", f"the employment ended on {job.ended_on.isoformat()}"
            )
        ended = self._not_future(c.ended_on)
        if ended < job.started_on:
            raise InvalidCommandError(
                "employment_end_before_start",
                f"{ended.isoformat()} is before it began ({job.started_on.isoformat()})",
            )
        return [self._e(ev.EmploymentEnded, member=c.member, ended_on=ended)]

    def IssueHousingCertificate(self, c: cmd.IssueHousingCertificate) -> list[ev.Event]:
        """One certificate a family, for a home in the contract's region: the policy's share of
        its price, up to the cap in MRP of the year it is issued."""
        require(self.s, "monitoring", rule="housing_certificate_stage")
        known = self.s.housing_certificate
        if known is not None:
            if known.reference == c.reference:
                return []
            raise InvalidCommandError(
                "housing_certificate_issued",
                f"the family's certificate was issued already ({known.reference})",
            )
        if c.region != self.s.region:
            raise InvalidCommandError(
                "housing_outside_region", f"the home must be in {self.s.region}, not {c.region}"
            )
        rules = self.p.support
        cap = rules.housing_certificate_cap_mrp * self.p.mrp(self.today.year) * TIYN_PER_TENGE
        amount = min(c.price_tiyn * rules.housing_certificate_share_percent // 100, cap)
        if amount <= 0:
            raise InvalidCommandError("housing_price", "the price gives no certificate amount")
        return [
            self._e(
                ev.HousingCertificateIssued,
                reference=c.reference,
                region=c.region,
                price_tiyn=c.price_tiyn,
                amount_tiyn=amount,
            )
        ]
