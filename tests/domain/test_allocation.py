"""Ranked allocation rounds (domain/allocation.py, docs/decisions/014): known answers for the
ranking, the cut-off, ties by submission time, the round's places, and a case's candidacy
carried from round to round up to the policy's deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import commands as cmd
from domain.allocation import (
    Candidate,
    allot,
    cut_off,
    hold_round,
    period_of,
    places_for,
    rank,
    round_id,
    round_number,
)
from domain.errors import InvalidCommandError, WrongStageError
from domain.policy import POLICY_2026_1
from tests.domain.helpers import KANDAS_TO_PERMIT, T0, Step, given, history, types, when

AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


def cand(case_id: str, score: int, minutes: int = 0, *regions: str) -> Candidate:
    return Candidate(
        case_id=case_id,
        score=score,
        submitted_at=AT + timedelta(minutes=minutes),
        regions=regions or ("West Kazakhstan",),  # type: ignore[arg-type]
    )


def test_ranking_is_by_score_then_by_earlier_submission() -> None:
    people = [cand("a", 610, 5), cand("b", 720, 9), cand("c", 610, 1), cand("d", 540, 0)]
    assert [c.case_id for c in rank(people)] == ["b", "c", "a", "d"]


def test_an_exact_tie_is_broken_by_case_id_so_every_worker_ranks_alike() -> None:
    people = [cand("z", 600, 3), cand("m", 600, 3)]
    assert [c.case_id for c in rank(people)] == ["m", "z"]
    assert [c.case_id for c in rank(reversed(people))] == ["m", "z"]


@pytest.mark.parametrize(
    ("places", "offered", "cut"),
    [
        (0, [], None),
        (1, ["b"], 720),
        (2, ["b", "c"], 610),  # c and a tie on 610: c submitted first
        (3, ["b", "c", "a"], 610),
        (9, ["b", "c", "a", "d"], 540),
    ],
)
def test_the_best_ranked_are_offered_the_places_and_the_cut_off_is_the_last_offered(
    places: int, offered: list[str], cut: int | None
) -> None:
    people = [cand("a", 610, 5), cand("b", 720, 9), cand("c", 610, 1), cand("d", 540, 0)]
    ranked = allot(people, places)
    assert [r.rank for r in ranked] == [1, 2, 3, 4]
    assert [r.case_id for r in ranked if r.offer == "offered"] == offered
    assert cut_off(ranked) == cut


@pytest.mark.parametrize(
    ("capacity", "in_use", "size", "places"),
    [
        (30, 0, None, 30),
        (30, 28, None, 2),
        (30, 30, None, 0),
        (30, 31, None, 0),
        (30, 0, 1, 1),
        (30, 29, 5, 1),
        (30, 0, -1, 0),
    ],
)
def test_a_round_offers_what_the_year_has_left_at_most_its_size(
    capacity: int, in_use: int, size: int | None, places: int
) -> None:
    assert places_for(capacity, in_use, size) == places


def test_periods_and_numbers_are_the_months_since_january_2026() -> None:
    assert period_of(date(2026, 12, 4)) == "2026-12"
    assert round_number(date(2026, 1, 31)) == 1
    assert round_number(date(2026, 12, 4)) == 12
    assert round_number(date(2027, 2, 1)) == 14
    assert round_id("West Kazakhstan", date(2026, 12, 4)) == "west-kazakhstan-2026-12"
    assert round_id("Abai", date(2027, 1, 1), scope="t1-") == "t1-abai-2027-01"


@pytest.mark.parametrize(
    ("day", "months", "period", "number"),
    [
        (date(2026, 1, 1), 3, "2026-01", 1),
        (date(2026, 3, 31), 3, "2026-01", 1),
        (date(2026, 4, 1), 3, "2026-04", 2),
        (date(2027, 11, 5), 3, "2027-10", 8),
        (date(2027, 11, 5), 6, "2027-07", 4),
        (date(2027, 11, 5), 12, "2027-01", 2),
    ],
)
def test_a_longer_policy_period_groups_the_months(
    day: date, months: int, period: str, number: int
) -> None:
    assert (period_of(day, months), round_number(day, months)) == (period, number)


def test_a_round_ranks_only_those_who_listed_its_region_and_none_is_held_for_nobody() -> None:
    people = [cand("a", 700, 0, "Pavlodar"), cand("b", 650, 0, "Abai", "Pavlodar")]
    held = hold_round(
        rid="abai-2026-03",
        region="Abai",
        today=AT.date(),
        now=AT,
        policy_id="2026.1",
        capacity=264,
        in_use=10,
        size=None,
        candidates=people,
    )
    assert held is not None
    assert [(r.case_id, r.offer) for r in held.ranked] == [("b", "offered")]
    assert (held.number, held.period, held.year, held.places, held.cut_off) == (
        3,
        "2026-03",
        2026,
        1,
        650,
    )
    nobody = hold_round(
        rid="akmola-2026-03",
        region="Akmola",
        today=AT.date(),
        now=AT,
        policy_id="2026.1",
        capacity=285,
        in_use=0,
        size=None,
        candidates=people,
    )
    assert nobody is None


# ---- a case's candidacy --------------------------------------------------------------------
STATUS: list[Step] = [*KANDAS_TO_PERMIT, (T0, cmd.GrantKandasStatus(certificate_number="KC-1"))]
LODGED: list[Step] = [*STATUS, (T0, cmd.LodgeCandidacy())]


def word(number: int, *, offered: bool, region: str = "Pavlodar") -> cmd.TakeAllocation:
    slug = region.lower().replace(" ", "-")
    return cmd.TakeAllocation(
        round_id=f"{slug}-2026-{number:02d}",
        number=number,
        region=region,  # type: ignore[arg-type]
        year=2026,
        rank=2,
        offered=offered,
        cut_off=700,
    )


def test_a_candidacy_carries_the_frozen_score_and_the_submission_time() -> None:
    [lodged] = when(STATUS, cmd.LodgeCandidacy())
    state = given(STATUS)
    assert state.breakdown is not None
    assert (lodged.score, lodged.submitted_at) == (
        state.breakdown.total,
        state.breakdown.submitted_at,
    )
    assert lodged.regions == ("Pavlodar", "Kostanay")
    assert when(LODGED, cmd.LodgeCandidacy()) == []  # lodged once


def test_a_candidacy_needs_kandas_status() -> None:
    with pytest.raises(WrongStageError) as refused:
        when(KANDAS_TO_PERMIT, cmd.LodgeCandidacy())
    assert refused.value.rule == "kandas_status_first"


def test_an_offered_place_is_reserved_with_the_round_that_offered_it() -> None:
    events = when(LODGED, word(3, offered=True))
    assert types(events) == ["AllocationGranted", "QuotaPlaceReserved"]
    assert (events[1].region, events[1].year, events[1].capacity) == ("Pavlodar", 2026, 977)
    assert when([*LODGED, (T0, word(3, offered=True))], word(3, offered=True)) == []


def test_not_reached_the_family_stays_a_candidate_for_the_next_round_which_may_grant() -> None:
    missed = when(LODGED, word(3, offered=False))
    assert types(missed) == ["AllocationNotReached"]
    after = [*LODGED, (T0, word(3, offered=False))]
    assert given(after).stage == "relocation" and given(after).rounds_not_reached == (
        "pavlodar-2026-03",
    )
    assert when(after, word(3, offered=False)) == []  # the same round's word twice: once
    assert types(when(after, word(4, offered=True))) == ["AllocationGranted", "QuotaPlaceReserved"]


def missed_everywhere(rounds: int) -> list[Step]:
    """Not reached in `rounds` rounds of each of the family's regions (Pavlodar, Kostanay)."""
    return [
        (T0, word(n, offered=False, region=region))
        for n in range(3, 3 + rounds)
        for region in ("Pavlodar", "Kostanay")
    ]


def test_at_the_deadline_an_unreached_candidate_takes_the_general_track_with_the_reason() -> None:
    limit = POLICY_2026_1.allocation.rounds_not_reached
    steps = [*LODGED, *missed_everywhere(limit)[:-1]]
    assert given(steps).track == "kandas"
    last = when(steps, word(3 + limit - 1, offered=False, region="Kostanay"))
    assert types(last) == ["AllocationNotReached", "MovedToGeneralTrack"]
    assert last[1].reason == "rounds_exhausted"
    assert f"not reached in {limit} allocation rounds of each of its regions" in last[1].detail
    state = given([*LODGED, *missed_everywhere(limit)])
    assert (state.track, state.stage, state.region) == ("general", "residence", None)


def test_rounds_missed_in_one_region_leave_the_other_regions_rounds_open() -> None:
    """A family that listed two regions waits for each region's rounds: missing the first
    region's rounds alone, however many, does not end its candidacy."""
    limit = POLICY_2026_1.allocation.rounds_not_reached
    steps = [*LODGED, *[(T0, word(n, offered=False)) for n in range(3, 3 + limit + 2)]]
    state = given(steps)
    assert (state.track, state.stage) == ("kandas", "relocation")
    assert len(state.rounds_not_reached) == limit + 2
    granted = when(steps, word(9, offered=True, region="Kostanay"))
    assert types(granted) == ["AllocationGranted", "QuotaPlaceReserved"]


def test_a_word_for_a_region_the_family_did_not_list_or_after_a_place_is_held_is_refused() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        when(LODGED, word(3, offered=True, region="Abai"))
    assert refused.value.rule == "region_not_preferred"
    held = [*LODGED, (T0, word(3, offered=True))]
    with pytest.raises(InvalidCommandError) as again:
        when(held, word(4, offered=True))
    assert again.value.rule == "quota_place_held"
    with pytest.raises(WrongStageError) as early:
        when(STATUS, word(3, offered=True))
    assert early.value.rule == "candidacy_first"


def test_the_family_may_choose_the_general_track_while_it_waits_and_only_then() -> None:
    [chosen] = when(LODGED, cmd.ChooseGeneralTrack(reason="we settle in Almaty"))
    assert (chosen.type, chosen.reason, chosen.detail) == (
        "MovedToGeneralTrack",
        "applicant_chose",
        "we settle in Almaty",
    )
    for steps in ([*LODGED, (T0, word(3, offered=True))], STATUS, KANDAS_TO_PERMIT):
        with pytest.raises(WrongStageError) as refused:
            when(steps, cmd.ChooseGeneralTrack())
        assert refused.value.rule == "general_track_choice_stage"


def test_the_general_track_after_the_rounds_takes_no_more_round_words() -> None:
    limit = POLICY_2026_1.allocation.rounds_not_reached
    steps = [*LODGED, *missed_everywhere(limit)]
    assert types(history(steps))[-1] == "MovedToGeneralTrack"
    with pytest.raises(WrongStageError) as refused:
        when(steps, word(9, offered=True))
    assert refused.value.rule == "relocation_stage"


def test_a_waiting_candidate_waits_for_an_allocation_round() -> None:
    from domain.agenda import waiting_for, waiting_word

    state = given(LODGED)
    assert waiting_for(state) == waiting_word(state) == "allocation_round"
    assert waiting_for(given([*LODGED, (T0, word(3, offered=True))])) == "arrival"
