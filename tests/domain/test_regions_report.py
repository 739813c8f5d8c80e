"""The regions' picture (domain/regions_report.py) on a recorded cohort with known answers:
places held per region and year, retention by months since arrival, support against
clawback, stays per stage, refusals by gate."""

from __future__ import annotations

from datetime import timedelta

from domain import events as ev
from domain.case import fold
from domain.regions_report import report
from tests.domain.test_simulation import departed, relocated, scored


def test_places_money_and_refusals_count_the_recorded_facts() -> None:
    stayed = [relocated(f"st-{i}", seed=i, months=24) for i in range(3)]
    gone = [departed(f"dp-{i}", seed=10 + i) for i in range(2)]
    refused = scored("lt-1", [{"reading": 10, "listening": 10, "writing": 10}] * 3)
    found = report([*stayed, *gone, refused])

    assert found.cases == 6
    regions = {fold(s).region for s in stayed + gone}
    held = {(q.region, q.year): q.held for q in found.quota}
    assert sum(held.values()) == 5  # a family that came and left used its year's place
    assert {r for r, _ in held} <= regions
    assert sum(q.released for q in found.quota) == 0

    paid = sum(e.amount_tiyn for s in stayed + gone for e in s if isinstance(e, ev.SupportPaid))
    demanded = sum(e.amount_tiyn for s in gone for e in s if isinstance(e, ev.RepaymentDemanded))
    assert demanded > 0
    assert sum(m.paid_tiyn for m in found.money) == paid
    assert sum(m.demanded_tiyn for m in found.money) == demanded  # the clawback: all support
    assert sum(m.contracts for m in found.money) == 5

    [language] = [r for r in found.refusals if r.gate == "language_test"]
    assert language.cases == 1
    assert found.closed.get("rejected") == 1


def test_retention_counts_each_family_only_as_far_as_the_record_has_seen_it() -> None:
    # one region, one arrival day (2026-08-19): seen to 2028-08-16, to 2027-02-19 (six
    # months to the day) and gone on 2027-03-07
    long = relocated("long", seed=1, months=24)
    short = relocated("short", seed=1, months=6)
    gone = departed("gone", seed=1)
    [line] = report([long, short, gone]).retention
    assert (line.region, line.arrived_in, line.families) == ("Pavlodar", 2026, 3)
    months = {m: (seen, stayed) for m, seen, stayed in line.months}
    assert months[6] == (3, 3)
    assert months[12] == months[18] == (2, 1)  # short not seen that far; gone seen gone
    assert months[24] == (1, 0)  # long seen to three days short of two years


def test_stays_per_stage_are_measured_in_case_days() -> None:
    case = relocated("stays", seed=4, months=12)
    found = {s.stage: s for s in report([case]).stages}
    state = fold(case)
    assert found["monitoring"].waiting_now == 1 and found["monitoring"].ended == 0
    assert state.contract_starts_on is not None
    last = case[-1].at.date()
    assert found["monitoring"].waiting_median_days is not None
    assert (
        found["monitoring"].waiting_median_days
        <= (last - state.contract_starts_on + timedelta(days=90)).days
    )
    assert found["scoring"].ended == 1 and found["scoring"].median_days is not None
