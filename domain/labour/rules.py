"""The labour path's verdicts, as pure functions: a shortage proven or not, the wage floor,
the obligations broken on a review, and what a violation costs employer and worker."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from domain.calendar import add_months
from domain.labour.model import (
    EmployerRequest,
    EmploymentReport,
    LabourRules,
    VacancyRecord,
    Violation,
)
from domain.model import Model


class Refusal(Model):
    rule: str
    reason: str


def shortage_refusal(
    request: EmployerRequest, vacancy: VacancyRecord | None, rules: LabourRules, on: date
) -> Refusal | None:
    """None when the vacancy proves a shortage the request may fill; else the reason."""
    if vacancy is None:
        return Refusal(
            rule="vacancy_unknown",
            reason=f"vacancy {request.vacancy_reference} is not on the domestic labour market",
        )
    if vacancy.employer_id != request.employer_id:
        return Refusal(rule="vacancy_not_employers", reason="the vacancy is another employer's")
    if (vacancy.industry, vacancy.region) != (request.industry, request.region):
        return Refusal(
            rule="vacancy_mismatch",
            reason=f"the vacancy is for {vacancy.industry} in {vacancy.region}, "
            f"not {request.industry} in {request.region}",
        )
    if vacancy.local_hired:
        return Refusal(rule="local_hire", reason="a local candidate was hired for the vacancy")
    end = vacancy.closed_on or on
    days = (end - vacancy.posted_on).days
    if days < rules.shortage_days:
        return Refusal(
            rule="shortage_not_proven",
            reason=f"the vacancy stood {days} days on the domestic market; "
            f"the policy asks for {rules.shortage_days} without a local hire",
        )
    floor = wage_floor(vacancy.regional_average_wage_tiyn, rules)
    if request.monthly_wage_tiyn < floor:
        return Refusal(
            rule="wage_below_floor",
            reason=f"the wage offered ({request.monthly_wage_tiyn} tiyn a month) is below "
            f"{rules.wage_floor_percent}% of the regional average ({floor} tiyn)",
        )
    return None


def wage_floor(regional_average_tiyn: int, rules: LabourRules) -> int:
    return regional_average_tiyn * rules.wage_floor_percent // 100


def violations_in(
    report: EmploymentReport,
    *,
    permit_from: date,
    wage_floor_tiyn: int,
    rules: LabourRules,
) -> tuple[Violation, ...]:
    """The employer's obligations broken as of the report's date."""
    found: list[Violation] = []
    if report.ended_on is None and report.paid_monthly_wage_tiyn < wage_floor_tiyn:
        found.append("wage_below_floor")
    registration_due = permit_from + timedelta(days=rules.address_registration_days)
    if report.address_registered_on is None and report.on > registration_due:
        found.append("address_not_registered")
    if report.ended_on is not None:
        notice_due = report.ended_on + timedelta(days=rules.end_notice_days)
        late = report.end_notified_on is None or report.end_notified_on > notice_due
        if late and report.on > notice_due:
            found.append("end_not_notified")
    return tuple(found)


class Liability(Model):
    employer_fine_tiyn: int
    quota_rights_suspended_until: date
    worker_exit_by: date


def liability(
    found: Iterable[Violation], *, on: date, rules: LabourRules, mrp_tenge: int
) -> Liability:
    """What the violations cost: the employer's fine and suspension, the worker's exit."""
    fine_mrp = sum(rules.employer_fine_mrp[v] for v in set(found))
    return Liability(
        employer_fine_tiyn=fine_mrp * mrp_tenge * 100,
        quota_rights_suspended_until=add_months(on, rules.quota_suspension_months),
        worker_exit_by=on + timedelta(days=rules.exit_days),
    )
