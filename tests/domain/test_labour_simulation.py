"""A draft's impact on the recorded labour requests (domain/labour_simulation.py): each request
re-decided by the labour rules' own functions from what its record holds, the draft's quota
lines filled first come, first served, and nothing guessed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain.labour import LabourState, fold_labour
from domain.labour import commands as c
from domain.labour import events as le
from domain.labour.decider import decide_labour
from domain.labour.model import LABOUR_QUOTA_2026
from domain.labour_simulation import simulate_labour
from domain.policy import POLICY_2026_1
from tests.domain.test_labour import request, vacancy
from tests.domain.test_simulation import draft

START = date(2026, 3, 1)


def recorded(request_id: str, day: date = START, **vacancy_changes: Any) -> list[le.LabourEvent]:
    """A request submitted on `day`, its vacancy recorded that day, and a place asked for
    when the shortage is confirmed (as the workflow asks, in the year of its case time)."""
    now = datetime.combine(day, time(9), tzinfo=UTC)
    state, out = LabourState(), list[le.LabourEvent]()
    steps: list[c.LabourCommand] = [
        c.SubmitRequest(request_id=request_id, request=request(), employer_key="0a1b2c3d4e5f6a7b"),
        c.RecordVacancy(vacancy=vacancy(**vacancy_changes), on=day),
        c.ReservePlace(year=day.year),
    ]
    for command in steps:
        if state.stage == "closed":
            break
        events = decide_labour(state, command, now=now)
        state = fold_labour(events, state)
        out += events
    return out


def lines_with(places: int) -> list[dict[str, Any]]:
    """The 2026 lines with oil and gas in Atyrau (outside projects) set to `places`."""
    return [
        line.model_dump() | {"places": places}
        if (line.industry, line.region, line.project) == ("oil_and_gas", "Atyrau", None)
        else line.model_dump()
        for line in LABOUR_QUOTA_2026
    ]


def test_the_recorded_version_decides_as_the_record_did() -> None:
    impact = simulate_labour([recorded("lr-1"), recorded("lr-2")], POLICY_2026_1)
    assert [(r.recorded, r.drafted) for r in impact.requests] == [("place held", "place held")] * 2
    assert impact.refused == [] and impact.undetermined == []
    [line] = impact.lines
    assert (line.industry, line.region, line.year, line.held, line.needed, line.places) == (
        "oil_and_gas",
        "Atyrau",
        2026,
        2,
        2,
        80,
    )


def test_a_longer_shortage_refuses_a_vacancy_that_stood_too_short() -> None:
    # posted 2026-01-10, recorded 2026-03-01: 50 days on the market
    longer = draft(labour__shortage_days=60)
    impact = simulate_labour([recorded("lr-1")], longer)
    [r] = impact.refused
    assert (r.request_id, r.recorded, r.drafted, r.drafted_rule) == (
        "lr-1",
        "place held",
        "refused",
        "shortage_not_proven",
    )
    assert impact.lines[0].held == 1 and impact.lines[0].needed == 0


def test_a_shortage_refused_in_the_record_is_undetermined_not_guessed() -> None:
    too_short = recorded("lr-1", posted_on=START - timedelta(days=5))  # 5 days < 15
    assert any(isinstance(e, le.LabourRequestRefused) for e in too_short)
    impact = simulate_labour([too_short], draft(labour__shortage_days=3))
    [r] = impact.undetermined
    assert (r.recorded, r.recorded_rule, r.drafted) == ("refused", "shortage_not_proven", None)
    assert r.unknown is not None and "confirmed shortage" in r.unknown


def test_a_refusal_no_figure_decides_stands_under_any_draft() -> None:
    hired = recorded("lr-1", local_hired=True)
    impact = simulate_labour([hired], draft(labour__shortage_days=1))
    [r] = impact.requests
    assert (r.recorded, r.drafted, r.drafted_rule) == ("refused", "refused", "local_hire")
    assert impact.refused == []  # refused in the record too: not the draft's doing


def test_places_beyond_a_smaller_line_go_to_the_latest_requests() -> None:
    streams = [recorded(f"lr-{i}", START + timedelta(days=i)) for i in range(3)]
    impact = simulate_labour(streams, draft(labour__quotas__2026=lines_with(2)))
    [line] = impact.lines
    assert (line.held, line.needed, line.places, line.short, line.over) == (3, 3, 2, 1, ("lr-2",))
    assert [(r.request_id, r.drafted_rule) for r in impact.refused] == [("lr-2", "quota_exhausted")]


def test_a_line_the_draft_removes_refuses_every_request_on_it() -> None:
    impact = simulate_labour([recorded("lr-1")], draft(labour__quotas__2026=lines_with(0)))
    assert [r.drafted_rule for r in impact.refused] == ["no_quota"]
    assert impact.lines[0].places == 0 and impact.lines[0].short == 1


def test_filters_by_region_and_submission_date() -> None:
    streams = [recorded("lr-1", START), recorded("lr-2", START + timedelta(days=40))]
    since = START + timedelta(days=10)
    later = simulate_labour(streams, POLICY_2026_1, since=since)
    assert [r.request_id for r in later.requests] == ["lr-2"]
    assert simulate_labour(streams, POLICY_2026_1, region="Almaty").requests == []
