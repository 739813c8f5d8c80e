"""Calendar arithmetic the rules need (months and years that respect month ends)."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def is_working_day(day: date, holidays: frozenset[tuple[int, int]] = frozenset()) -> bool:
    """Monday to Friday, and not one of `holidays` (month, day): kosh's reading of a working
    day (the policy's `public_holidays`; days off moved by a government decree are not
    modelled)."""
    return day.weekday() < 5 and (day.month, day.day) not in holidays


def add_working_days(
    day: date, days: int, holidays: frozenset[tuple[int, int]] = frozenset()
) -> date:
    """The `days`-th working day after `day` (`day` itself never counts: a request made on a
    Friday and answered "within 3 working days" is due on the Wednesday)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current, left = day, days
    while left:
        current = date.fromordinal(current.toordinal() + 1)
        if is_working_day(current, holidays):
            left -= 1
    return current
