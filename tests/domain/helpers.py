"""Small builders for domain tests: applications, command scripts, given/when helpers.

A "script" is a list of (case time, command) pairs; `history` runs it through the decider
and returns the events, so tables can say "given a case in monitoring" without spelling
out thirty events by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from domain import commands as cmd
from domain import events as ev
from domain.application import Application
from domain.case import CaseState, fold
from domain.decider import AUTHORITIES, decide

CASE_ID = "case-1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ARRIVED = date(2026, 4, 1)
CONTRACT_ENDS = date(2031, 4, 1)
MRP_2026 = 4325
TIYN = 100

Step = tuple[datetime, cmd.Command]


def on(day: date, hour: int = 9) -> datetime:
    """Case time at `hour` o'clock UTC on `day`."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def passport(**over: Any) -> dict[str, Any]:
    return {"number": "N12345678", "country": "CHN", "expires_on": "2031-01-01"} | over


def questionnaire(**over: Any) -> dict[str, Any]:
    """450 points on 2026-03-02 for someone born 1996-05-10: age 29 (120) + master (150)
    + fluent Kazakh (120) + fluent Russian (60)."""
    base = {
        "education": "master",
        "kazakh": "fluent",
        "russian": "fluent",
        "work_years": 0,
        "health_fit": False,
    }
    return base | over


def weak_questionnaire() -> dict[str, Any]:
    """Below the 400 minimum: age 29 (120) + secondary (40) + basic Kazakh (40)."""
    return questionnaire(education="secondary", kazakh="basic", russian="none")


def application_data(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "full_name": "Aigerim Nurlanovna",
        "born_on": "1996-05-10",
        "citizenship": "CHN",
        "ethnic_kazakh": True,
        "track": "kandas",
        "document": passport(),
        "questionnaire": questionnaire(),
        "family": [
            {"relation": "spouse", "full_name": "Yerlan B.", "born_on": "1994-01-02"},
            {"relation": "child", "full_name": "Dana B.", "born_on": "2020-07-07"},
        ],
        "preferred_regions": ["Pavlodar", "Kostanay"],
    }
    return base | over


def kandas_application(**over: Any) -> Application:
    """A family of three asking for support in Pavlodar or Kostanay."""
    return Application.model_validate(application_data(**over))


def general_application(**over: Any) -> Application:
    data = application_data(
        ethnic_kazakh=False, track="general", family=[], preferred_regions=["Almaty"]
    )
    return Application.model_validate(data | over)


# --- scripts ---------------------------------------------------------------------------------


def submit(app: Application | None = None, case_id: str = CASE_ID) -> list[Step]:
    return [(T0, cmd.SubmitApplication(case_id=case_id, application=app or kandas_application()))]


DOCUMENTS_OK: list[Step] = [(T0, cmd.RecordDocumentCheck(authentic=True))]

PASS = {"listening": 60, "reading": 45}
FAIL = {"listening": 60, "reading": 29}


def language(*results: dict[str, int]) -> list[Step]:
    return [
        (T0, cmd.RecordLanguageAttempt(attempt=i, section_percent=r))
        for i, r in enumerate(results, start=1)
    ]


def authorities(outcome: str = "clear", **per: str) -> list[Step]:
    return [
        (
            T0,
            cmd.RecordAuthorityCheck.model_validate(
                {"authority": a, "outcome": per.get(a, outcome), "reason": "checked"}
            ),
        )
        for a in AUTHORITIES
    ]


CHECKS_OK: list[Step] = [
    *language(PASS),
    (T0, cmd.ScoreQuestionnaire()),
    *authorities(),
]


def interview(passed: bool = True, points: int = 80) -> list[Step]:
    return [(T0, cmd.RecordInterview(interviewer_id="staff-7", passed=passed, points=points))]


DECIDED: list[Step] = [*interview(), (T0, cmd.ComputeScore())]
PERMIT: list[Step] = [(T0, cmd.IssuePermit(permit_number="RP-0001"))]
RELOCATION: list[Step] = [
    (T0, cmd.GrantKandasStatus(certificate_number="KC-1")),
    (T0, cmd.ReserveQuotaPlace(region="Pavlodar", year=2026)),
]
CONTRACT: list[Step] = [
    (on(ARRIVED), cmd.RecordArrival(region="Pavlodar", arrived_on=ARRIVED)),
    (on(ARRIVED), cmd.SignSocialContract()),
]

KANDAS_TO_PERMIT: list[Step] = [*submit(), *DOCUMENTS_OK, *CHECKS_OK, *DECIDED, *PERMIT]
KANDAS_TO_RELOCATION: list[Step] = [*KANDAS_TO_PERMIT, *RELOCATION]
KANDAS_TO_MONITORING: list[Step] = [*KANDAS_TO_RELOCATION, *CONTRACT]
GENERAL_TO_RESIDENCE: list[Step] = [
    *submit(general_application()),
    *DOCUMENTS_OK,
    *CHECKS_OK,
    *DECIDED,
    *PERMIT,
]

SUBSIDY_TIYN = 70 * 3 * MRP_2026 * TIYN  # family of three
RENT_TIYN = 22 * MRP_2026 * TIYN  # 3-4 members: 22 MRP a month (illustrative band)


def pay_subsidy(when: datetime | None = None, ref: str = "pay-1") -> Step:
    return (
        when or on(ARRIVED),
        cmd.RecordSupportPayment(
            measure="relocation_subsidy",
            period="once",
            amount_tiyn=SUBSIDY_TIYN,
            idempotency_key=f"{CASE_ID}:support:relocation_subsidy:once",
            payment_reference=ref,
        ),
    )


def pay_rent(period: str, when: datetime, ref: str | None = None) -> Step:
    return (
        when,
        cmd.RecordSupportPayment(
            measure="rent",
            period=period,
            amount_tiyn=RENT_TIYN,
            idempotency_key=f"{CASE_ID}:support:rent:{period}",
            payment_reference=ref or f"rent-{period}",
        ),
    )


def history(steps: Sequence[Step]) -> list[ev.Event]:
    """Run a script through the decider; every step must be accepted."""
    events: list[ev.Event] = []
    state = CaseState()
    for now, command in steps:
        new = decide(state, command, now=now)
        state = fold(new, state)
        events += new
    return events


def given(steps: Sequence[Step]) -> CaseState:
    return fold(history(steps))


def when(steps: Sequence[Step], command: cmd.Command, now: datetime = T0) -> list[Any]:
    """Fold the script's events, then decide `command` at `now`.

    Typed loosely on purpose: tables read the fields of the specific event types they expect.
    """
    return decide(given(steps), command, now=now)


def types(events: Sequence[ev.Event]) -> list[str]:
    return [e.type for e in events]
