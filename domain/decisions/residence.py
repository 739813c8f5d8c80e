"""Permanent residence on general grounds (docs/decisions/019): no term; the card that proves
it is renewed at its end, after border control has said the holder is still here."""

from __future__ import annotations

from domain import commands as cmd
from domain import events as ev
from domain.calendar import add_years
from domain.decisions.base import Decision, require
from domain.errors import InvalidCommandError


class Residence(Decision):
    def RenewPermit(self, c: cmd.RenewPermit) -> list[ev.Event]:
        require(self.s, "residence", rule="permit_renewal_stage")
        until, number = self.s.permit_valid_until, self.s.permit_number
        assert until is not None and number is not None
        if self.today < until:
            raise InvalidCommandError("permit_valid", f"the card is valid until {until}")
        renewed = add_years(until, self.p.general.residence_card_years)
        return [self._e(ev.PermitRenewed, permit_number=number, valid_until=renewed)]
