"""What a running case owes and expects, and when: support due, checks due, deadlines.

The workflow asks this module what is due and when to wake next; it never computes a date.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.case import CaseState
from domain.checks import checks_complete
from domain.model import Model
from domain.pilot import kandas_decision_pending, procedure_limit_on
from domain.policy import policy_by_id
from domain.schedule import SupportDue as SupportDue
from domain.schedule import employer_subsidy_key as employer_subsidy_key
from domain.schedule import support_dates as support_dates
from domain.schedule import support_due as support_due
from domain.schedule import support_schedule as support_schedule


def next_residence_check(state: CaseState) -> date | None:
    """When the address registry should next be asked: a pending discrepancy's re-check
    first (even after the contract's end: it is resolved before the case closes), else the
    next periodic check, and last the final check as of the contract's last day of
    residence (the eve of its end date). None once residence is confirmed to that day."""
    if state.stage != "monitoring" or state.contract_starts_on is None:
        return None
    last_day = state.last_residence_day
    assert last_day is not None
    if state.discrepancy_confirm_on is not None:
        return state.discrepancy_confirm_on
    if state.residence_confirmed_to_end:
        return None
    interval = timedelta(days=policy_by_id(state.policy_id).contract.monitoring_interval_days)
    nxt = state.contract_starts_on + interval * (state.residence_checks + 1)
    return min(nxt, last_day)


def fulfilment_due(state: CaseState, today: date) -> bool:
    """The contract may be fulfilled: its end date has come, and residence is confirmed to
    its last day (the final check made, no discrepancy open)."""
    ends = state.contract_ends_on
    return (
        state.stage == "monitoring"
        and ends is not None
        and today >= ends
        and state.residence_confirmed_to_end
    )


def next_contract_rescreening(state: CaseState) -> date | None:
    """Under a social contract: the next periodic security re-screening, before the
    contract's end. None for a citizen (no permit left to revoke)."""
    start, ends = state.contract_starts_on, state.contract_ends_on
    if state.stage != "monitoring" or start is None or ends is None:
        return None
    if state.citizenship_granted_on is not None:
        return None
    every = policy_by_id(state.policy_id).contract.rescreening_interval_days
    nxt = start + timedelta(days=every) * (state.rescreenings + 1)
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
    `final`: the check up to the residence card's last day, after which the card is renewed
    (permanent residence has no term: docs/decisions/019)."""

    since: date
    until: date
    final: bool = False


def border_check_due(state: CaseState, today: date) -> BorderCheck | None:
    """General track: the departure check due by `today`, or None. Each re-screening asks
    about every crossing since the permit was issued up to the re-screening's own date, and
    before the residence card is renewed a check covers up to its last day. A case that wakes
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


class ExitCheck(Model):
    """Border control asked, as a case closes, about every crossing from `since` (the
    permit's issue, or the application when no permit was issued) to `until` (the closing
    day): the same span the general track's checks start from."""

    since: date
    until: date


def exit_check_due(state: CaseState) -> ExitCheck | None:
    """The exit check a closed case still owes, or None (not closed, or already made)."""
    if not state.is_closed or state.exit_checked or state.closed_on is None:
        return None
    since = state.permit_issued_on or (state.submitted_at.date() if state.submitted_at else None)
    if since is None:
        return None
    return ExitCheck(since=min(since, state.closed_on), until=state.closed_on)


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
            for s in support_dates(state, policy_by_id(state.policy_id))
            if s.idempotency_key not in state.paid_keys
        ]
        # the end date once residence is confirmed to the last day (before that, the final
        # check or a discrepancy's re-check comes first: next_residence_check)
        confirmed = state.residence_confirmed_to_end
        candidates += [
            min(unpaid, default=None),
            next_residence_check(state),
            next_contract_rescreening(state),
            state.contract_ends_on if confirmed else None,
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
    """Earliest date of a retake after a failed attempt on `today` (after a sitting that
    ended for breaking the rules, not before its ban ends)."""
    retake = today + timedelta(days=policy_by_id(state.policy_id).language.retake_wait_days)
    banned = state.language_banned_until
    return max(retake, banned) if banned is not None else retake


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
    next reminder), the family's arrival, an officer's referral decision, the next look at
    the local executive body's kandas decision (None: not looked yet, so at once)."""

    interview_due: date | None = None
    next_reminder: date | None = None
    arrival_due: date | None = None
    referral_due: date | None = None
    kandas_look: date | None = None


# Who a case waits for, in one word: the search attribute KoshWaitingFor and the staff
# console's worklists.
WAITING_FOR = (
    "authorities",
    "interview",
    "referral_decision",
    "kandas_decision",
    "arrival",
    "allocation_round",
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
    if (limit := procedure_limit_on(s)) is not None:
        out["procedure_limit"] = limit
    if s.stage == "scoring":
        if s.language_banned_until is not None and next_language_attempt(s) is not None:
            out["kaztest_ban_ends"] = s.language_banned_until
        for request in s.authority_requests:
            if s.authority_gate(request.name) is None:
                out[f"{request.name}_reply"] = request.due_on
        if checks_complete(s) and s.interview is None and timers.interview_due is not None:
            out["interview"] = timers.interview_due
    if kandas_decision_pending(s) and s.kandas_request is not None:
        out[f"kandas_{s.kandas_request.awaiting}"] = s.kandas_request.due_on
    if s.stage == "relocation" and s.region and s.arrived_on is None and timers.arrival_due:
        out["arrival"] = timers.arrival_due
    if s.stage == "referral" and timers.referral_due is not None:
        out["referral_decision"] = timers.referral_due
    if s.stage == "monitoring":
        if s.discrepancy_confirm_on is not None:
            out["residence_confirmation"] = s.discrepancy_confirm_on
        if (check := next_residence_check(s)) is not None:
            out["residence_check"] = check
        if (screen := next_contract_rescreening(s)) is not None:
            out["rescreening"] = screen
        if s.contract_ends_on is not None:
            out["contract_end"] = s.contract_ends_on
    if s.stage == "residence":
        if (due := next_rescreening(s)) is not None:
            out["rescreening"] = due
        if s.permit_valid_until is not None:
            out["permit_renewal"] = s.permit_valid_until
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
    if kandas_decision_pending(s):
        return "kandas_decision"
    if s.stage == "relocation" and s.region is not None and s.arrived_on is None:
        return "arrival"
    if s.stage == "relocation" and s.region is None and s.candidacy is not None:
        return "allocation_round"
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
