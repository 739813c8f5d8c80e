"""Domain events for store tests, built with the domain's own models."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from domain import events as ev
from domain.application import Application, Questionnaire, Track
from domain.regions import Region
from domain.scoring import Component, Gate, ScoreBreakdown
from store.events import NewEvent

POLICY = "2026.1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def new_case_id() -> str:
    return f"case-{uuid.uuid4().hex[:12]}"


def new(event: ev.Event, *, event_id: str | None = None, key: str | None = None) -> NewEvent:
    return NewEvent(event_id=event_id or str(uuid.uuid4()), event=event, idempotency_key=key)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def application(*, track: Track = "kandas") -> Application:
    return Application.model_validate(
        {
            "full_name": "Aigerim Test",
            "born_on": date(1990, 5, 17),
            "citizenship": "MNG",
            "ethnic_kazakh": True,
            "track": track,
            "document": {"number": "E12345678", "country": "MNG", "expires_on": "2031-01-01"},
            "questionnaire": Questionnaire(
                education="bachelor", kazakh="fluent", russian="basic", work_years=8
            ),
            "preferred_regions": ("Pavlodar", "Kostanay") if track == "kandas" else (),
        }
    )


def submitted(case_id: str, *, track: Track = "kandas") -> ev.ApplicationSubmitted:
    return ev.ApplicationSubmitted(
        case_id=case_id, application=application(track=track), policy_id=POLICY, at=at(0)
    )


def approved(score: int = 71) -> list[ev.Event]:
    breakdown = ScoreBreakdown(
        policy_id=POLICY,
        components=(Component(name="age", points=10, max_points=10, reason="age 35"),),
        gates=(Gate(name="language", outcome="clear", reason="passed"),),
        total=score,
        decision="approve",
        reasons=("all gates clear",),
        submitted_at=at(0),
    )
    return [
        ev.DocumentsVerified(policy_id=POLICY, at=at(1)),
        ev.InterviewRecorded(
            interviewer_id="officer-1", passed=True, points=8, policy_id=POLICY, at=at(9)
        ),
        ev.ScoreComputed(breakdown=breakdown, policy_id=POLICY, at=at(10)),
        ev.PermitIssued(
            permit_number="P-1", valid_until=date(2031, 3, 1), policy_id=POLICY, at=at(11)
        ),
    ]


def reserved(
    region: Region = "Pavlodar", *, year: int = 2026, capacity: int = 10
) -> ev.QuotaPlaceReserved:
    return ev.QuotaPlaceReserved(
        region=region, year=year, capacity=capacity, policy_id=POLICY, at=at(12)
    )


def released(region: Region = "Pavlodar", *, year: int = 2026) -> ev.QuotaPlaceReleased:
    return ev.QuotaPlaceReleased(
        region=region, year=year, reason="left before arrival", policy_id=POLICY, at=at(13)
    )


def paid(case_id: str, period: str, *, amount: int = 15_000_000) -> ev.SupportPaid:
    return ev.SupportPaid(
        measure="rent",
        period=period,
        amount_tiyn=amount,
        idempotency_key=f"{case_id}:support:rent:{period}",
        payment_reference=f"pay-{case_id}-{period}",
        policy_id=POLICY,
        at=at(30),
    )


def kandas_breach(case_id: str, region: Region, year: int) -> list[ev.Event]:
    """A kandas case from submission to a repaid breach and closure."""
    return [
        submitted(case_id),
        *approved(),
        ev.KandasStatusGranted(certificate_number="K-1", policy_id=POLICY, at=at(11)),
        reserved(region, year=year, capacity=50),
        ev.SocialContractSigned(
            region=region,
            starts_on=date(2026, 4, 1),
            ends_on=date(2031, 4, 1),
            family_size=1,
            policy_id=POLICY,
            at=at(20),
        ),
        paid(case_id, "2026-04"),
        paid(case_id, "2026-05"),
        ev.RegionLeft(
            new_region=None, left_on=date(2026, 9, 1), source="staff", policy_id=POLICY, at=at(190)
        ),
        ev.RepaymentDemanded(
            amount_tiyn=30_000_000,
            due_on=date(2026, 12, 1),
            rule="full",
            policy_id=POLICY,
            at=at(191),
        ),
        ev.RepaymentReceived(amount_tiyn=10_000_000, reference="r-1", policy_id=POLICY, at=at(200)),
    ]
