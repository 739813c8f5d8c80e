"""A draft's impact (domain/simulation.py): recorded cases re-decided under a draft by the
deciding functions themselves, from what their record holds, and never guessed."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.event_store_lives import case_life
from domain import commands as cmd
from domain import events as ev
from domain.case import CaseState, fold
from domain.decider import decide
from domain.policy import POLICY_2026_1, versions
from domain.policy_draft import read_draft
from domain.simulation import simulate
from tests.store.factories import application

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
REASON = {"kind": "illustrative", "reason": "a draft"}


def draft(**changes: Any) -> Any:
    data = {
        "id": "2027.1",
        "effective_from": "2027-03-01",
        "note": "a draft",
        "changes": {
            path.replace("__", "."): {"value": v, "provenance": REASON}
            for path, v in changes.items()
        },
    }
    return read_draft(data, versions())


def relocated(case_id: str, seed: int, *, months: int = 6) -> list[ev.Event]:
    """A kandas family approved, placed, arrived and paid `months` months of support."""
    return [
        e
        for batch in case_life(case_id, random.Random(seed), months=months, year=2026)
        for e in batch
    ]


def departed(case_id: str, seed: int) -> list[ev.Event]:
    events = relocated(case_id, seed)
    state = fold(events)
    assert state.contract_starts_on is not None
    day = state.contract_starts_on + timedelta(days=200)
    now = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return events + decide(state, cmd.RecordDeparture(departed_on=day), now=now)


def scored(
    case_id: str, sittings: list[dict[str, int]], *, interview: bool = True
) -> list[ev.Event]:
    """Submission to the score: the KAZTEST sittings given (then the interview, when the
    case is not refused before it)."""
    state, out = CaseState(), list[ev.Event]()
    steps: list[cmd.Command] = [
        cmd.SubmitApplication(case_id=case_id, application=application()),
        cmd.RecordDocumentCheck(authentic=True),
    ]
    steps += [
        cmd.RecordLanguageAttempt(attempt=i, section_percent=s) for i, s in enumerate(sittings, 1)
    ]
    steps.append(cmd.ScoreQuestionnaire())
    steps += [
        cmd.RecordAuthorityCheck(authority=a, outcome="clear", reason="no record", reference="")
        for a in ("security", "criminal_record", "deportation", "citizenship_consent")
    ]
    if interview:
        steps.append(cmd.RecordInterview(interviewer_id="staff-7", passed=True, points=80))
    steps.append(cmd.ComputeScore())
    for day, c in enumerate(steps):
        now = T0 + timedelta(days=day * 40 if isinstance(c, cmd.RecordLanguageAttempt) else day)
        events = decide(state, c, now=now)
        state, out = fold(events, state), out + events
    return out


def test_a_higher_questionnaire_minimum_refuses_named_cases_at_that_gate() -> None:
    streams = [relocated(f"c-{i}", i) for i in range(6)]
    points = {fold(s).case_id: fold(s).breakdown for s in streams}
    cut = sorted(
        fold(s).questionnaire[0].points + sum(c.points for c in fold(s).questionnaire[1:])
        for s in streams
    )[3]
    impact = simulate(streams, draft(questionnaire__min_points=cut))

    refused = {c.case_id for c in impact.changed}
    expected = {
        cid
        for cid, b in points.items()
        if b is not None
        and sum(c.points for c in b.components if c.name not in ("language_test", "interview"))
        < cut
    }
    assert refused == expected and refused
    assert impact.flows() == {("approve", "reject", "questionnaire_minimum"): len(expected)}
    for c in impact.changed:
        assert c.drafted is not None and c.drafted.reasons[0].endswith(f"minimum {cut}")
        assert c.drafted_paid_tiyn == 0  # refused: nothing paid
    kept = [c for c in impact.cases if not c.changed]
    assert all(c.drafted_paid_tiyn == c.paid_tiyn for c in kept)


def test_support_moves_by_the_drafted_figure_and_a_departure_owes_the_draft_clawback() -> None:
    streams = [relocated("c-stays", 1), departed("c-left", 2)]
    impact = simulate(streams, draft(support__relocation_subsidy_mrp_per_member=100))
    apps = {fold(s).case_id: fold(s).application for s in streams}
    for c in impact.cases:
        app = apps[c.case_id]
        assert app is not None
        more = 30 * POLICY_2026_1.mrp(2026) * 100 * (len(app.family) + 1)  # 30 MRP a member
        assert c.drafted_paid_tiyn == c.paid_tiyn + more
    left = next(c for c in impact.cases if c.case_id == "c-left")
    assert left.demanded_tiyn > 0 and left.drafted_demand_tiyn is not None
    assert left.drafted_paid_tiyn is not None
    assert left.drafted_demand_tiyn - left.demanded_tiyn == left.drafted_paid_tiyn - left.paid_tiyn
    money = impact.money()
    assert money["clawback_drafted_tiyn"] > money["clawback_demanded_tiyn"]

    pro_rata = simulate(streams, draft(contract__clawback="pro_rata")).cases
    owed = next(c for c in pro_rata if c.case_id == "c-left")
    assert (
        owed.drafted_demand_tiyn is not None and 0 < owed.drafted_demand_tiyn < owed.demanded_tiyn
    )


def test_places_beyond_a_drafted_quota_name_the_lowest_ranked() -> None:
    streams = [relocated(f"c-{i}", i) for i in range(8)]
    cases = {fold(s).case_id: fold(s) for s in streams}
    region, year = next((s.region, s.quota_year) for s in cases.values())
    mine = sorted(
        (s for s in cases.values() if (s.region, s.quota_year) == (region, year)),
        key=lambda s: -(s.breakdown.total if s.breakdown else 0),
    )
    impact = simulate(streams, draft(**{f"kandas_quota__{year}__{region}": 1}))
    line = next(p for p in impact.places if (p.region, p.year) == (region, year))
    assert (line.held, line.needed, line.quota, line.short) == (
        len(mine),
        len(mine),
        1,
        len(mine) - 1,
    )
    assert list(line.over) == [s.case_id for s in mine[1:]]


def test_an_input_never_recorded_leaves_the_case_undetermined_and_says_which() -> None:
    once = scored("c-once", [{"listening": 60, "reading": 60}])
    failed = scored("c-failed", [{"listening": 25, "reading": 60}] * 3, interview=False)
    impact = simulate([once, failed], draft(language__min_section_percent=70))
    why = {c.case_id: c.unknown for c in impact.cases}
    assert why["c-once"] == (
        "KAZTEST: the draft allows 3 attempts; the record holds 1, the next never sat"
    )
    assert why["c-failed"] is None  # three sittings below 70 as below 30: still refused

    lower = {
        c.case_id: c for c in simulate([failed], draft(language__min_section_percent=20)).cases
    }
    assert lower["c-failed"].drafted is None
    assert lower["c-failed"].unknown == "no interview recorded: an earlier gate refused the case"


def test_a_case_never_scored_is_listed_not_re_decided_and_the_window_applies() -> None:
    forged = decide(
        CaseState(),
        cmd.SubmitApplication(case_id="c-forged", application=application()),
        now=T0,
    )
    forged += decide(fold(forged), cmd.RecordDocumentCheck(authentic=False), now=T0)
    late = scored("c-late", [{"listening": 60, "reading": 60}])
    impact = simulate([forged, late], draft(questionnaire__min_points=401))
    never = next(c for c in impact.cases if c.case_id == "c-forged")
    assert (never.recorded, never.drafted, never.unknown) == (None, None, None)

    window = simulate([forged, late], draft(), since=date(2026, 4, 1))
    assert window.cases == []
    assert [c.case_id for c in simulate([late], draft(), region="Atyrau").cases] == []
