"""The demo cohort's lives: what registries and agencies will report of each scenario's
applicant (cli/demo.py draws the applicants and answers as staff)."""

from __future__ import annotations

from adapters.simulator import World

# Contract day 1775 is in month 59 whatever the start date (58 months are 1764-1767 days).
LATE_MOVE_DAYS = 1775
# A permanent resident leaves in the permit's sixth year (found at the sixth re-screening):
# past the five years a term would have ended it, short of the card's renewal at ten. The
# general track has no end of its own (docs/decisions/019): the demo's permanent residents
# (and the family refused kandas status, and the applicant banned from KAZTEST for a month,
# both on the general track) leave, so that the cohort closes.
PERMANENT_DEPARTS_AFTER_DAYS = 2000
PERMANENT = ("general_permanent", "kandas_status_refused", "kaztest_banned")


def plan_world(world: World, scenarios: dict[str, str]) -> World:
    """What will happen in these people's lives, as registries will later report it."""
    for case_id, name in scenarios.items():
        if name.startswith("kandas_breach"):
            world.plan_move(case_id, after_days=420, to_region="Almaty")
        if name == "kandas_breach_repaid":
            world.plan_repayment(case_id, parts=2)  # two transfers against the invoice
        if name == "kandas_late_move":
            world.plan_move(case_id, after_days=LATE_MOVE_DAYS, to_region="Almaty")
            world.plan_repayment(case_id)
        if name.startswith("kandas") and name != "kandas_fulfilled":
            # the address registry reports these families' registration; staff record the rest
            world.plan_registration(case_id)
        if name == "kandas_hearing":  # a preliminary refusal, the hearing, then granted
            world.plan_kandas(case_id, "hearing_granted")
        if name == "kandas_status_refused":  # refused after the hearing: the general track
            world.plan_kandas(case_id, "hearing_refused")
        if name == "kaztest_banned":  # the first sitting ends for broken rules: 30 days' ban
            world.plan_rules_broken(case_id, attempt=1)
        if name == "consent_refused":
            world.plan_verdict(
                case_id, "citizenship_consent", "deny", "the country of citizenship refused"
            )
        if name in PERMANENT:
            world.plan_departure(case_id, after_days=PERMANENT_DEPARTS_AFTER_DAYS)
        if name == "general_departed":
            world.plan_departure(case_id, after_days=300)
            # the criminal-record office never answers: overdue -> referral -> an officer
            world.plan_silence(case_id, "criminal_record")
    return world
