"""The general track's re-screening, and every way out: departure, death, citizenship,
revocation, the permit's term, withdrawal."""

from __future__ import annotations

from domain import commands as cmd
from domain import events as ev
from domain.decisions.base import require
from domain.decisions.contract import Contract
from domain.errors import InvalidCommandError, WrongStageError


class Exit(Contract):
    """(A contract's own rules decide what leaving under it costs: `_left`.)"""

    def RecordRescreening(self, c: cmd.RecordRescreening) -> list[ev.Event]:
        require(self.s, "residence", rule="rescreening_stage")
        out: list[ev.Event] = [self._e(ev.RescreeningCompleted, outcome=c.outcome, reason=c.reason)]
        if c.outcome == "deny":
            out += [
                self._e(ev.PermitRevoked, reason=c.reason),
                self._close("revoked", f"re-screening: {c.reason}"),
            ]
        return out

    def RecordDeparture(self, c: cmd.RecordDeparture) -> list[ev.Event]:
        on = self._not_future(c.departed_on)
        out: list[ev.Event] = [self._e(ev.DepartureRecorded, departed_on=on, source=c.source)]
        if self.s.stage == "monitoring":
            return out + self._left(None, on, c.source)
        if self.s.stage == "repayment":
            return out  # the debt does not leave with the debtor: it is still owed
        return [
            *out,
            *self._release("departed"),
            self._close("departed", f"left Kazakhstan on {on.isoformat()}"),
        ]

    def RecordDeath(self, c: cmd.RecordDeath) -> list[ev.Event]:
        """Closes the case at any stage; a death is never a breach of the contract."""
        on = self._not_future(c.died_on)
        return [
            self._e(ev.DeathRecorded, died_on=on),
            *self._release("died"),
            self._close("died", f"died on {on.isoformat()}{self._still_owed()}"),
        ]

    def RecordCitizenship(self, c: cmd.RecordCitizenship) -> list[ev.Event]:
        """A citizen needs no permit: the case closes, the contract with it, without a breach."""
        require(
            self.s,
            "relocation",
            "monitoring",
            "repayment",
            "residence",
            rule="citizenship_stage",
        )
        on = self._not_future(c.granted_on)
        return [
            self._e(ev.CitizenshipGranted, granted_on=on),
            *self._release("citizenship_granted"),
            self._close(
                "citizenship_granted",
                f"citizenship granted on {on.isoformat()}{self._still_owed()}",
            ),
        ]

    def RevokePermit(self, c: cmd.RevokePermit) -> list[ev.Event]:
        require(
            self.s, "relocation", "monitoring", "repayment", "residence", rule="revocation_stage"
        )
        return [
            self._e(ev.PermitRevoked, reason=c.reason),
            *self._release("revoked"),
            self._close("revoked", f"permit revoked{self._still_owed()}"),
        ]

    def _still_owed(self) -> str:
        owed = self.s.outstanding_tiyn
        return f"; {owed} tiyn still owed, referred for collection" if owed else ""

    def EndPermitTerm(self, c: cmd.EndPermitTerm) -> list[ev.Event]:
        require(self.s, "residence", rule="permit_term_stage")
        assert self.s.permit_valid_until is not None
        if self.today < self.s.permit_valid_until:
            raise InvalidCommandError("permit_valid", f"valid until {self.s.permit_valid_until}")
        return [self._close("permit_term_ended", "permit term ended; renewal is a new case")]

    def Withdraw(self, c: cmd.Withdraw) -> list[ev.Event]:
        if self.s.stage in ("monitoring", "repayment"):
            raise WrongStageError(
                "withdraw_under_contract",
                "under a social contract record a move or departure instead",
            )
        return [*self._release("withdrawn"), self._close("withdrawn", c.reason)]
