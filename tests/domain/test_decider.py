"""The case decider: given events, when a command, then events (or a refusal naming its rule)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from domain import commands as cmd
from domain import events as ev
from domain.agenda import interview_deadline, support_due
from domain.calendar import add_months
from domain.case import CaseState, fold
from domain.decider import AUTHORITIES, decide
from domain.errors import CaseClosedError, DomainError, InvalidCommandError, WrongStageError
from tests.domain.helpers import (
    ARRIVED,
    CASE_ID,
    CHECKS_OK,
    CONTRACT,
    CONTRACT_ENDS,
    DECIDED,
    DOCUMENTS_OK,
    FAIL,
    GENERAL_TO_RESIDENCE,
    KANDAS_TO_MONITORING,
    KANDAS_TO_PERMIT,
    KANDAS_TO_RELOCATION,
    PASS,
    RENT_TIYN,
    SUBSIDY_TIYN,
    T0,
    Step,
    authorities,
    general_application,
    given,
    history,
    interview,
    kandas_application,
    language,
    on,
    pay_rent,
    pay_subsidy,
    submit,
    types,
    weak_questionnaire,
    when,
)
from tests.policy_versions import with_second_phase

SUBMITTED = [*submit(), *DOCUMENTS_OK]
PAID = [*KANDAS_TO_MONITORING, pay_subsidy()]  # 90,825,000 tiyn paid
MAY = on(date(2026, 5, 1))
PAID_TWICE = [*PAID, pay_rent("2026-04", MAY)]  # subsidy + one month's rent
LEFT = [*PAID_TWICE, (on(date(2026, 6, 10)), cmd.RecordMove(new_region="Almaty"))]
REPAY_DUE = date(2026, 6, 10) + timedelta(days=90)
OWED = SUBSIDY_TIYN + RENT_TIYN


# --- whole paths ------------------------------------------------------------------------------


def test_whole_kandas_path_to_fulfilled() -> None:
    expected: list[tuple[Step, list[str]]] = [
        (submit()[0], ["ApplicationSubmitted"]),
        (DOCUMENTS_OK[0], ["DocumentsVerified"]),
        (language(FAIL)[0], ["LanguageTestScored"]),
        ((T0, cmd.RecordLanguageAttempt(attempt=2, section_percent=PASS)), ["LanguageTestScored"]),
        ((T0, cmd.ScoreQuestionnaire()), ["QuestionnaireScored"]),
        *((s, ["SecurityCheckCompleted"]) for s in authorities()),
        (interview()[0], ["InterviewRecorded"]),
        ((T0, cmd.ComputeScore()), ["ScoreComputed"]),
        ((T0, cmd.IssuePermit(permit_number="RP-1")), ["PermitIssued"]),
        ((T0, cmd.GrantKandasStatus(certificate_number="KC-1")), ["KandasStatusGranted"]),
        ((T0, cmd.ReserveQuotaPlace(region="Pavlodar", year=2026)), ["QuotaPlaceReserved"]),
        (CONTRACT[0], ["RelocationArrived"]),
        (CONTRACT[1], ["SocialContractSigned"]),
        (pay_subsidy(), ["SupportPaid"]),
        *(  # twelve months of rent, each paid in arrears on the 1st of the next month
            (pay_rent(f"{m:%Y-%m}", on(add_months(m, 1))), ["SupportPaid"])
            for m in (add_months(ARRIVED, i) for i in range(12))
        ),
        (
            (
                on(date(2026, 10, 1)),
                cmd.RecordResidenceCheck(reported_region="Pavlodar", checked_on=date(2026, 10, 1)),
            ),
            ["ResidenceConfirmed"],
        ),
        (
            (
                on(CONTRACT_ENDS),
                cmd.RecordResidenceCheck(reported_region="Pavlodar", checked_on=CONTRACT_ENDS),
            ),
            ["ResidenceConfirmed"],
        ),
        ((on(CONTRACT_ENDS), cmd.FulfilContract()), ["ContractFulfilled", "CaseClosed"]),
        (
            (on(CONTRACT_ENDS), cmd.RecordExitCheck(since=T0.date(), until=CONTRACT_ENDS)),
            ["ExitChecked"],
        ),
    ]
    state = CaseState()
    stages = []
    for (now, command), then in expected:
        events = decide(state, command, now=now)
        assert types(events) == then, command
        assert all(e.policy_id == "2026.1" for e in events)
        state = fold(events, state)
        stages.append(state.stage)
    assert state.closed_reason == "fulfilled"
    assert state.paid_tiyn == SUBSIDY_TIYN + 12 * RENT_TIYN
    assert state.contract_ends_on == CONTRACT_ENDS
    assert stages[0] == "documents" and "relocation" in stages and "monitoring" in stages


def test_every_event_of_a_long_case_round_trips_through_the_store_adapter() -> None:
    events = history(
        [*LEFT, (on(date(2026, 7, 1)), cmd.RecordRepayment(amount_tiyn=OWED, reference="r"))]
    )
    assert len({e.type for e in events}) >= 15
    for event in events:
        assert ev.EVENT_ADAPTER.validate_json(ev.EVENT_ADAPTER.dump_json(event)) == event
    assert fold(ev.EVENT_ADAPTER.validate_python(e.model_dump()) for e in events) == fold(events)


def test_whole_general_path_to_permanent_residence() -> None:
    """The general track's permit is permanent residence: its card (10 years, illustrative)
    is renewed at its end and the case goes on (docs/decisions/019)."""
    events = history(GENERAL_TO_RESIDENCE)
    state = fold(events)
    assert (state.stage, state.track, state.permit_valid_until) == (
        "residence",
        "general",
        date(2036, 3, 2),
    )
    year = on(date(2027, 3, 2))
    rescreened = decide(state, cmd.RecordRescreening(outcome="clear", reason="ok"), now=year)
    assert types(rescreened) == ["RescreeningCompleted"]
    state = fold(rescreened, state)
    with pytest.raises(InvalidCommandError) as early:
        decide(state, cmd.RenewPermit(), now=on(date(2036, 3, 1)))
    assert early.value.rule == "permit_valid"
    renewed = decide(state, cmd.RenewPermit(), now=on(date(2036, 3, 2)))
    assert types(renewed) == ["PermitRenewed"]
    state = fold(renewed, state)
    assert (state.stage, state.permit_number, state.permit_valid_until) == (
        "residence",
        "RP-0001",
        date(2046, 3, 2),
    )


# --- accepted commands: given / when / then ---------------------------------------------------

Check = Callable[[list[Any]], Any]

ACCEPTED: list[tuple[str, list[Step], cmd.Command, datetime, list[str], Check | None]] = [
    (
        "forged documents are rejected and close the case",
        submit(),
        cmd.RecordDocumentCheck(authentic=False, reasons=("forged stamp",)),
        T0,
        ["DocumentsRejected", "CaseClosed"],
        lambda es: (
            (es[0].reasons, es[1].reason, es[1].detail)
            == (("forged stamp",), "rejected", "documents: forged stamp")
        ),
    ),
    (
        "language: exactly 30% in each section passes",
        SUBMITTED,
        cmd.RecordLanguageAttempt(attempt=1, section_percent={"listening": 30, "reading": 30}),
        T0,
        ["LanguageTestScored"],
        lambda es: es[0].passed,
    ),
    (
        "language: 29% in a section fails",
        SUBMITTED,
        cmd.RecordLanguageAttempt(attempt=1, section_percent=FAIL),
        T0,
        ["LanguageTestScored"],
        lambda es: not es[0].passed,
    ),
    (
        "language: third attempt after two failures",
        [*SUBMITTED, *language(FAIL, FAIL)],
        cmd.RecordLanguageAttempt(attempt=3, section_percent=PASS),
        T0,
        ["LanguageTestScored"],
        lambda es: (es[0].attempt, es[0].passed) == (3, True),
    ),
    (
        "questionnaire scored twice: no new event",
        [*SUBMITTED, (T0, cmd.ScoreQuestionnaire())],
        cmd.ScoreQuestionnaire(),
        T0,
        [],
        None,
    ),
    (
        "authority answering twice: no new event",
        [*SUBMITTED, *authorities()],
        cmd.RecordAuthorityCheck(authority="security", outcome="deny", reason="late"),
        T0,
        [],
        None,
    ),
    (
        "questionnaire below 400: early rejection without interview",
        [
            *submit(kandas_application(questionnaire=weak_questionnaire())),
            *DOCUMENTS_OK,
            *CHECKS_OK,
        ],
        cmd.ComputeScore(),
        T0,
        ["ScoreComputed", "CaseClosed"],
        lambda es: (
            (es[0].breakdown.decision, es[1].reason) == ("reject", "rejected")
            and "questionnaire 200 points, minimum 400" in es[1].detail
        ),
    ),
    (
        "three failed language attempts: early rejection",
        [*SUBMITTED, *language(FAIL, FAIL, FAIL), (T0, cmd.ScoreQuestionnaire()), *authorities()],
        cmd.ComputeScore(),
        T0,
        ["ScoreComputed", "CaseClosed"],
        lambda es: es[0].breakdown.decision == "reject",
    ),
    (
        "authority denies: early rejection",
        [
            *SUBMITTED,
            *language(PASS),
            (T0, cmd.ScoreQuestionnaire()),
            *authorities(security="deny"),
        ],
        cmd.ComputeScore(),
        T0,
        ["ScoreComputed", "CaseClosed"],
        lambda es: es[1].detail.startswith("security:"),
    ),
    (
        "interview missed after the checks: rejected",
        [*SUBMITTED, *CHECKS_OK, (T0, cmd.MarkInterviewMissed(deadline=T0))],
        cmd.ComputeScore(),
        T0,
        ["ScoreComputed", "CaseClosed"],
        lambda es: "no interview held by the deadline" in es[1].detail,
    ),
    (
        "authority refers: referral",
        [
            *SUBMITTED,
            *language(PASS),
            (T0, cmd.ScoreQuestionnaire()),
            *authorities(deportation="refer"),
            *interview(),
        ],
        cmd.ComputeScore(),
        T0,
        ["ScoreComputed"],
        lambda es: es[0].breakdown.decision == "refer",
    ),
    (
        "permit for kandas leads to relocation",
        [*SUBMITTED, *CHECKS_OK, *DECIDED],
        cmd.IssuePermit(permit_number="RP-9"),
        T0,
        ["PermitIssued"],
        lambda es: es[0].valid_until == date(2031, 3, 2),
    ),
    (
        "kandas status granted twice: no new event",
        [*KANDAS_TO_PERMIT, (T0, cmd.GrantKandasStatus(certificate_number="KC-1"))],
        cmd.GrantKandasStatus(certificate_number="KC-2"),
        T0,
        [],
        None,
    ),
    (
        "quota place in a labour-deficit region records its capacity",
        [*KANDAS_TO_PERMIT, (T0, cmd.GrantKandasStatus(certificate_number="KC-1"))],
        cmd.ReserveQuotaPlace(region="West Kazakhstan", year=2026),
        T0,
        ["QuotaPlaceReserved"],
        lambda es: (es[0].region, es[0].capacity) == ("West Kazakhstan", 30),
    ),
    (
        "no place anywhere: permit without support",
        [*KANDAS_TO_PERMIT, (T0, cmd.GrantKandasStatus(certificate_number="KC-1"))],
        cmd.GiveUpSupport(regions_tried=("Pavlodar", "Kostanay")),
        T0,
        ["KandasSupportUnavailable"],
        None,
    ),
    (
        "arrival recorded twice: no new event",
        [*KANDAS_TO_RELOCATION, CONTRACT[0]],
        cmd.RecordArrival(region="Pavlodar"),
        T0,
        [],
        None,
    ),
    (
        "contract runs five years from arrival",
        [*KANDAS_TO_RELOCATION, CONTRACT[0]],
        cmd.SignSocialContract(),
        on(ARRIVED),
        ["SocialContractSigned"],
        lambda es: (
            (es[0].starts_on, es[0].ends_on, es[0].family_size, es[0].region)
            == (ARRIVED, CONTRACT_ENDS, 3, "Pavlodar")
        ),
    ),
    (
        "no arrival by the deadline: place released, case closed",
        KANDAS_TO_RELOCATION,
        cmd.LapseRelocation(),
        on(date(2026, 7, 1)),
        ["QuotaPlaceReleased", "CaseClosed"],
        lambda es: (es[0].region, es[1].reason) == ("Pavlodar", "relocation_lapsed"),
    ),
    (
        "a payment on its due day is recorded",
        PAID,
        pay_rent("2026-04", MAY)[1],
        MAY,
        ["SupportPaid"],
        lambda es: (es[0].amount_tiyn, es[0].period) == (RENT_TIYN, "2026-04"),
    ),
    (
        "a duplicate payment key: no events (idempotent)",
        PAID,
        pay_subsidy(ref="pay-1-retry")[1],
        on(date(2026, 4, 2)),
        [],
        None,
    ),
    (
        "residence confirmed in the contract region",
        PAID,
        cmd.RecordResidenceCheck(reported_region="Pavlodar", checked_on=date(2026, 10, 1)),
        on(date(2026, 10, 1)),
        ["ResidenceConfirmed"],
        None,
    ),
    (
        "residence discrepancy opens a grace period",
        PAID,
        cmd.RecordResidenceCheck(reported_region="Almaty", checked_on=date(2026, 10, 1)),
        on(date(2026, 10, 1)),
        ["ResidenceDiscrepancyFound"],
        lambda es: es[0].confirm_on == date(2026, 10, 31),
    ),
    (
        "a move before any support was paid owes nothing",
        KANDAS_TO_MONITORING,
        cmd.RecordMove(new_region="Almaty", moved_on=ARRIVED),
        on(ARRIVED),
        ["RegionLeft", "CaseClosed"],
        lambda es: es[1].reason == "breach_repaid",
    ),
    (
        "departure in residence closes the case",
        GENERAL_TO_RESIDENCE,
        cmd.RecordDeparture(departed_on=date(2027, 1, 5), source="border"),
        on(date(2027, 1, 6)),
        ["DepartureRecorded", "CaseClosed"],
        lambda es: (es[0].source, es[1].reason) == ("border", "departed"),
    ),
    (
        "departure in relocation releases the place",
        KANDAS_TO_RELOCATION,
        cmd.RecordDeparture(),
        on(date(2026, 3, 20)),
        ["DepartureRecorded", "QuotaPlaceReleased", "CaseClosed"],
        lambda es: (es[0].departed_on, es[2].reason) == (date(2026, 3, 20), "departed"),
    ),
    (
        "departure under contract is a breach",
        PAID,
        cmd.RecordDeparture(departed_on=date(2027, 1, 5), source="staff"),
        on(date(2027, 1, 6)),
        ["DepartureRecorded", "RegionLeft", "RepaymentDemanded"],
        lambda es: (es[1].new_region, es[2].amount_tiyn) == (None, SUBSIDY_TIYN),
    ),
    (
        "re-screening denied revokes the permit",
        GENERAL_TO_RESIDENCE,
        cmd.RecordRescreening(outcome="deny", reason="new criminal record"),
        on(date(2027, 3, 2)),
        ["RescreeningCompleted", "PermitRevoked", "CaseClosed"],
        lambda es: es[2].reason == "revoked",
    ),
    (
        "withdrawal while scoring",
        [*SUBMITTED, *language(PASS)],
        cmd.Withdraw(),
        T0,
        ["CaseClosed"],
        lambda es: (es[0].reason, es[0].detail) == ("withdrawn", "withdrawn by the applicant"),
    ),
    (
        "withdrawal in relocation releases the place",
        KANDAS_TO_RELOCATION,
        cmd.Withdraw(reason="family reasons"),
        T0,
        ["QuotaPlaceReleased", "CaseClosed"],
        None,
    ),
    (
        "a repayment reference seen before: no events",
        [*LEFT, (on(date(2026, 7, 1)), cmd.RecordRepayment(amount_tiyn=100, reference="r-1"))],
        cmd.RecordRepayment(amount_tiyn=100, reference="r-1"),
        on(date(2026, 7, 2)),
        [],
        None,
    ),
]


@pytest.mark.parametrize(
    ("steps", "command", "now", "then", "check"),
    [c[1:] for c in ACCEPTED],
    ids=[c[0] for c in ACCEPTED],
)
def test_accepted(
    steps: list[Step], command: cmd.Command, now: datetime, then: list[str], check: Check | None
) -> None:
    events = when(steps, command, now)
    assert types(events) == then
    assert all(e.at == now and e.policy_id == "2026.1" for e in events)
    if check is not None:
        assert check(events)


# --- refusals ---------------------------------------------------------------------------------

REFUSED: list[tuple[str, list[Step], cmd.Command, datetime, type[DomainError], str]] = [
    (
        "command before submission",
        [],
        cmd.ScoreQuestionnaire(),
        T0,
        WrongStageError,
        "no_application",
    ),
    ("second submission", submit(), submit()[0][1], T0, WrongStageError, "already_submitted"),
    (
        "document check twice",
        SUBMITTED,
        cmd.RecordDocumentCheck(authentic=True),
        T0,
        WrongStageError,
        "documents_stage",
    ),
    (
        "language test before the documents",
        submit(),
        language(PASS)[0][1],
        T0,
        WrongStageError,
        "language_test_stage",
    ),
    (
        "language attempts out of order",
        SUBMITTED,
        cmd.RecordLanguageAttempt(attempt=2, section_percent=PASS),
        T0,
        InvalidCommandError,
        "language_attempt_order",
    ),
    (
        "language attempt repeated",
        [*SUBMITTED, *language(FAIL)],
        cmd.RecordLanguageAttempt(attempt=1, section_percent=PASS),
        T0,
        InvalidCommandError,
        "language_attempt_order",
    ),
    (
        "fourth language attempt",
        [*SUBMITTED, *language(FAIL, FAIL, FAIL)],
        cmd.RecordLanguageAttempt(attempt=4, section_percent=PASS),
        T0,
        InvalidCommandError,
        "language_attempts_exhausted",
    ),
    (
        "language test after a pass",
        [*SUBMITTED, *language(PASS)],
        cmd.RecordLanguageAttempt(attempt=2, section_percent=PASS),
        T0,
        InvalidCommandError,
        "language_test_passed",
    ),
    (
        "language result missing a section",
        SUBMITTED,
        cmd.RecordLanguageAttempt(attempt=1, section_percent={"listening": 90}),
        T0,
        InvalidCommandError,
        "language_sections",
    ),
    (
        "interview before the checks",
        [*SUBMITTED, *language(PASS), (T0, cmd.ScoreQuestionnaire())],
        interview()[0][1],
        T0,
        WrongStageError,
        "interview_before_checks",
    ),
    (
        "interview points above the maximum",
        [*SUBMITTED, *CHECKS_OK],
        cmd.RecordInterview(interviewer_id="staff-7", passed=True, points=101),
        T0,
        InvalidCommandError,
        "interview_points_max",
    ),
    (
        "interview deadline firing after the interview was recorded",
        [*SUBMITTED, *CHECKS_OK, *interview()],
        cmd.MarkInterviewMissed(deadline=T0),
        T0,
        WrongStageError,
        "interview_stage",
    ),
    (
        "interview recorded twice",
        [*SUBMITTED, *CHECKS_OK, *interview()],
        interview()[0][1],
        T0,
        InvalidCommandError,
        "interview_recorded",
    ),
    (
        "score before the checks",
        [*SUBMITTED, *language(PASS)],
        cmd.ComputeScore(),
        T0,
        WrongStageError,
        "score_before_checks",
    ),
    (
        "score before the interview when every gate is clear",
        [*SUBMITTED, *CHECKS_OK],
        cmd.ComputeScore(),
        T0,
        WrongStageError,
        "score_before_interview",
    ),
    (
        "referral resolved outside a referral",
        KANDAS_TO_PERMIT,
        cmd.ResolveReferral(officer_id="o-1", approve=True, reason="ok"),
        T0,
        WrongStageError,
        "referral_stage",
    ),
    (
        "permit before a decision",
        [*SUBMITTED, *CHECKS_OK],
        cmd.IssuePermit(permit_number="RP-1"),
        T0,
        WrongStageError,
        "permit_stage",
    ),
    (
        "quota place before kandas status",
        KANDAS_TO_PERMIT,
        cmd.ReserveQuotaPlace(region="Pavlodar", year=2026),
        T0,
        WrongStageError,
        "kandas_status_first",
    ),
    (
        "quota place outside the labour-deficit regions",
        [*KANDAS_TO_PERMIT, (T0, cmd.GrantKandasStatus(certificate_number="KC-1"))],
        cmd.ReserveQuotaPlace(region="Almaty", year=2026),
        T0,
        InvalidCommandError,
        "region_not_labour_deficit",
    ),
    (
        "a second quota place",
        KANDAS_TO_RELOCATION,
        cmd.ReserveQuotaPlace(region="Kostanay", year=2026),
        T0,
        InvalidCommandError,
        "quota_place_held",
    ),
    (
        "giving up support while holding a place",
        KANDAS_TO_RELOCATION,
        cmd.GiveUpSupport(regions_tried=()),
        T0,
        InvalidCommandError,
        "quota_place_held",
    ),
    (
        "kandas status on the general track",
        GENERAL_TO_RESIDENCE,
        cmd.GrantKandasStatus(certificate_number="KC-1"),
        T0,
        WrongStageError,
        "relocation_stage",
    ),
    (
        "arrival before a quota place",
        [*KANDAS_TO_PERMIT, (T0, cmd.GrantKandasStatus(certificate_number="KC-1"))],
        cmd.RecordArrival(region="Pavlodar"),
        T0,
        WrongStageError,
        "arrival_before_quota",
    ),
    (
        "arrival in another region",
        KANDAS_TO_RELOCATION,
        cmd.RecordArrival(region="Kostanay"),
        T0,
        InvalidCommandError,
        "arrival_region_mismatch",
    ),
    (
        "contract before arrival",
        KANDAS_TO_RELOCATION,
        cmd.SignSocialContract(),
        T0,
        WrongStageError,
        "contract_before_arrival",
    ),
    (
        "lapse after arrival",
        [*KANDAS_TO_RELOCATION, CONTRACT[0]],
        cmd.LapseRelocation(),
        T0,
        InvalidCommandError,
        "already_arrived",
    ),
    (
        "no support before the social contract (relocation)",
        [*KANDAS_TO_RELOCATION, CONTRACT[0]],
        pay_subsidy()[1],
        on(ARRIVED),
        WrongStageError,
        "no_support_before_contract",
    ),
    (
        "no support on the general track",
        GENERAL_TO_RESIDENCE,
        pay_subsidy()[1],
        on(ARRIVED),
        WrongStageError,
        "no_support_before_contract",
    ),
    (
        "no payment after a breach",
        LEFT,
        pay_rent("2026-05", on(date(2026, 6, 11)))[1],
        on(date(2026, 6, 11)),
        InvalidCommandError,
        "no_payment_after_breach",
    ),
    (
        "a payment not yet due",
        PAID,
        pay_rent("2026-04", MAY)[1],
        MAY - timedelta(days=1),
        InvalidCommandError,
        "payment_not_due",
    ),
    (
        "a payment of the wrong amount",
        PAID,
        cmd.RecordSupportPayment(
            measure="rent",
            period="2026-04",
            amount_tiyn=RENT_TIYN + 1,
            idempotency_key=f"{CASE_ID}:support:rent:2026-04",
            payment_reference="x",
        ),
        MAY,
        InvalidCommandError,
        "payment_not_in_contract",
    ),
    (
        "a payment the contract does not owe",
        PAID,
        pay_rent("2027-04", on(date(2027, 5, 1)))[1],
        on(date(2027, 5, 1)),
        InvalidCommandError,
        "payment_not_in_contract",
    ),
    (
        "a move within the contract region",
        PAID,
        cmd.RecordMove(new_region="Pavlodar"),
        MAY,
        InvalidCommandError,
        "move_within_region",
    ),
    (
        "fulfilment one day early",
        PAID,
        cmd.FulfilContract(),
        on(CONTRACT_ENDS - timedelta(days=1)),
        InvalidCommandError,
        "contract_running",
    ),
    (
        "withdrawal under contract",
        PAID,
        cmd.Withdraw(),
        MAY,
        WrongStageError,
        "withdraw_under_contract",
    ),
    (
        "withdrawal while repaying",
        LEFT,
        cmd.Withdraw(),
        on(date(2026, 7, 1)),
        WrongStageError,
        "withdraw_under_contract",
    ),
    (
        "repayment larger than outstanding",
        LEFT,
        cmd.RecordRepayment(amount_tiyn=OWED + 1, reference="r-1"),
        on(date(2026, 7, 1)),
        InvalidCommandError,
        "repayment_exceeds_outstanding",
    ),
    (
        "repayment referred before it is due",
        LEFT,
        cmd.ReferRepayment(),
        on(REPAY_DUE - timedelta(days=1)),
        InvalidCommandError,
        "repayment_not_overdue",
    ),
    (
        "repayment outside the repayment stage",
        PAID,
        cmd.RecordRepayment(amount_tiyn=1, reference="r-1"),
        MAY,
        WrongStageError,
        "repayment_stage",
    ),
    (
        "re-screening before the social contract",
        KANDAS_TO_RELOCATION,
        cmd.RecordRescreening(outcome="clear", reason="ok"),
        MAY,
        WrongStageError,
        "rescreening_stage",
    ),
]


@pytest.mark.parametrize(
    ("steps", "command", "now", "error", "rule"),
    [c[1:] for c in REFUSED],
    ids=[c[0] for c in REFUSED],
)
def test_refused(
    steps: list[Step], command: cmd.Command, now: datetime, error: type[DomainError], rule: str
) -> None:
    with pytest.raises(error) as refused:
        when(steps, command, now)
    assert refused.value.rule == rule
    assert refused.value.reason


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(CaseState(), submit()[0][1], now=datetime(2026, 3, 2, 9, 0))


# --- money: clawback, repayment, referral ------------------------------------------------------


def test_discrepancy_confirmed_after_grace_demands_exactly_what_was_paid() -> None:
    first = (
        on(date(2026, 10, 1)),
        cmd.RecordResidenceCheck(reported_region="Almaty", checked_on=date(2026, 10, 1)),
    )
    confirm = cmd.RecordResidenceCheck(reported_region="Almaty", checked_on=date(2026, 10, 31))
    events = when([*PAID_TWICE, first], confirm, on(date(2026, 10, 31)))
    assert types(events) == ["RegionLeft", "RepaymentDemanded"]
    left, demand = events
    assert (left.new_region, left.left_on, left.source) == ("Almaty", date(2026, 10, 1), "registry")
    assert demand.amount_tiyn == OWED == given(PAID_TWICE).paid_tiyn
    assert demand.due_on == date(2026, 10, 31) + timedelta(days=90)
    assert demand.rule == "full"


def test_discrepancy_then_confirmation_in_region_clears_it() -> None:
    first = (
        on(date(2026, 10, 1)),
        cmd.RecordResidenceCheck(reported_region="Almaty", checked_on=date(2026, 10, 1)),
    )
    back = (
        on(date(2026, 10, 31)),
        cmd.RecordResidenceCheck(reported_region="Pavlodar", checked_on=date(2026, 10, 31)),
    )
    state = given([*PAID, first, back])
    assert (state.stage, state.discrepancy_confirm_on, state.residence_checks) == (
        "monitoring",
        None,
        1,
    )


def test_leaving_one_day_before_the_end_owes_everything() -> None:
    day_before = CONTRACT_ENDS - timedelta(days=1)
    events = when(PAID_TWICE, cmd.RecordMove(new_region="Almaty"), on(day_before))
    assert types(events) == ["RegionLeft", "RepaymentDemanded"]
    assert events[1].amount_tiyn == OWED


def test_leaving_on_the_end_day_owes_nothing() -> None:
    events = when(PAID_TWICE, cmd.RecordMove(new_region="Almaty"), on(CONTRACT_ENDS))
    assert types(events) == ["ContractFulfilled", "CaseClosed"]
    assert events[0].ended_on == CONTRACT_ENDS
    assert events[1].reason == "fulfilled"


def test_partial_then_full_repayment_closes_breach_repaid() -> None:
    state = given(LEFT)
    assert (state.stage, state.outstanding_tiyn) == ("repayment", OWED)
    part = decide(state, cmd.RecordRepayment(amount_tiyn=1000, reference="r-1"), now=MAY)
    assert types(part) == ["RepaymentReceived"]
    state = fold(part, state)
    assert state.outstanding_tiyn == OWED - 1000
    rest = cmd.RecordRepayment(amount_tiyn=OWED - 1000, reference="r-2")
    final = decide(state, rest, now=MAY)
    assert types(final) == ["RepaymentReceived", "CaseClosed"]
    state = fold(final, state)
    assert (state.closed_reason, state.outstanding_tiyn, state.repaid_tiyn) == (
        "breach_repaid",
        0,
        OWED,
    )


def test_repayment_referred_after_due_date() -> None:
    partial = (on(date(2026, 7, 1)), cmd.RecordRepayment(amount_tiyn=500, reference="r-1"))
    events = when([*LEFT, partial], cmd.ReferRepayment(), on(REPAY_DUE + timedelta(days=1)))
    assert types(events) == ["RepaymentReferred", "CaseClosed"]
    assert events[0].outstanding_tiyn == OWED - 500
    assert events[1].reason == "breach_referred"


def test_support_due_stops_after_a_breach() -> None:
    assert [s.period for s in support_due(given(PAID), MAY.date())] == ["2026-04"]
    assert support_due(given(LEFT), date(2027, 1, 1)) == ()


# --- closed cases and policy versions ---------------------------------------------------------

ONE_OF_EACH: list[cmd.Command] = [
    submit()[0][1],
    cmd.RecordDocumentCheck(authentic=True),
    cmd.RecordLanguageAttempt(attempt=1, section_percent=PASS),
    cmd.ScoreQuestionnaire(),
    cmd.RequestAuthorityCheck(authority="security", reference="AR-1"),
    cmd.RecordAuthorityCheck(authority="security", outcome="clear", reason="ok"),
    cmd.MarkAuthorityOverdue(authority="security"),
    cmd.EscalateInterview(deadline=T0.date()),
    cmd.RecordInterview(interviewer_id="s-1", passed=True, points=1),
    cmd.MarkInterviewMissed(deadline=T0),
    cmd.ComputeScore(),
    cmd.ResolveReferral(officer_id="o-1", approve=True, reason="ok"),
    cmd.IssuePermit(permit_number="RP-1"),
    cmd.GrantKandasStatus(certificate_number="KC-1"),
    cmd.RequestKandasStatus(reference="KR-1"),
    cmd.RecordKandasPreliminaryRefusal(reason="r"),
    cmd.RecordKandasHearing(),
    cmd.ExtendKandasDecision(until=T0.date(), reason="r"),
    cmd.MarkKandasDecisionOverdue(),
    cmd.RefuseKandasStatus(reason="r"),
    cmd.FlagProcedureLimit(),
    cmd.ReserveQuotaPlace(region="Pavlodar", year=2026),
    cmd.GiveUpSupport(regions_tried=()),
    cmd.LodgeCandidacy(),
    cmd.TakeAllocation(
        round_id="pavlodar-2026-03", number=3, region="Pavlodar", year=2026, rank=1, offered=True
    ),
    cmd.ChooseGeneralTrack(),
    cmd.RecordArrival(region="Pavlodar"),
    cmd.LapseRelocation(),
    cmd.SignSocialContract(),
    pay_subsidy()[1],
    cmd.RecordResidenceCheck(reported_region="Pavlodar", checked_on=ARRIVED),
    cmd.RecordMove(new_region="Almaty"),
    cmd.RecordInvoice(invoice="INV-1"),
    cmd.RecordRepayment(amount_tiyn=1, reference="r"),
    cmd.ReferRepayment(),
    cmd.FulfilContract(),
    cmd.RecordRescreening(outcome="clear", reason="ok"),
    cmd.RecordDeparture(),
    cmd.RenewPermit(),
    cmd.RecordEmployment(member=1, employer_id="BIN-1", started_on=ARRIVED, housing_provided=True),
    cmd.EndEmployment(member=1),
    cmd.IssueHousingCertificate(reference="H-1", region="Pavlodar", price_tiyn=1),
    cmd.Withdraw(),
    cmd.RecordDeath(),
    cmd.RecordCitizenship(),
    cmd.RevokePermit(reason="r", fault=False),
    cmd.RecordExitCheck(since=T0.date(), until=T0.date()),
]
CLOSED_CASES = {
    "rejected": [*submit(), (T0, cmd.RecordDocumentCheck(authentic=False))],
    "fulfilled": [
        *PAID,
        (
            on(CONTRACT_ENDS),
            cmd.RecordResidenceCheck(reported_region="Pavlodar", checked_on=CONTRACT_ENDS),
        ),
        (on(CONTRACT_ENDS), cmd.FulfilContract()),
    ],
    "withdrawn": [*KANDAS_TO_RELOCATION, (T0, cmd.Withdraw())],
}


def test_one_of_each_command_type() -> None:
    [union, _] = get_args(cmd.Command)
    assert {type(c) for c in ONE_OF_EACH} == set(get_args(union))


@pytest.mark.parametrize("closed", CLOSED_CASES.values(), ids=CLOSED_CASES.keys())
@pytest.mark.parametrize("command", ONE_OF_EACH, ids=lambda c: c.kind)
def test_a_closed_case_refuses_every_command(closed: list[Step], command: cmd.Command) -> None:
    state = given(closed)
    assert state.is_closed
    if isinstance(command, cmd.RecordExitCheck):
        return  # the one fact a closed case takes (tests/domain/test_case_end.py)
    with pytest.raises(CaseClosedError) as refused:
        decide(state, command, now=on(date(2032, 1, 1)))
    assert refused.value.rule == "case_closed"


def test_referral_path() -> None:
    referred = [
        *SUBMITTED,
        *language(PASS),
        (T0, cmd.ScoreQuestionnaire()),
        *authorities(criminal_record="refer"),
        *DECIDED,
    ]
    state = given(referred)
    assert (state.stage, state.breakdown and state.breakdown.decision) == ("referral", "refer")
    approve = cmd.ResolveReferral(officer_id="o-1", approve=True, reason="cleared by hand")
    approved = decide(state, approve, now=T0)
    assert types(approved) == ["ReferralResolved"]
    assert fold(approved, state).stage == "permit"
    deny = cmd.ResolveReferral(officer_id="o-1", approve=False, reason="record confirmed")
    denied: list[Any] = decide(state, deny, now=T0)
    assert types(denied) == ["ReferralResolved", "CaseClosed"]
    assert (denied[1].reason, denied[1].detail) == ("rejected", "referral: record confirmed")


def test_give_up_support_turns_the_case_general() -> None:
    steps = [
        *KANDAS_TO_PERMIT,
        (T0, cmd.GrantKandasStatus(certificate_number="KC-1")),
        (T0, cmd.GiveUpSupport(regions_tried=("Pavlodar", "Kostanay"))),
    ]
    state = given(steps)
    assert (state.stage, state.track, state.regions_refused) == (
        "residence",
        "general",
        ("Pavlodar", "Kostanay"),
    )


def test_a_case_keeps_the_policy_it_was_submitted_under(monkeypatch: pytest.MonkeyPatch) -> None:
    """A version coming into force (a test-only one: no second phase is published) governs
    cases submitted from its date; a case submitted the day before keeps its own rules."""
    second = with_second_phase(monkeypatch)
    june = datetime(2026, 6, 30, 23, 0, tzinfo=T0.tzinfo)
    july = datetime(2026, 7, 1, 9, 0, tzinfo=T0.tzinfo)
    early = history([(june, submit()[0][1]), (july, cmd.RecordDocumentCheck(authentic=True))])
    late = history([(july, submit(case_id="case-2")[0][1])])
    assert [e.policy_id for e in early] == ["2026.1", "2026.1"]
    assert [e.policy_id for e in late] == [second.id]
    # and its deadlines are its own version's: 14 days to interview, not the new 10
    day = date(2026, 7, 20)
    assert interview_deadline(fold(early), day) == day + timedelta(days=14)
    assert interview_deadline(fold(late), day) == day + timedelta(days=10)


def test_general_application_on_the_general_track() -> None:
    state = given([*submit(general_application()), *DOCUMENTS_OK])
    assert (state.track, state.stage) == ("general", "scoring")


# --- regressions: bugs found while writing this suite ------------------------------------------


def test_unknown_address_is_not_recorded_as_astana() -> None:
    check = cmd.RecordResidenceCheck(reported_region=None, checked_on=date(2026, 10, 1))
    [found] = when(PAID, check, on(date(2026, 10, 1)))
    assert isinstance(found, ev.ResidenceDiscrepancyFound)
    assert found.reported_region is None


def test_an_unknown_address_confirmed_after_grace_is_a_breach_to_nowhere() -> None:
    first = (
        on(date(2026, 10, 1)),
        cmd.RecordResidenceCheck(reported_region=None, checked_on=date(2026, 10, 1)),
    )
    confirm = cmd.RecordResidenceCheck(reported_region=None, checked_on=date(2026, 10, 31))
    left, _ = when([*PAID, first], confirm, on(date(2026, 10, 31)))
    assert isinstance(left, ev.RegionLeft)
    assert (left.new_region, left.left_on) == (None, date(2026, 10, 1))


def test_a_second_discrepancy_within_grace_does_not_restart_the_window() -> None:
    first = (
        on(date(2026, 10, 1)),
        cmd.RecordResidenceCheck(reported_region="Almaty", checked_on=date(2026, 10, 1)),
    )
    again = cmd.RecordResidenceCheck(reported_region="Astana", checked_on=date(2026, 10, 20))
    assert when([*PAID, first], again, on(date(2026, 10, 20))) == []
    assert given([*PAID, first]).discrepancy_confirm_on == date(2026, 10, 31)


def test_interview_missed_before_checks_is_refused() -> None:
    pending = [*SUBMITTED, *language(PASS), (T0, cmd.ScoreQuestionnaire())]
    with pytest.raises(WrongStageError) as refused:
        when(pending, cmd.MarkInterviewMissed(deadline=T0), T0)
    assert refused.value.rule == "interview_before_checks"


def test_interview_missed_after_checks_leads_to_a_decision() -> None:
    checked = [*SUBMITTED, *CHECKS_OK]
    state = given([*checked, (T0, cmd.MarkInterviewMissed(deadline=T0))])
    assert (state.stage, state.interview_missed) == ("decision", True)
    assert types(decide(state, cmd.ComputeScore(), now=T0))[0] == "ScoreComputed"


def test_repayment_is_not_referred_on_its_due_date() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        when(LEFT, cmd.ReferRepayment(), on(REPAY_DUE, hour=23))
    assert refused.value.rule == "repayment_not_overdue"


@pytest.mark.parametrize(
    "command",
    [
        cmd.RecordMove(new_region="Almaty", moved_on=CONTRACT_ENDS),
        cmd.RecordMove(new_region="Almaty", moved_on=date(2027, 1, 2)),
        cmd.RecordDeparture(departed_on=date(2027, 1, 2), source="border"),
    ],
    ids=["move-past-the-contract-end", "move-tomorrow", "departure-tomorrow"],
)
def test_a_move_dated_in_the_future_is_refused(command: cmd.Command) -> None:
    with pytest.raises(InvalidCommandError) as refused:
        when(PAID_TWICE, command, on(date(2027, 1, 1)))
    assert refused.value.rule == "date_in_future"


def test_a_move_dated_today_is_accepted() -> None:
    move = cmd.RecordMove(new_region="Almaty", moved_on=date(2027, 1, 1))
    left, _ = when(PAID_TWICE, move, on(date(2027, 1, 1)))
    assert isinstance(left, ev.RegionLeft) and left.left_on == date(2027, 1, 1)


def test_a_payment_with_the_wrong_period_is_refused() -> None:
    wrong = cmd.RecordSupportPayment(
        measure="rent",
        period="2031-01",
        amount_tiyn=RENT_TIYN,
        idempotency_key=f"{CASE_ID}:support:rent:2026-04",
        payment_reference="x",
    )
    with pytest.raises(InvalidCommandError) as refused:
        when(PAID, wrong, MAY)
    assert refused.value.rule == "payment_not_in_contract"


def test_naive_datetimes_are_refused_in_commands() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        cmd.MarkInterviewMissed(deadline=datetime(2026, 3, 16))


def test_naive_datetimes_are_refused_in_events() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        ev.DocumentsVerified(policy_id="2026.1", at=datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ValidationError, match="timezone"):
        ev.InterviewMissed(policy_id="2026.1", at=T0, deadline=datetime(2026, 3, 16))


def test_border_departure_under_contract_is_a_breach() -> None:
    departure = cmd.RecordDeparture(departed_on=date(2027, 1, 5), source="border")
    events = when(PAID, departure, on(date(2027, 1, 6)))
    assert types(events) == ["DepartureRecorded", "RegionLeft", "RepaymentDemanded"]
    assert isinstance(events[1], ev.RegionLeft) and events[1].source == "border"


def test_submitting_before_any_policy_is_in_force_is_refused() -> None:
    before = datetime(2025, 12, 31, 9, 0, tzinfo=T0.tzinfo)
    with pytest.raises(InvalidCommandError) as refused:
        decide(CaseState(), submit()[0][1], now=before)
    assert refused.value.rule == "no_policy_in_force"


# --- asynchronous authority replies and deadlines ---------------------------------------------

DUE = T0.date() + timedelta(days=20)  # policy 2026.1: authority_check_days
ASKED: list[Step] = [
    *SUBMITTED,
    *language(PASS),
    (T0, cmd.ScoreQuestionnaire()),
    *((T0, cmd.RequestAuthorityCheck(authority=a, reference=f"AR-{a}")) for a in AUTHORITIES),
]


def reply(authority: str, outcome: str = "clear", reference: str | None = None) -> Any:
    return cmd.RecordAuthorityCheck.model_validate(
        {
            "authority": authority,
            "outcome": outcome,
            "reason": "checked",
            "reference": reference or f"AR-{authority}",
        }
    )


ANSWERED_BUT_SECURITY: list[Step] = [
    *ASKED,
    *((T0, reply(a)) for a in AUTHORITIES if a != "security"),
]
SECURITY_OVERDUE: list[Step] = [
    *ANSWERED_BUT_SECURITY,
    (on(DUE), cmd.MarkAuthorityOverdue(authority="security")),
]


def test_a_request_records_its_reference_and_due_date() -> None:
    [asked] = when(SUBMITTED, cmd.RequestAuthorityCheck(authority="security", reference="AR-9"))
    assert (asked.type, asked.reference, asked.due_on) == ("AuthorityCheckRequested", "AR-9", DUE)
    state = given(ASKED)
    assert [r.name for r in state.authority_requests] == [
        "security",
        "criminal_record",
        "deportation",
        "citizenship_consent",
    ]


def test_the_same_request_twice_records_it_once_and_another_reference_is_refused() -> None:
    again = cmd.RequestAuthorityCheck(authority="security", reference="AR-security")
    assert when(ASKED, again) == []
    with pytest.raises(InvalidCommandError) as refused:
        when(ASKED, cmd.RequestAuthorityCheck(authority="security", reference="AR-other"))
    assert refused.value.rule == "authority_requested"


def test_a_reply_naming_another_request_is_refused() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        when(ASKED, reply("security", reference="AR-forged"))
    assert refused.value.rule == "authority_reference"


def test_a_second_reply_is_refused_as_already_answered() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        when([*ASKED, (T0, reply("security"))], reply("security", "deny"))
    assert refused.value.rule == "authority_answered"


def test_an_authority_is_not_overdue_before_its_due_date() -> None:
    with pytest.raises(WrongStageError) as refused:
        when(ASKED, cmd.MarkAuthorityOverdue(authority="security"), on(DUE - timedelta(days=1)))
    assert refused.value.rule == "authority_not_due"
    with pytest.raises(WrongStageError) as never_asked:
        when(SUBMITTED, cmd.MarkAuthorityOverdue(authority="security"), on(DUE))
    assert never_asked.value.rule == "authority_not_requested"


def test_no_reply_by_the_due_date_refers_the_case_to_an_officer() -> None:
    state = given(SECURITY_OVERDUE)
    [gate] = [g for g in state.authority if g.name == "security"]
    assert (gate.outcome, gate.reason) == ("refer", f"no reply by {DUE.isoformat()}")
    assert state.authority_overdue == ("security",)
    [scored, *_] = when([*SECURITY_OVERDUE, *interview()], cmd.ComputeScore(), on(DUE))
    assert scored.breakdown.decision == "refer"
    assert f"security: no reply by {DUE.isoformat()}" in scored.breakdown.reasons


def test_a_late_reply_before_the_interview_replaces_the_referral() -> None:
    [late] = when(SECURITY_OVERDUE, reply("security", "deny"), on(DUE + timedelta(days=3)))
    state = fold([late], given(SECURITY_OVERDUE))
    assert [(g.name, g.outcome) for g in state.authority if g.name == "security"] == [
        ("security", "deny")
    ]
    assert state.authority_overdue == ()


def test_a_late_reply_after_the_interview_is_refused() -> None:
    # the interview moved the case to its decision: replies are no longer taken
    with pytest.raises(WrongStageError) as refused:
        when([*SECURITY_OVERDUE, *interview()], reply("security"), on(DUE))
    assert refused.value.rule == "authority_check_stage"


def test_an_escalated_interview_gets_the_supervisor_window_once() -> None:
    checked = [*SUBMITTED, *CHECKS_OK]
    deadline = T0.date() + timedelta(days=14)
    with pytest.raises(WrongStageError) as early:
        when(checked, cmd.EscalateInterview(deadline=deadline), on(deadline - timedelta(days=1)))
    assert early.value.rule == "interview_not_due"
    [escalated] = when(checked, cmd.EscalateInterview(deadline=deadline), on(deadline))
    assert (escalated.type, escalated.until) == (
        "InterviewEscalated",
        deadline + timedelta(days=7),
    )
    again = [*checked, (on(deadline), cmd.EscalateInterview(deadline=deadline))]
    assert given(again).interview_escalated_until == deadline + timedelta(days=7)
    assert when(again, cmd.EscalateInterview(deadline=deadline), on(deadline)) == []


# --- ends at any stage: departure, death, citizenship, revocation -----------------------------

LATER = on(date(2027, 1, 6))


@pytest.mark.parametrize(
    "steps",
    [SUBMITTED, [*SUBMITTED, *CHECKS_OK], KANDAS_TO_PERMIT],
    ids=["scoring", "interview", "permit"],
)
def test_a_departure_before_the_permit_closes_the_case(steps: list[Step]) -> None:
    events = when(steps, cmd.RecordDeparture(departed_on=T0.date(), source="staff"))
    assert types(events) == ["DepartureRecorded", "CaseClosed"]
    assert events[-1].reason == "departed"


def test_a_departure_while_repaying_keeps_the_debt() -> None:
    state = given(LEFT)
    assert state.stage == "repayment"
    events = when(LEFT, cmd.RecordDeparture(source="staff"), LATER)
    assert types(events) == ["DepartureRecorded"]
    assert fold(events, state).outstanding_tiyn == OWED


@pytest.mark.parametrize(
    ("steps", "released"),
    [(SUBMITTED, False), (KANDAS_TO_RELOCATION, True), (PAID, False), (LEFT, False)],
    ids=["scoring", "relocation", "monitoring", "repayment"],
)
def test_a_death_closes_the_case_without_a_breach(steps: list[Step], released: bool) -> None:
    events = when(steps, cmd.RecordDeath(died_on=date(2027, 1, 2)), LATER)
    assert types(events) == [
        "DeathRecorded",
        *(["QuotaPlaceReleased"] if released else []),
        "CaseClosed",
    ]
    closed = events[-1]
    assert closed.reason == "died"
    assert "RepaymentDemanded" not in types(events)
    owed = given(steps).outstanding_tiyn
    assert (f"{owed} tiyn still owed" in closed.detail) == (owed > 0)


def test_citizenship_needs_a_permit() -> None:
    with pytest.raises(WrongStageError) as refused:
        when(SUBMITTED, cmd.RecordCitizenship())
    assert refused.value.rule == "citizenship_stage"


def test_a_revocation_closes_the_case_and_frees_a_reserved_place() -> None:
    events = when(KANDAS_TO_RELOCATION, cmd.RevokePermit(reason="false statements", fault=True))
    assert types(events) == ["PermitRevoked", "QuotaPlaceReleased", "CaseClosed"]
    assert events[-1].reason == "revoked"
    assert events[0].fault is True  # before the contract no support was paid: nothing owed
    assert "false statements" not in events[-1].detail  # free text stays in the record only
    with pytest.raises(WrongStageError) as refused:
        when([*SUBMITTED, *CHECKS_OK], cmd.RevokePermit(reason="x", fault=False))
    assert refused.value.rule == "revocation_stage"


def test_a_death_dated_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        when(PAID, cmd.RecordDeath(died_on=date(2030, 1, 1)), LATER)
    assert refused.value.rule == "date_in_future"


def test_the_repayment_invoice_is_issued_once_for_the_whole_debt() -> None:
    [invoiced] = when(LEFT, cmd.RecordInvoice(invoice="INV-7"), LATER)
    assert (invoiced.type, invoiced.amount_tiyn, invoiced.due_on) == (
        "RepaymentInvoiced",
        OWED,
        REPAY_DUE,
    )
    issued = [*LEFT, (LATER, cmd.RecordInvoice(invoice="INV-7"))]
    assert when(issued, cmd.RecordInvoice(invoice="INV-7"), LATER) == []
    with pytest.raises(InvalidCommandError) as refused:
        when(issued, cmd.RecordInvoice(invoice="INV-8"), LATER)
    assert refused.value.rule == "invoice_issued"
