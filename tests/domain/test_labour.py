"""The labour path's rules: quota lines, the shortage test, obligations, liability, the fold."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from domain import labour as lab
from domain.calendar import add_months
from domain.policy import POLICY_2026_1

RULES = POLICY_2026_1.labour
AT = datetime(2026, 3, 1, tzinfo=UTC)


def request(**changes: object) -> lab.EmployerRequest:
    base: dict[str, object] = {
        "employer_id": "BIN-100200300",
        "employer_name": "Atyrau Drilling LLP",
        "industry": "oil_and_gas",
        "region": "Atyrau",
        "occupation": "drilling engineer",
        "vacancy_reference": "ENB-1",
        "monthly_wage_tiyn": 900_000_00,
        "worker": {
            "full_name": "Ali Veli",
            "born_on": "1990-04-02",
            "citizenship": "TUR",
            "passport": "U12345678",
        },
    }
    return lab.EmployerRequest.model_validate({**base, **changes})


def vacancy(**changes: object) -> lab.VacancyRecord:
    base: dict[str, object] = {
        "reference": "ENB-1",
        "employer_id": "BIN-100200300",
        "industry": "oil_and_gas",
        "region": "Atyrau",
        "posted_on": date(2026, 1, 10),
        "local_candidates": 2,
        "regional_average_wage_tiyn": 600_000_00,
    }
    return lab.VacancyRecord.model_validate({**base, **changes})


def test_a_request_draws_on_its_industry_line_or_its_projects_own() -> None:
    line = lab.quota_line(RULES, year=2026, industry="oil_and_gas", region="Atyrau", project=None)
    assert line is not None and line.places == 80 and line.project is None
    project = lab.quota_line(
        RULES, year=2026, industry="oil_and_gas", region="Atyrau", project="tengiz-fgp"
    )
    assert project is not None and project.places == 30
    # No line: an industry the policy sets no quota for, a project without its own line.
    assert lab.quota_line(RULES, year=2026, industry="it", region="Almaty", project=None) is None
    assert (
        lab.quota_line(RULES, year=2026, industry="oil_and_gas", region="Atyrau", project="x")
        is None
    )
    # A later year's lines are the policy's projection of 2026's, stated as one.
    assert lab.quota_line(RULES, year=2028, industry="mining", region="Karaganda", project=None)


@pytest.mark.parametrize("year", [2025, 2032])
def test_a_year_without_lines_is_an_error_not_the_nearest_years_lines(year: int) -> None:
    with pytest.raises(lab.LabourYearError, match=f"lines for 2026–2031 only, none for {year}"):
        lab.quota_line(RULES, year=year, industry="mining", region="Karaganda", project=None)


def test_a_shortage_is_proven_by_days_on_the_market_without_a_local_hire() -> None:
    on = date(2026, 3, 1)
    assert lab.shortage_refusal(request(), vacancy(), RULES, on) is None
    short = lab.shortage_refusal(request(), vacancy(posted_on=date(2026, 2, 20)), RULES, on)
    assert short is not None and short.rule == "shortage_not_proven"
    assert "9 days" in short.reason and "15" in short.reason
    hired = lab.shortage_refusal(request(), vacancy(local_hired=True), RULES, on)
    assert hired is not None and hired.rule == "local_hire"
    unknown = lab.shortage_refusal(request(), None, RULES, on)
    assert unknown is not None and unknown.rule == "vacancy_unknown"
    other = lab.shortage_refusal(request(), vacancy(employer_id="BIN-9"), RULES, on)
    assert other is not None and other.rule == "vacancy_not_employers"
    elsewhere = lab.shortage_refusal(request(), vacancy(region="Mangystau"), RULES, on)
    assert elsewhere is not None and elsewhere.rule == "vacancy_mismatch"
    cheap = lab.shortage_refusal(request(monthly_wage_tiyn=500_000_00), vacancy(), RULES, on)
    assert cheap is not None and cheap.rule == "wage_below_floor"


def test_bad_requests_name_the_field_and_rule() -> None:
    with pytest.raises(ValidationError) as err:
        request(industry="fishing")
    assert err.value.errors()[0]["loc"] == ("industry",)
    with pytest.raises(ValidationError) as err:
        request(monthly_wage_tiyn=0)
    assert err.value.errors()[0]["loc"] == ("monthly_wage_tiyn",)
    young = request(worker={**request().worker.model_dump(), "born_on": date(2015, 1, 1)})
    assert lab.request_problems(young, date(2026, 3, 1)) == [
        ("worker.born_on", "a foreign worker must be at least 18")
    ]
    assert lab.request_problems(request(), date(2026, 3, 1)) == []


def test_obligations_broken_are_found_on_review() -> None:
    start = date(2026, 3, 1)
    floor = lab.wage_floor(600_000_00, RULES)

    def review(**facts: object) -> tuple[lab.Violation, ...]:
        report = lab.EmploymentReport.model_validate(
            {"on": date(2026, 6, 1), "paid_monthly_wage_tiyn": 900_000_00, **facts}
        )
        return lab.violations_in(report, permit_from=start, wage_floor_tiyn=floor, rules=RULES)

    assert review(address_registered_on=date(2026, 3, 5)) == ()
    assert review(address_registered_on=date(2026, 3, 5), paid_monthly_wage_tiyn=1) == (
        "wage_below_floor",
    )
    assert review() == ("address_not_registered",)
    ended = {"address_registered_on": date(2026, 3, 5), "ended_on": date(2026, 5, 1)}
    assert review(**ended, end_notified_on=date(2026, 5, 3)) == ()
    assert review(**ended) == ("end_not_notified",)
    # Before the notice is due nothing is late yet.
    report = lab.EmploymentReport(
        on=date(2026, 5, 5),
        paid_monthly_wage_tiyn=0,
        address_registered_on=date(2026, 3, 5),
        ended_on=date(2026, 5, 1),
    )
    assert lab.violations_in(report, permit_from=start, wage_floor_tiyn=floor, rules=RULES) == ()


def test_a_violation_makes_the_employer_and_the_worker_liable() -> None:
    owed = lab.liability(
        ["wage_below_floor", "address_not_registered"],
        on=date(2026, 6, 1),
        rules=RULES,
        mrp_tenge=4325,
    )
    assert owed.employer_fine_tiyn == (200 + 50) * 4325 * 100
    assert owed.quota_rights_suspended_until == date(2027, 6, 1)
    assert owed.worker_exit_by == date(2026, 6, 11)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_the_state_is_the_fold_of_the_stream() -> None:
    r = request()
    events: list[lab.LabourEvent] = [
        lab.LabourRequestSubmitted(
            policy_id="2026.1", at=AT, request_id="r1", request=r, employer_key="0a1b2c3d4e5f6a7b"
        ),
        lab.ShortageConfirmed(
            policy_id="2026.1",
            at=AT,
            vacancy_reference="ENB-1",
            days_on_market=50,
            regional_average_wage_tiyn=600_000_00,
        ),
        lab.LabourPlaceReserved(
            policy_id="2026.1",
            at=AT,
            employer_id=r.employer_id,
            industry=r.industry,
            region=r.region,
            project=None,
            year=2026,
            capacity=80,
        ),
        lab.WorkPermitIssued(
            policy_id="2026.1",
            at=AT,
            number="WP-1",
            valid_from=date(2026, 3, 1),
            valid_until=date(2027, 3, 1),
        ),
        lab.ViolationFound(
            policy_id="2026.1",
            at=AT,
            violations=("wage_below_floor",),
            detail="paid half",
            found_by="review",
        ),
        lab.LabourRequestClosed(policy_id="2026.1", at=AT, reason="violation", detail="x"),
    ]
    state = lab.fold_labour(events)
    assert state.stage == "closed" and state.closed_reason == "violation"
    assert state.holds_place and state.quota_year == 2026
    assert state.permit_number == "WP-1" and state.violations == ("wage_below_floor",)
    # Every event round-trips through the stream's adapter (what the store reads back).
    for e in events:
        assert lab.LABOUR_EVENT_ADAPTER.validate_json(e.model_dump_json()) == e
    assert {e.type for e in events} <= lab.LABOUR_EVENT_TYPES


def test_authorities_answer_the_worker_in_the_applicants_words() -> None:
    from typing import get_args

    from domain.scoring import GateOutcome

    assert get_args(lab.GateOutcome) == get_args(GateOutcome)


KEY = bytes(range(32))  # a deployment's employer key (KOSH_EMPLOYER_HMAC_KEY_FILE)
# The attack (issue #20): the demo's BINs differ in their last three digits, so an observer
# of `KoshEmployer` tried the 1,000 candidates against the unkeyed digest and named them all.
CANDIDATES = [f"BIN-845123{n:03d}" for n in range(1000)]
EMPLOYERS = CANDIDATES[1:16]  # the 15 demo employers


def unkeyed(employer_id: str) -> str:
    """What KoshEmployer held before the key: a SHA-256 prefix anyone can recompute."""
    return hashlib.sha256(f"kosh-employer:{employer_id}".encode()).hexdigest()[:16]


def test_the_employer_is_keyed_for_operators() -> None:
    key = lab.employer_key("BIN-100200300", KEY)
    assert len(key) == 16 and "100200300" not in key
    assert key == lab.employer_key("BIN-100200300", KEY) != lab.employer_key("BIN-100200301", KEY)
    assert key != lab.employer_key("BIN-100200300", bytes(32))  # another deployment's key
    with pytest.raises(ValueError, match="32 bytes"):
        lab.employer_key("BIN-100200300", b"short")


def test_1000_candidate_bins_match_no_keyed_employer_without_the_key() -> None:
    shown = {lab.employer_key(bin_, KEY) for bin_ in EMPLOYERS}
    assert len(shown) == 15
    # the attack as it was: every demo employer recovered from the unkeyed digest
    assert {c for c in CANDIDATES if unkeyed(c) in {unkeyed(e) for e in EMPLOYERS}} == set(
        EMPLOYERS
    )
    # the same candidates against the keyed ids: no match, unkeyed or under a guessed key
    for guess in (b"", bytes(32), b"kosh-employer".ljust(32, b"\0")):
        tried = {hashlib.sha256(guess + c.encode()).hexdigest()[:16] for c in CANDIDATES}
        assert not tried & shown
        if len(guess) >= lab.EMPLOYER_KEY_MIN_BYTES:
            assert not {lab.employer_key(c, guess) for c in CANDIDATES} & shown
    assert not {unkeyed(c) for c in CANDIDATES} & shown
    # with the key, the same list names them (what the ministry itself can do)
    assert [c for c in CANDIDATES if lab.employer_key(c, KEY) in shown] == EMPLOYERS


def test_the_keyed_id_is_recorded_with_the_request_and_kept_in_the_state() -> None:
    submitted = lab.LabourRequestSubmitted(
        policy_id="2026.1",
        at=AT,
        request_id="r1",
        request=request(),
        employer_key="0a1b2c3d4e5f6a7b",
    )
    assert submitted.schema_version == 2
    assert lab.fold_labour([submitted]).employer_key == "0a1b2c3d4e5f6a7b"
    # a v1 event (recorded before the key) reads with no id: never recomputed unkeyed
    v1 = submitted.model_dump(mode="json", exclude={"employer_key"}) | {"schema_version": 1}
    old = lab.LABOUR_EVENT_ADAPTER.validate_python(v1)
    assert isinstance(old, lab.LabourRequestSubmitted) and old.employer_key == ""
    assert lab.fold_labour([old]).employer_key == ""
