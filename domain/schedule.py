"""What a social contract pays, and when: the family's support, the employers' subsidies and
the housing certificate, each with its idempotency key (domain/agenda.py asks it)."""

from __future__ import annotations

from datetime import date

from domain.calendar import add_months
from domain.case import CaseState
from domain.events import SupportMeasure
from domain.model import TIYN_PER_TENGE, Model
from domain.policy import Policy, policy_by_id
from domain.scoring import _band


class SupportDue(Model):
    measure: SupportMeasure
    period: str
    amount_tiyn: int
    due_on: date
    idempotency_key: str
    payee: str = "family"  # who is paid: the family, or an employer (its id)


def employer_subsidy_key(case_id: str, member: int) -> str:
    """One subsidy per resettler, however many employments the member has."""
    return f"{case_id}:support:employer_subsidy:member-{member}"


HOUSING_CERTIFICATE_PERIOD = "once"


def support_schedule(
    state: CaseState, policy: Policy, through: date | None = None
) -> tuple[SupportDue, ...]:
    """Every payment the social contract promises, with the idempotency key of each: the
    family's support, the employers' subsidies and the housing certificate (decision 018).
    With `through`, only the payments due by that day, so a figure is asked of the policy
    when it is needed and not years ahead (a year's MRP may be published later)."""
    return tuple(
        SupportDue(
            measure=d.measure,
            period=d.period,
            amount_tiyn=d.price(policy),
            due_on=d.due_on,
            idempotency_key=d.idempotency_key,
            payee=d.payee,
        )
        for d in support_dates(state, policy)
        if through is None or d.due_on <= through
    )


class DueDate(Model):
    """A promised payment before it is priced: what `next_wakeup` needs (its date) and what
    a payment is checked against (its key), without a figure for a year not yet reached."""

    measure: SupportMeasure
    period: str
    due_on: date
    idempotency_key: str
    payee: str = "family"
    mrp_year: int | None = None  # the year whose MRP prices it
    mrp_count: int = 0  # how many MRP
    fixed_tiyn: int = 0  # an amount fixed when it was promised (the housing certificate)

    def price(self, policy: Policy) -> int:
        if self.mrp_year is None:
            return self.fixed_tiyn
        return self.mrp_count * policy.mrp(self.mrp_year) * TIYN_PER_TENGE


def support_dates(state: CaseState, policy: Policy) -> tuple[DueDate, ...]:
    """The contract's payments with their dates and keys, none priced yet."""
    start = state.contract_starts_on
    app = state.application
    if start is None or app is None:
        return ()
    rules = policy.support
    family = app.family_size
    items = [
        DueDate(
            measure="relocation_subsidy",
            period="once",
            due_on=start,
            idempotency_key=f"{state.case_id}:support:relocation_subsidy:once",
            mrp_year=start.year,
            mrp_count=rules.relocation_subsidy_mrp_per_member * family,
        )
    ]
    rent_mrp = _band(rules.rent_mrp_per_month_by_family_size, family)
    for month in range(rules.rent_months):
        covered = add_months(start, month)
        period = f"{covered.year:04d}-{covered.month:02d}"
        items.append(
            DueDate(
                measure="rent",
                period=period,
                due_on=add_months(start, month + 1),
                idempotency_key=f"{state.case_id}:support:rent:{period}",
                mrp_year=covered.year,
                mrp_count=rent_mrp,
            )
        )
    return (*items, *_employer_subsidies(state, policy), *_housing_certificate(state))


def _employer_subsidies(state: CaseState, policy: Policy) -> list[DueDate]:
    """Each employment with housing that lasts its minimum years earns its employer the
    subsidy on that day (an employment that ended before then earns nothing)."""
    return [
        DueDate(
            measure="employer_subsidy",
            period=f"member-{job.member}",
            due_on=job.subsidy_due_on,
            idempotency_key=employer_subsidy_key(state.case_id, job.member),
            payee=job.employer_id,
            mrp_year=job.subsidy_due_on.year,
            mrp_count=policy.support.employer_subsidy_mrp_per_resettler,
        )
        for job in state.employments
        if job.ended_on is None or job.ended_on >= job.subsidy_due_on
    ]


def _housing_certificate(state: CaseState) -> list[DueDate]:
    """The certificate's amount, fixed when it was issued, is paid on that day."""
    cert = state.housing_certificate
    if cert is None:
        return []
    return [
        DueDate(
            measure="housing_certificate",
            period=HOUSING_CERTIFICATE_PERIOD,
            fixed_tiyn=cert.amount_tiyn,
            due_on=cert.issued_on,
            idempotency_key=f"{state.case_id}:support:housing_certificate:once",
        )
    ]


def support_due(state: CaseState, today: date) -> tuple[SupportDue, ...]:
    """Payments due by `today` and not yet paid. None after a breach or closure."""
    if state.stage != "monitoring" or state.left_on is not None:
        return ()
    policy = policy_by_id(state.policy_id)
    return tuple(
        s
        for s in support_schedule(state, policy, through=today)
        if s.idempotency_key not in state.paid_keys
    )
