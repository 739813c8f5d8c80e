"""Invariants that hold for any input, checked with hypothesis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as cmd
from domain import events as ev
from domain.agenda import SupportDue, support_schedule
from domain.application import Application, Questionnaire
from domain.calendar import add_years
from domain.case import CaseState, evolve, fold
from domain.decider import AUTHORITIES, clawback, decide
from domain.errors import CaseClosedError, DomainError
from domain.policy import POLICY_2026_1, Policy
from domain.policy_parts import ContractRules
from domain.regions import Region
from domain.scoring import (
    Component,
    Gate,
    GateOutcome,
    InterviewResult,
    LanguageResult,
    score_case,
    score_questionnaire,
)
from tests.domain.helpers import (
    FAIL,
    PASS,
    T0,
    general_application,
    kandas_application,
    weak_questionnaire,
)

FAST = settings(max_examples=50, deadline=None, database=None)
PRO_RATA = POLICY_2026_1.model_copy(update={"contract": ContractRules(clawback="pro_rata")})


# --- any command sequence -----------------------------------------------------------------------


def next_command(s: CaseState, today: date) -> cmd.Command:
    policy = POLICY_2026_1
    if s.stage == "documents":
        return cmd.RecordDocumentCheck(authentic=True)
    if s.stage == "scoring":
        if not any(r.passed for r in s.language) and len(s.language) < 3:
            return cmd.RecordLanguageAttempt(attempt=len(s.language) + 1, section_percent=PASS)
        if not s.questionnaire:
            return cmd.ScoreQuestionnaire()
        done = {g.name for g in s.authority}
        for a in AUTHORITIES:
            if a not in done:
                return cmd.RecordAuthorityCheck(authority=a, outcome="clear", reason="ok")
        return cmd.RecordInterview(interviewer_id="s-1", passed=True, points=60)
    if s.stage == "decision":
        return cmd.ComputeScore()
    if s.stage == "referral":
        return cmd.ResolveReferral(officer_id="o-1", approve=True, reason="ok")
    if s.stage == "permit":
        return cmd.IssuePermit(permit_number="RP-1")
    if s.stage == "relocation":
        if s.kandas_certificate is None:
            return cmd.GrantKandasStatus(certificate_number="KC-1")
        if s.region is None:
            return cmd.ReserveQuotaPlace(region="Pavlodar", year=today.year)
        if s.arrived_on is None:
            return cmd.RecordArrival(region=s.region)
        return cmd.SignSocialContract()
    if s.stage == "monitoring":
        unpaid = [x for x in support_schedule(s, policy) if x.idempotency_key not in s.paid_keys]
        if unpaid and unpaid[0].due_on <= today:
            return pay(unpaid[0])
        if s.contract_ends_on is not None and today >= s.contract_ends_on:
            return cmd.FulfilContract()
        return cmd.RecordResidenceCheck(reported_region=s.region, checked_on=today)
    if s.stage == "repayment":
        return cmd.RecordRepayment(amount_tiyn=max(s.outstanding_tiyn, 1), reference="full")
    if s.permit_valid_until is not None and today < s.permit_valid_until:
        return cmd.RecordRescreening(outcome="clear", reason="ok")
    return cmd.RenewPermit()


def pay(item: SupportDue) -> cmd.Command:
    return cmd.RecordSupportPayment(
        measure=item.measure,
        period=item.period,
        amount_tiyn=item.amount_tiyn,
        idempotency_key=item.idempotency_key,
        payment_reference=f"ref-{item.idempotency_key}",
    )


def pay_nth(n: int, s: CaseState, today: date) -> cmd.Command:
    """The schedule's n-th payment, whether due or not (a bogus one before the contract)."""
    schedule = support_schedule(s, POLICY_2026_1)
    if not schedule:
        return cmd.RecordSupportPayment(
            measure="rent",
            period="2026-01",
            amount_tiyn=1,
            idempotency_key="bogus",
            payment_reference="bogus",
        )
    return pay(schedule[n % len(schedule)])


def repay_share(n: int, s: CaseState, today: date) -> cmd.Command:
    """Repay 1..151 % of what is outstanding (over 100 % must be refused)."""
    amount = max(s.outstanding_tiyn * (1 + n) // 100, 1)
    return cmd.RecordRepayment(amount_tiyn=amount, reference="abc"[n % 3])


REGIONS: tuple[Region, ...] = ("Pavlodar", "Kostanay", "Almaty", "Astana")
SOME_REGION: tuple[Region | None, ...] = (None, *REGIONS)
OUTCOMES: tuple[GateOutcome, ...] = ("clear", "refer", "deny")
FIXED: list[cmd.Command] = [
    cmd.RecordDocumentCheck(authentic=True),
    cmd.RecordDocumentCheck(authentic=False, reasons=("forged",)),
    cmd.ScoreQuestionnaire(),
    cmd.ComputeScore(),
    cmd.MarkInterviewMissed(deadline=T0),
    cmd.IssuePermit(permit_number="RP-2"),
    cmd.GrantKandasStatus(certificate_number="KC-2"),
    cmd.GiveUpSupport(regions_tried=("Pavlodar",)),
    cmd.LapseRelocation(),
    cmd.SignSocialContract(),
    cmd.ReferRepayment(),
    cmd.FulfilContract(),
    cmd.RenewPermit(),
    cmd.Withdraw(),
    cmd.RecordDeparture(),
    cmd.RecordDeparture(source="border"),
]
Maker = Callable[[int, CaseState, date], cmd.Command]
# Commands are made from (maker index, n): plain integers keep hypothesis' generation cheap.
MAKERS: tuple[Maker, ...] = (
    lambda n, s, d: next_command(s, d),
    *((lambda n, s, d, c=c: c) for c in FIXED),
    lambda n, s, d: cmd.RecordLanguageAttempt(
        attempt=1 + n % 4, section_percent=(PASS, FAIL, {"listening": 0, "reading": 100})[n % 3]
    ),
    lambda n, s, d: cmd.RecordAuthorityCheck(
        authority=AUTHORITIES[n % 3], outcome=OUTCOMES[n // 3 % 3], reason="r"
    ),
    lambda n, s, d: cmd.RecordInterview(interviewer_id="s-2", passed=n % 2 == 0, points=n),
    lambda n, s, d: cmd.ResolveReferral(officer_id="o-2", approve=n % 2 == 0, reason="r"),
    lambda n, s, d: cmd.ReserveQuotaPlace(region=REGIONS[n % 4], year=2026 + n % 3),
    lambda n, s, d: cmd.RecordArrival(region=REGIONS[n % 4]),
    pay_nth,
    lambda n, s, d: cmd.RecordResidenceCheck(
        reported_region=SOME_REGION[n % 5], checked_on=d + timedelta(days=n - 75)
    ),
    lambda n, s, d: cmd.RecordMove(new_region=SOME_REGION[n % 5]),
    lambda n, s, d: cmd.RecordMove(
        new_region=SOME_REGION[n % 5], moved_on=d + timedelta(days=n - 140)
    ),
    lambda n, s, d: cmd.RecordDeparture(departed_on=d + timedelta(days=n - 140), source="border"),
    repay_share,
    lambda n, s, d: cmd.RecordRescreening(outcome=OUTCOMES[n % 3], reason="r"),
    lambda n, s, d: cmd.RecordEmployment(
        member=1 + n % 4,
        employer_id=f"BIN-{n % 2}",
        started_on=d - timedelta(days=n * 5),
        housing_provided=n % 7 != 0,
    ),
    lambda n, s, d: cmd.EndEmployment(member=1 + n % 4, ended_on=d - timedelta(days=n % 30)),
    lambda n, s, d: cmd.IssueHousingCertificate(
        reference=f"H-{n % 2}", region=REGIONS[n % 4], price_tiyn=1 + n * 10**8
    ),
)
# Each drawn command is followed by `k` happy-path steps `gap` days apart, so cases get deep
# (monitoring, repayment, fulfilment) and random commands hit every stage.
Step = tuple[int, int, int, int, int]  # advance, maker, n, k, gap
scripts = st.lists(
    st.tuples(
        st.one_of(st.just(0), st.integers(0, 45), st.integers(0, 400)),
        st.integers(0, len(MAKERS) - 1),
        st.integers(0, 150),
        st.integers(0, 20),
        st.integers(0, 40),
    ),
    min_size=1,
    max_size=15,
)


def expand(script: list[Step]) -> list[tuple[int, Maker, int]]:
    out: list[tuple[int, Maker, int]] = []
    for advance, maker, n, k, gap in script:
        out += [(advance, MAKERS[maker], n), *[(gap, MAKERS[0], 0)] * k]
    return out


applications = st.sampled_from(
    [
        kandas_application(),
        general_application(),
        kandas_application(questionnaire=weak_questionnaire()),
    ]
)


@FAST
@given(app=applications, script=scripts)
def test_any_command_sequence_is_refused_cleanly_or_folds(
    app: Application, script: list[Step]
) -> None:
    now = T0
    state = CaseState()
    events: list[ev.Event] = []
    submit = cmd.SubmitApplication(case_id="case-p", application=app)
    steps = [(0, lambda n, s, d: submit, 0), *expand(script)]
    for advance, make, n in steps:
        now += timedelta(days=advance)
        command = make(n, state, now.date())
        if state.is_closed:  # a closed case refuses everything: nothing more to explore
            with pytest.raises(CaseClosedError):
                decide(state, command, now=now)
            break
        try:
            new = decide(state, command, now=now)
        except DomainError as refused:
            assert refused.rule and refused.reason
            continue
        for event in new:
            assert event.at == now and event.policy_id == "2026.1"
            state = evolve(state, event)
        events += new
        assert 0 <= state.outstanding_tiyn <= state.demanded_tiyn <= state.paid_tiyn
        # never owed back: the employer's subsidy and the housing certificate (decision 018)
        kept = POLICY_2026_1.contract.not_clawed_back
        assert state.demanded_tiyn <= state.paid_tiyn - sum(
            p.amount_tiyn for p in state.payments if p.measure in kept
        )
        assert state.repaid_tiyn <= state.demanded_tiyn
    assert fold(events) == state
    paid = [e for e in events if isinstance(e, ev.SupportPaid)]
    assert state.paid_tiyn == sum(e.amount_tiyn for e in paid)
    assert len({e.idempotency_key for e in paid}) == len(paid)
    kinds = [e.type for e in events]
    if "RegionLeft" in kinds:
        assert "SupportPaid" not in kinds[kinds.index("RegionLeft") :]
    assert kinds.count("CaseClosed") == (1 if state.is_closed else 0)
    if state.is_closed:
        assert kinds[-1] == "CaseClosed"


# --- scoring --------------------------------------------------------------------------------------

questionnaires = st.builds(
    Questionnaire,
    education=st.sampled_from(["none", "secondary", "vocational", "bachelor", "master"]),
    kazakh=st.sampled_from(["none", "basic", "intermediate", "fluent"]),
    russian=st.sampled_from(["none", "basic", "intermediate", "fluent"]),
    english=st.sampled_from(["none", "ielts_5_5", "ielts_7"]),
    work_years=st.integers(0, 60),
    military_service=st.booleans(),
    health_fit=st.booleans(),
    criminal_record=st.booleans(),
    deported_before=st.booleans(),
)
births = st.dates(date(1950, 1, 1), date(2008, 1, 1))
outcomes = st.sampled_from(["clear", "refer", "deny"])
authority_gates = st.lists(
    st.builds(Gate, name=st.sampled_from(AUTHORITIES), outcome=outcomes, reason=st.just("r")),
    max_size=3,
).map(tuple)
languages = st.builds(
    LanguageResult,
    attempt=st.integers(1, 3),
    section_percent=st.just(PASS),
    passed=st.booleans(),
)
RANK = {"reject": 0, "refer": 1, "approve": 2}


def scored(
    components: tuple[Component, ...],
    language: LanguageResult,
    gates: tuple[Gate, ...],
    interview: InterviewResult,
) -> str:
    return score_case(
        policy=POLICY_2026_1,
        questionnaire=components,
        language=language,
        authority_gates=gates,
        interview=interview,
        submitted_at=T0,
    ).decision


@FAST
@given(
    q=questionnaires,
    born=births,
    language=languages,
    gates=authority_gates,
    passed=st.booleans(),
    points=st.integers(0, 100),
    bonus=st.integers(0, 500),
    which=st.integers(0, 2**10 - 1),
    interview_bonus=st.integers(0, 100),
)
def test_more_points_never_worsen_the_decision(
    q: Questionnaire,
    born: date,
    language: LanguageResult,
    gates: tuple[Gate, ...],
    passed: bool,
    points: int,
    bonus: int,
    which: int,
    interview_bonus: int,
) -> None:
    components = score_questionnaire(q, born_on=born, on=T0.date(), policy=POLICY_2026_1)
    richer = tuple(  # `which` picks the factors that gain `bonus` points
        c.model_copy(update={"points": c.points + bonus}) if which >> i & 1 else c
        for i, c in enumerate(components)
    )
    before = scored(components, language, gates, InterviewResult(passed=passed, points=points))
    after = scored(
        richer, language, gates, InterviewResult(passed=passed, points=points + interview_bonus)
    )
    assert RANK[after] >= RANK[before]


@FAST
@given(
    q=questionnaires,
    born=births,
    gates=authority_gates,
    denied=st.sampled_from(["authority", "language", "interview", "interview_missed"]),
    bonus=st.integers(0, 10_000),
)
def test_a_denied_gate_always_rejects(
    q: Questionnaire, born: date, gates: tuple[Gate, ...], denied: str, bonus: int
) -> None:
    components = tuple(
        c.model_copy(update={"points": c.points + bonus})
        for c in score_questionnaire(q, born_on=born, on=T0.date(), policy=POLICY_2026_1)
    )
    language = LanguageResult(attempt=1, section_percent=PASS, passed=denied != "language")
    interview = InterviewResult(
        passed=not denied.startswith("interview"),
        points=100,
        missed=denied == "interview_missed",
    )
    if denied == "authority":
        gates = (*gates, Gate(name="security", outcome="deny", reason="listed"))
    assert scored(components, language, gates, interview) == "reject"


# --- money ----------------------------------------------------------------------------------------


def contract_state(starts: date, paid: int, repaid: int) -> CaseState:
    return CaseState(
        policy_id="2026.1",
        stage="monitoring",
        contract_starts_on=starts,
        contract_ends_on=add_years(starts, 5),
        paid_tiyn=paid,
        repaid_tiyn=repaid,
    )


@FAST
@given(
    starts=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
    paid=st.integers(0, 10**10),
    repaid_share=st.integers(0, 100),
    days=st.integers(-400, 2500),  # negative: a departure dated before the start
    policy=st.sampled_from([POLICY_2026_1, PRO_RATA]),
)
def test_clawback_is_never_negative_nor_more_than_paid(
    starts: date, paid: int, repaid_share: int, days: int, policy: Policy
) -> None:
    state = contract_state(starts, paid, paid * repaid_share // 100)
    left_on = starts + timedelta(days=days)
    owed = clawback(state, policy, left_on)
    assert 0 <= owed <= state.paid_tiyn - state.repaid_tiyn
    if left_on >= state.contract_ends_on:  # type: ignore[operator]
        assert owed == 0
    elif policy.contract.clawback == "full":
        assert owed == state.paid_tiyn - state.repaid_tiyn


def test_pro_rata_clawback_before_the_start_is_at_most_what_was_paid() -> None:
    state = contract_state(date(2026, 4, 1), paid=1_000_000, repaid=0)
    assert clawback(state, PRO_RATA, date(2026, 3, 1)) == 1_000_000
    assert clawback(state, PRO_RATA, date(2026, 4, 1)) == 1_000_000


@FAST
@given(
    # every contract whose twelve months of rent fall in the years 2026.1 has figures for
    # (published or projected to 2031; later years are an error, tests/domain/test_agenda.py)
    starts=st.dates(date(2026, 1, 1), date(2031, 1, 31)),
    family=st.integers(1, 12),
    case_id=st.text("abcxyz019-", min_size=1, max_size=20),
)
def test_support_schedule_keys_are_unique_and_amounts_positive_tiyn(
    starts: date, family: int, case_id: str
) -> None:
    members = [{"relation": "child", "full_name": "C", "born_on": "2020-01-01"}] * (family - 1)
    state = CaseState(
        case_id=case_id,
        policy_id="2026.1",
        stage="monitoring",
        application=kandas_application(family=members),
        contract_starts_on=starts,
        contract_ends_on=add_years(starts, 5),
    )
    schedule = support_schedule(state, POLICY_2026_1)
    keys = [s.idempotency_key for s in schedule]
    assert len(schedule) == 13
    assert len(set(keys)) == len(keys)
    assert all(k.startswith(f"{case_id}:support:") for k in keys)
    assert all(type(s.amount_tiyn) is int and s.amount_tiyn > 0 for s in schedule)
    assert [s.due_on for s in schedule] == sorted(s.due_on for s in schedule)
    assert all(starts <= s.due_on <= add_years(starts, 1) for s in schedule)
