"""What a running case owes and expects, and when: support due, checks due, deadlines.

The workflow asks this module what is due and when to wake next; it never computes a date.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.calendar import add_months
from domain.case import CaseState
from domain.checks import checks_complete
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


def support_schedule(state: CaseState, policy: Policy) -> tuple[SupportDue, ...]:
    """Every payment the social contract promises, with the idempotency key of each."""
    start = state.contract_starts_on
    app = state.application
    if start is None or app is None:
        return ()
    rules = policy.support
    family = app.family_size
    subsidy = rules.relocation_subsidy_mrp_per_member * family * policy.mrp(start.year)
    items = [
        SupportDue(
            measure="relocation_subsidy",
            period="once",
            amount_tiyn=subsidy * TIYN_PER_TENGE,
            due_on=start,
            idempotency_key=f"{state.case_id}:support:relocation_subsidy:once",
        )
    ]
    rent_mrp = _band(rules.rent_mrp_per_month_by_family_size, family)
    for month in range(rules.rent_months):
        covered = add_months(start, month)
        period = f"{covered.year:04d}-{covered.month:02d}"
        items.append(
            SupportDue(
                measure="rent",
                period=period,
                amount_tiyn=rent_mrp * policy.mrp(covered.year) * TIYN_PER_TENGE,
                due_on=add_months(start, month + 1),
                idempotency_key=f"{state.case_id}:support:rent:{period}",
            )
        )
    return tuple(items)


def support_due(state: CaseState, today: date) -> tuple[SupportDue, ...]:
    """Payments due by `today` and not yet paid. None after a breach or closure."""
    if state.stage != "monitoring" or state.left_on is not None:
        return ()
    policy = policy_by_id(state.policy_id)
    return tuple(
        s
        for s in support_schedule(state, policy)
        if s.due_on <= today and s.idempotency_key not in state.paid_keys
    )


def next_residence_check(state: CaseState) -> date | None:
    """When the address registry should next be asked (a pending confirmation first)."""
    if state.stage != "monitoring" or state.contract_starts_on is None:
        return None
    ends = state.contract_ends_on
    assert ends is not None
    if state.discrepancy_confirm_on is not None:
        # A confirmation after the contract's last day is never made: the contract ended
        # first, whether the case was awake on that day or caught up later.
        confirm = state.discrepancy_confirm_on
        return confirm if confirm <= ends else None
    interval = timedelta(days=policy_by_id(state.policy_id).contract.monitoring_interval_days)
    nxt = state.contract_starts_on + interval * (state.residence_checks + 1)
    return nxt if nxt < ends else None


def monitoring_as_of(state: CaseState, today: date) -> date:
    """The case date a monitored case acts as of: today, or the residence check that fell
    due before today (a late wake: a worker away for days, a loaded machine). Support due by
    that date is paid, then the check is made as of it, then the next: payments, checks and
    the contract's end are caught up in the order an undisturbed case met them, so support
    is never paid for months after a move a due check would have found."""
    check = next_residence_check(state)
    return check if check is not None and check < today else today


def next_rescreening(state: CaseState) -> date | None:
    """General track: the next periodic re-screening, before the permit's end."""
    if state.stage != "residence" or state.permit_issued_on is None:
        return None
    interval = timedelta(days=policy_by_id(state.policy_id).general.rescreening_interval_days)
    nxt = state.permit_issued_on + interval * (state.rescreenings + 1)
    assert state.permit_valid_until is not None
    return nxt if nxt < state.permit_valid_until else None


class BorderCheck(Model):
    """Border control asked about every crossing from `since` to `until` (case dates).
    `final`: the check up to the permit's last day, after which its term ends."""

    since: date
    until: date
    final: bool = False


def border_check_due(state: CaseState, today: date) -> BorderCheck | None:
    """General track: the departure check due by `today`, or None. Each re-screening asks
    about every crossing since the permit was issued up to the re-screening's own date, and
    before the term ends a last check covers up to the permit's final day. A case that wakes
    late (a worker away for days, a loaded machine) catches up check by check, each as of
    the day it was due: no departure falls between two checks or after the last one."""
    if state.stage != "residence" or state.permit_issued_on is None:
        return None
    since = state.permit_issued_on
    due = next_rescreening(state)
    if due is not None and due <= today:
        return BorderCheck(since=since, until=due)
    ends = state.permit_valid_until
    if ends is not None and ends <= today:
        return BorderCheck(since=since, until=ends, final=True)
    return None


def repayment_referral_on(state: CaseState) -> date | None:
    """The first day an unpaid repayment may be referred: the day after it is due."""
    if state.stage != "repayment" or state.repayment_due_on is None:
        return None
    return state.repayment_due_on + timedelta(days=1)


def next_wakeup(state: CaseState) -> date | None:
    """The earliest date on which something is due; None when only a person can act."""
    candidates: list[date | None] = []
    if state.stage == "monitoring":
        unpaid = [
            s.due_on
            for s in support_schedule(state, policy_by_id(state.policy_id))
            if s.idempotency_key not in state.paid_keys
        ]
        candidates += [
            min(unpaid, default=None),
            next_residence_check(state),
            state.contract_ends_on,
        ]
    elif state.stage == "repayment":
        candidates.append(repayment_referral_on(state))
    elif state.stage == "residence":
        candidates += [next_rescreening(state), state.permit_valid_until]
    dates = [d for d in candidates if d is not None]
    return min(dates) if dates else None


def next_language_attempt(state: CaseState) -> int | None:
    """The KAZTEST attempt to sit next, or None once passed or out of attempts."""
    rules = policy_by_id(state.policy_id).language
    if any(r.passed for r in state.language) or len(state.language) >= rules.max_attempts:
        return None
    return len(state.language) + 1


def language_retake_on(state: CaseState, today: date) -> date:
    """Earliest date of a retake after a failed attempt on `today`."""
    return today + timedelta(days=policy_by_id(state.policy_id).language.retake_wait_days)


def interview_deadline(state: CaseState, today: date) -> date:
    """The interview must be held by this date when it is requested on `today`."""
    return today + timedelta(days=policy_by_id(state.policy_id).deadlines.interview_days)


def interview_reminder_after(state: CaseState, day: date) -> date:
    """When staff are reminded next, counting from `day`."""
    every = policy_by_id(state.policy_id).deadlines.interview_reminder_every_days
    return day + timedelta(days=every)


def arrival_deadline(state: CaseState, today: date) -> date:
    """The family must arrive in the region by this date after the place is reserved."""
    return today + timedelta(days=policy_by_id(state.policy_id).deadlines.arrival_days)


def referral_due(state: CaseState, today: date) -> date:
    """An officer's decision on a referral is due by this date (and again each window)."""
    return today + timedelta(days=policy_by_id(state.policy_id).deadlines.referral_decision_days)


class Timers(Model):
    """The dates the case set when it asked someone for something: the interview (and the
    next reminder), the family's arrival, an officer's referral decision."""

    interview_due: date | None = None
    next_reminder: date | None = None
    arrival_due: date | None = None
    referral_due: date | None = None


# Who a case waits for, in one word: the search attribute KoshWaitingFor and the staff
# console's worklists.
WAITING_FOR = (
    "authorities",
    "interview",
    "referral_decision",
    "arrival",
    "repayment",
    "timer",
    "activities",
    "nothing",
)


def deadlines(state: CaseState, timers: Timers) -> dict[str, date]:
    """Who owes the case what, by when (case dates): the status query and KoshNextDeadline."""
    s, out = state, dict[str, date]()
    if s.is_closed:
        return out
    if s.stage == "scoring":
        for request in s.authority_requests:
            if s.authority_gate(request.name) is None:
                out[f"{request.name}_reply"] = request.due_on
        if checks_complete(s) and s.interview is None and timers.interview_due is not None:
            out["interview"] = timers.interview_due
    if s.stage == "relocation" and s.region and s.arrived_on is None and timers.arrival_due:
        out["arrival"] = timers.arrival_due
    if s.stage == "referral" and timers.referral_due is not None:
        out["referral_decision"] = timers.referral_due
    if s.stage == "monitoring":
        if s.discrepancy_confirm_on is not None:
            out["residence_confirmation"] = s.discrepancy_confirm_on
        if (check := next_residence_check(s)) is not None:
            out["residence_check"] = check
        if s.contract_ends_on is not None:
            out["contract_end"] = s.contract_ends_on
    if s.stage == "residence":
        if (due := next_rescreening(s)) is not None:
            out["rescreening"] = due
        if s.permit_valid_until is not None:
            out["permit_term_end"] = s.permit_valid_until
    if s.stage == "repayment" and s.repayment_due_on is not None:
        out["repayment"] = s.repayment_due_on
    return out


def waiting_for(state: CaseState) -> str:
    """What the case waits for, in words a person reads (the status query, the UI)."""
    s = state
    if s.is_closed:
        return "nothing (closed)"
    if s.stage == "scoring" and not checks_complete(s):
        awaited = [r.name for r in s.authority_requests if s.authority_gate(r.name) is None]
        if awaited:
            return f"authority replies: {', '.join(awaited)}"
    if s.stage == "scoring" and checks_complete(s) and s.interview is None:
        return "interview"
    if s.stage == "referral":
        return "referral_decision"
    if s.stage == "relocation" and s.region is not None and s.arrived_on is None:
        return "arrival"
    if s.stage == "repayment":
        return "repayment"
    wake = next_wakeup(s)
    return f"timer until {wake.isoformat()}" if wake else "activities"


def waiting_word(state: CaseState) -> str:
    """`waiting_for` as one of WAITING_FOR (a search attribute: no free text)."""
    text = waiting_for(state)
    for word, starts in (
        ("authorities", "authority replies"),
        ("timer", "timer until"),
        ("nothing", "nothing"),
    ):
        if text.startswith(starts):
            return word
    return text if text in WAITING_FOR else "activities"
