"""Re-screening (the general track's, and under a social contract), and every way out:
departure, death, citizenship, revocation, the permit's term, withdrawal; and the exit check
with border control that every closed case makes last."""

from __future__ import annotations

from domain import commands as cmd
from domain import events as ev
from domain.decisions.base import require
from domain.decisions.contract import Contract
from domain.errors import InvalidCommandError, WrongStageError

# Closings after which the person has no ground to stay (no permit, or no longer one): no exit
# on record is flagged for staff. The others keep a permit or are citizens (or died).
NO_STAY: frozenset[ev.CloseReason] = frozenset(
    ("rejected", "withdrawn", "revoked", "permit_term_ended", "departed")
)


class Exit(Contract):
    """(A contract's own rules decide what leaving under it costs: `_left`.)"""

    def RecordRescreening(self, c: cmd.RecordRescreening) -> list[ev.Event]:
        """A denial revokes the permit for the holder's fault: on the general track the case
        closes; under a social contract it is a breach, the support owed back."""
        require(self.s, "residence", "monitoring", rule="rescreening_stage")
        if self.s.citizenship_granted_on is not None:
            raise InvalidCommandError(
                "citizen_not_rescreened", "a citizen holds no permit to re-screen"
            )
        out: list[ev.Event] = [self._e(ev.RescreeningCompleted, outcome=c.outcome, reason=c.reason)]
        if c.outcome != "deny":
            return out
        if self.s.stage == "monitoring":
            return out + self._revoked_for_cause(f"re-screening: {c.reason}")
        return [
            *out,
            self._e(ev.PermitRevoked, reason=c.reason, fault=True),
            self._close("revoked", f"re-screening: {c.reason}"),
        ]

    def RecordDeparture(self, c: cmd.RecordDeparture) -> list[ev.Event]:
        on = self._not_future(c.departed_on)
        out: list[ev.Event] = [self._e(ev.DepartureRecorded, departed_on=on, source=c.source)]
        if self.s.stage == "monitoring":
            ends = self.s.contract_ends_on
            if ends is not None and on >= ends and self.s.discrepancy_confirm_on is not None:
                return out  # gone after the last day, but the registry's re-check decides
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
        """A citizen needs no permit. Under a social contract (or a repayment owed under it)
        the case goes on: the obligation to live in the region for five years, and a debt,
        outlast the new status (docs/decisions/012). Otherwise the case closes."""
        require(
            self.s,
            "relocation",
            "monitoring",
            "repayment",
            "residence",
            rule="citizenship_stage",
        )
        on = self._not_future(c.granted_on)
        if self.s.stage in ("monitoring", "repayment"):
            known = self.s.citizenship_granted_on
            if known == on:
                return []
            if known is not None:
                raise InvalidCommandError(
                    "citizenship_recorded", f"citizenship was granted on {known.isoformat()}"
                )
            return [self._e(ev.CitizenshipGranted, granted_on=on)]
        return [
            self._e(ev.CitizenshipGranted, granted_on=on),
            *self._release("citizenship_granted"),
            self._close(
                "citizenship_granted",
                f"citizenship granted on {on.isoformat()}{self._still_owed()}",
            ),
        ]

    def RevokePermit(self, c: cmd.RevokePermit) -> list[ev.Event]:
        """For the holder's fault under a social contract: a breach (the support owed back).
        Without fault, or where no contract runs: the case closes."""
        require(
            self.s, "relocation", "monitoring", "repayment", "residence", rule="revocation_stage"
        )
        if self.s.citizenship_granted_on is not None:
            raise InvalidCommandError(
                "citizen_has_no_permit", "citizenship was granted: there is no permit to revoke"
            )
        if self.s.stage == "monitoring" and c.fault:
            return self._revoked_for_cause(c.reason)
        return [
            self._e(ev.PermitRevoked, reason=c.reason, fault=c.fault),
            *self._release("revoked"),
            self._close("revoked", f"permit revoked{self._still_owed()}"),
        ]

    def _still_owed(self) -> str:
        owed = self.s.outstanding_tiyn
        return f"; {owed} tiyn still owed, referred for collection" if owed else ""

    def RecordExitCheck(self, c: cmd.RecordExitCheck) -> list[ev.Event]:
        """Border control's answer as the case closes: a departure confirmed, or none on
        record, flagged for staff when the closing left no ground to stay."""
        if not self.s.is_closed:
            raise WrongStageError("exit_check_when_closed", "the exit check follows the closing")
        if self.s.exit_checked:
            raise InvalidCommandError("exit_checked", "the exit check is already recorded")
        if c.until < c.since:
            raise InvalidCommandError("exit_window", f"{c.until} is before {c.since}")
        gone = c.departed_on
        if gone is not None and not c.since <= gone <= c.until:
            raise InvalidCommandError(
                "departure_outside_window", f"{gone} is not between {c.since} and {c.until}"
            )
        flagged = gone is None and (self.s.permit_revoked or self.s.closed_reason in NO_STAY)
        return [
            self._e(ev.ExitChecked, since=c.since, until=c.until, departed_on=gone, flagged=flagged)
        ]

    def Withdraw(self, c: cmd.Withdraw) -> list[ev.Event]:
        if self.s.stage in ("monitoring", "repayment"):
            raise WrongStageError(
                "withdraw_under_contract",
                "under a social contract record a move or departure instead",
            )
        return [*self._release("withdrawn"), self._close("withdrawn", c.reason)]
