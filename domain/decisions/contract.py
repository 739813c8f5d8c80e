"""The social contract's years: support paid as due, residence checked, a move or a
repayment recorded, the clawback on early departure, the contract fulfilled."""

from __future__ import annotations

from datetime import date, timedelta

from domain import commands as cmd
from domain import events as ev
from domain.agenda import support_dates
from domain.case import CaseState
from domain.decisions.base import Decision, require
from domain.errors import InvalidCommandError
from domain.policy import Policy
from domain.regions import Region


class Contract(Decision):
    def RecordSupportPayment(self, c: cmd.RecordSupportPayment) -> list[ev.Event]:
        if self.s.stage in ("repayment", "closed") or self.s.left_on is not None:
            raise InvalidCommandError("no_payment_after_breach", "the contract was breached")
        require(self.s, "monitoring", rule="no_support_before_contract")
        if c.idempotency_key in self.s.paid_keys:
            return []
        promised = {d.idempotency_key: d for d in support_dates(self.s, self.p)}
        item = promised.get(c.idempotency_key)
        if item is not None and item.due_on > self.today:
            raise InvalidCommandError("payment_not_due", f"due on {item.due_on.isoformat()}")
        if item is None or (item.measure, item.period, item.price(self.p)) != (
            c.measure,
            c.period,
            c.amount_tiyn,
        ):
            raise InvalidCommandError(
                "payment_not_in_contract",
                f"{c.idempotency_key} is not a payment this contract owes",
            )
        return [
            self._e(
                ev.SupportPaid,
                measure=c.measure,
                period=c.period,
                amount_tiyn=c.amount_tiyn,
                idempotency_key=c.idempotency_key,
                payment_reference=c.payment_reference,
            )
        ]

    def RecordResidenceCheck(self, c: cmd.RecordResidenceCheck) -> list[ev.Event]:
        require(self.s, "monitoring", rule="residence_check_stage")
        if c.reported_region == self.s.region:
            return [self._e(ev.ResidenceConfirmed, region=self.s.region, checked_on=c.checked_on)]
        pending = self.s.discrepancy_confirm_on
        if pending is not None and c.checked_on >= pending:
            return self._left(c.reported_region, self._registry_left_on(c.checked_on), "registry")
        if pending is not None:
            return []  # still elsewhere within the grace period: the window does not restart
        grace = timedelta(days=self.p.contract.confirmation_grace_days)
        return [
            self._e(
                ev.ResidenceDiscrepancyFound,
                reported_region=c.reported_region,
                checked_on=c.checked_on,
                confirm_on=c.checked_on + grace,
            )
        ]

    def _registry_left_on(self, rechecked_on: date) -> date:
        """When a family the registry still finds elsewhere at the re-check left: the date of
        the check that first found them elsewhere (the final check's is the contract's last
        day of residence, before its end date). A first finding dated on or after the end
        date (a check sent by hand) falls back to the last day residence was confirmed: the
        family was not shown in the region to the end (docs/decisions/011)."""
        ends, starts = self.s.contract_ends_on, self.s.contract_starts_on
        assert ends is not None and starts is not None
        found = self.s.discrepancy_checked_on or self.s.last_checked_on or rechecked_on
        if found < ends:
            return found
        return self.s.last_confirmed_on or starts

    def RecordMove(self, c: cmd.RecordMove) -> list[ev.Event]:
        require(self.s, "monitoring", rule="move_only_under_contract")
        if c.new_region == self.s.region:
            raise InvalidCommandError("move_within_region", "the new region is the contract's")
        return self._left(c.new_region, self._not_future(c.moved_on), "staff")

    def RecordRepayment(self, c: cmd.RecordRepayment) -> list[ev.Event]:
        require(self.s, "repayment", rule="repayment_stage")
        if c.reference in self.s.repayment_refs:
            return []
        if c.amount_tiyn > self.s.outstanding_tiyn:
            raise InvalidCommandError(
                "repayment_exceeds_outstanding", f"outstanding is {self.s.outstanding_tiyn} tiyn"
            )
        out: list[ev.Event] = [
            self._e(ev.RepaymentReceived, amount_tiyn=c.amount_tiyn, reference=c.reference)
        ]
        if c.amount_tiyn == self.s.outstanding_tiyn:
            out.append(self._close("breach_repaid", "support repaid in full"))
        return out

    def RecordInvoice(self, c: cmd.RecordInvoice) -> list[ev.Event]:
        require(self.s, "repayment", rule="repayment_stage")
        if self.s.repayment_invoice is not None:
            if self.s.repayment_invoice == c.invoice:
                return []
            raise InvalidCommandError(
                "invoice_issued", f"invoice {self.s.repayment_invoice} was already issued"
            )
        assert self.s.repayment_due_on is not None
        return [
            self._e(
                ev.RepaymentInvoiced,
                invoice=c.invoice,
                amount_tiyn=self.s.outstanding_tiyn,
                due_on=self.s.repayment_due_on,
            )
        ]

    def ReferRepayment(self, c: cmd.ReferRepayment) -> list[ev.Event]:
        require(self.s, "repayment", rule="repayment_stage")
        assert self.s.repayment_due_on is not None
        if self.today <= self.s.repayment_due_on:  # the due date itself is still in time
            raise InvalidCommandError(
                "repayment_not_overdue", f"due on {self.s.repayment_due_on.isoformat()}"
            )
        owed = self.s.outstanding_tiyn
        return [
            self._e(ev.RepaymentReferred, outstanding_tiyn=owed),
            self._close("breach_referred", f"{owed} tiyn unpaid after the due date"),
        ]

    def FulfilContract(self, c: cmd.FulfilContract) -> list[ev.Event]:
        require(self.s, "monitoring", rule="fulfil_stage")
        ends = self.s.contract_ends_on
        assert ends is not None
        if self.today < ends:
            raise InvalidCommandError("contract_running", f"the contract ends on {ends}")
        self._no_open_discrepancy()
        if not self.s.residence_confirmed_to_end:
            raise InvalidCommandError(
                "final_residence_check_due",
                f"residence is not yet confirmed on the contract's last day"
                f" ({self.s.last_residence_day})",
            )
        return [
            self._e(ev.ContractFulfilled, ended_on=ends),
            self._close("fulfilled", "five-year social contract fulfilled"),
        ]

    def _no_open_discrepancy(self) -> None:
        """Refuses to settle the contract while the registry's finding awaits its re-check."""
        if self.s.discrepancy_confirm_on is not None:
            raise InvalidCommandError(
                "residence_unconfirmed",
                f"the registry found the family outside the region on "
                f"{self.s.discrepancy_checked_on}; its re-check on "
                f"{self.s.discrepancy_confirm_on} decides the contract",
            )

    def _left(self, new_region: Region | None, on: date, source: ev.LeftSource) -> list[ev.Event]:
        ends = self.s.contract_ends_on
        assert ends is not None
        if on >= ends:
            # a move dated on or after the last day settles the contract, unless the registry
            # already found the family elsewhere: then the re-check decides
            self._no_open_discrepancy()
            return [
                self._e(ev.ContractFulfilled, ended_on=ends),
                self._close("fulfilled", "left on or after the contract's last day"),
            ]
        left: ev.Event = self._e(ev.RegionLeft, new_region=new_region, left_on=on, source=source)
        owed = clawback(self.s, self.p, on)
        if owed == 0:
            return [left, self._close("breach_repaid", "left before any support was paid")]
        return [left, self._demand(owed)]

    def _demand(self, owed: int) -> ev.Event:
        due_on = self.today + timedelta(days=self.p.contract.repayment_due_days)
        demand: ev.Event = self._e(
            ev.RepaymentDemanded, amount_tiyn=owed, due_on=due_on, rule=self.p.contract.clawback
        )
        return demand

    def _revoked_for_cause(self, reason: str) -> list[ev.Event]:
        """A permit revoked for the holder's fault under the contract: a breach, the support
        owed back as on leaving the region that day (docs/decisions/012)."""
        revoked: ev.Event = self._e(ev.PermitRevoked, reason=reason, fault=True)
        owed = clawback(self.s, self.p, self.today)
        if owed == 0:
            return [revoked, self._close("revoked", "permit revoked; no support to repay")]
        return [revoked, self._demand(owed)]


def clawback(state: CaseState, policy: Policy, left_on: date) -> int:
    """What must be repaid on leaving on `left_on`: all support (or pro rata), never negative.
    Support the policy does not claw back (the employer's subsidy, the housing certificate:
    docs/decisions/018) is left out."""
    ends, starts = state.contract_ends_on, state.contract_starts_on
    assert ends is not None and starts is not None
    if left_on >= ends:
        return 0
    kept = set(policy.contract.not_clawed_back)
    not_owed = sum(p.amount_tiyn for p in state.payments if p.measure in kept)
    paid = state.paid_tiyn - not_owed - state.repaid_tiyn
    if policy.contract.clawback == "full":
        return max(paid, 0)
    term = (ends - starts).days
    remaining = min((ends - left_on).days, term)  # leaving before the start owes at most all
    return max(paid * remaining // term, 0)
