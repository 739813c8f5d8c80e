"""The social contract's years: support paid as due, residence checked, a move or a
repayment recorded, the clawback on early departure, the contract fulfilled."""

from __future__ import annotations

from datetime import date, timedelta

from domain import commands as cmd
from domain import events as ev
from domain.agenda import support_schedule
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
        due = {s.idempotency_key: s for s in support_schedule(self.s, self.p)}
        item = due.get(c.idempotency_key)
        if item is None or (item.measure, item.period, item.amount_tiyn) != (
            c.measure,
            c.period,
            c.amount_tiyn,
        ):
            raise InvalidCommandError(
                "payment_not_in_contract",
                f"{c.idempotency_key} is not a payment this contract owes",
            )
        if item.due_on > self.today:
            raise InvalidCommandError("payment_not_due", f"due on {item.due_on.isoformat()}")
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
            left_on = self.s.last_checked_on or c.checked_on
            return self._left(c.reported_region, left_on, "registry")
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
        return [
            self._e(ev.ContractFulfilled, ended_on=ends),
            self._close("fulfilled", "five-year social contract fulfilled"),
        ]

    def _left(self, new_region: Region | None, on: date, source: ev.LeftSource) -> list[ev.Event]:
        ends = self.s.contract_ends_on
        assert ends is not None
        if on >= ends:
            return [
                self._e(ev.ContractFulfilled, ended_on=ends),
                self._close("fulfilled", "left on or after the contract's last day"),
            ]
        left: ev.Event = self._e(ev.RegionLeft, new_region=new_region, left_on=on, source=source)
        owed = clawback(self.s, self.p, on)
        if owed == 0:
            return [left, self._close("breach_repaid", "left before any support was paid")]
        due_on = self.today + timedelta(days=self.p.contract.repayment_due_days)
        return [
            left,
            self._e(
                ev.RepaymentDemanded, amount_tiyn=owed, due_on=due_on, rule=self.p.contract.clawback
            ),
        ]


def clawback(state: CaseState, policy: Policy, left_on: date) -> int:
    """What must be repaid on leaving on `left_on`: all support (or pro rata), never negative."""
    ends, starts = state.contract_ends_on, state.contract_starts_on
    assert ends is not None and starts is not None
    if left_on >= ends:
        return 0
    paid = state.paid_tiyn - state.repaid_tiyn
    if policy.contract.clawback == "full":
        return max(paid, 0)
    term = (ends - starts).days
    remaining = min((ends - left_on).days, term)  # leaving before the start owes at most all
    return max(paid * remaining // term, 0)
