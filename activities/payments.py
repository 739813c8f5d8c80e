"""The treasury: support paid, and repayment invoiced, each exactly once per idempotency key,
however often Temporal retries."""

from __future__ import annotations

from temporalio import activity

from activities import models as m
from activities.errors import classified
from activities.logging import activity_log
from adapters.ports import Payments


class PaymentActivities:
    def __init__(self, *, payments: Payments) -> None:
        self.payments = payments

    @activity.defn
    async def disburse_support(self, req: m.DisburseInput) -> m.DisburseResult:
        log = activity_log(case_id=req.case_id, idempotency_key=req.idempotency_key)
        async with classified():
            receipt = await self.payments.disburse(
                idempotency_key=req.idempotency_key,
                case_id=req.case_id,
                amount_tiyn=req.amount_tiyn,
                purpose=req.purpose,
                payee=req.payee,
            )
        log.info(
            "support_disbursed",
            amount_tiyn=req.amount_tiyn,
            purpose=req.purpose,
            payee=req.payee,
            duplicate=receipt.duplicate,
        )
        return m.DisburseResult(reference=receipt.reference, duplicate=receipt.duplicate)

    @activity.defn
    async def issue_repayment_invoice(self, req: m.InvoiceInput) -> m.InvoiceResult:
        log = activity_log(case_id=req.case_id, idempotency_key=req.idempotency_key)
        async with classified():
            number = await self.payments.invoice(
                idempotency_key=req.idempotency_key,
                case_id=req.case_id,
                amount_tiyn=req.amount_tiyn,
                due_on=req.due_on,
            )
        log.info("repayment_invoiced", amount_tiyn=req.amount_tiyn)
        return m.InvoiceResult(invoice=number)
