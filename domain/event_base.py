"""What every domain event carries (domain/events.py holds the union of them all), and the
closed sets their fields draw from."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from domain.model import Model

CloseReason = Literal[
    "withdrawn",
    "rejected",
    "fulfilled",
    "breach_repaid",
    "breach_referred",
    "departed",
    "revoked",
    "permit_term_ended",
    "relocation_lapsed",
    "died",
    "citizenship_granted",
]
SupportMeasure = Literal["relocation_subsidy", "rent", "employer_subsidy", "housing_certificate"]
# The competent authorities' checks, and the written consent of the country of citizenship,
# asked and answered the same way (a request, a reply by its due date, or an escalation).
Authority = Literal["security", "criminal_record", "deportation", "citizenship_consent"]
LeftSource = Literal["registry", "staff", "border"]


class EventBase(Model):
    schema_version: int = 1
    policy_id: str
    at: AwareDatetime = Field(description="case time at which the fact happened")
