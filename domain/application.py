"""What an applicant submits. Personal data lives here, never in logs or search attributes."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from domain.model import Model
from domain.regions import LABOUR_DEFICIT_REGIONS, Region
from domain.text import plain_line

Track = Literal["kandas", "general"]
Level = Literal["none", "basic", "intermediate", "fluent"]


class Document(Model):
    kind: Literal["passport"] = "passport"
    number: str = Field(pattern=r"^[A-Z0-9]{6,9}[0-9]$", description="ends in an MRZ check digit")
    country: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3")
    expires_on: date


class FamilyMember(Model):
    relation: Literal["spouse", "child", "parent"]
    full_name: str = Field(min_length=1, max_length=200)
    born_on: date


class Questionnaire(Model):
    """The digital questionnaire's answers (scored automatically)."""

    education: Literal["none", "secondary", "vocational", "bachelor", "master", "doctorate"]
    kazakh: Level
    russian: Level
    english: Literal["none", "ielts_5_5", "ielts_7"] = "none"
    work_years: int = Field(ge=0, le=60)
    military_service: bool = False
    health_fit: bool = True
    criminal_record: bool = False
    deported_before: bool = False


class Application(Model):
    """A residence-permit application; kandas applicants also ask for support.

    Field order matters: a field validator sees only the fields declared before it in
    `info.data`, so `track` comes before `ethnic_kazakh` and `preferred_regions`, and each
    cross-field rule is raised on the field it names (the error's `loc`).
    """

    full_name: str = Field(min_length=1, max_length=200)
    born_on: date
    citizenship: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3")
    track: Track
    ethnic_kazakh: bool
    document: Document
    questionnaire: Questionnaire
    family: tuple[FamilyMember, ...] = Field(default=(), max_length=20)
    # validate_default: a kandas application that omits the field must still be refused
    preferred_regions: tuple[Region, ...] = Field(default=(), max_length=8, validate_default=True)

    @field_validator("born_on")
    @classmethod
    def _plausible_birth(cls, value: date) -> date:
        if value.year < 1900:
            raise ValueError("born_on must be after 1900")
        return value

    @field_validator("ethnic_kazakh")
    @classmethod
    def _kandas_are_ethnic_kazakhs(cls, value: bool, info: ValidationInfo) -> bool:
        if info.data.get("track") == "kandas" and not value:
            raise ValueError("track 'kandas' requires ethnic_kazakh = true")
        return value

    @field_validator("preferred_regions")
    @classmethod
    def _region_rules(cls, value: tuple[Region, ...], info: ValidationInfo) -> tuple[Region, ...]:
        if info.data.get("track") == "kandas":
            if not value:
                raise ValueError("track 'kandas' needs at least one preferred region")
            outside = [r for r in value if r not in LABOUR_DEFICIT_REGIONS]
            if outside:
                raise ValueError(
                    f"preferred_regions {outside} are not labour-deficit regions "
                    f"(allowed: {sorted(LABOUR_DEFICIT_REGIONS)})"
                )
        if len(set(value)) != len(value):
            raise ValueError("preferred_regions must not repeat a region")
        return value

    @property
    def family_size(self) -> int:
        return 1 + len(self.family)


def age_on(born_on: date, on: date) -> int:
    """Whole years of age on a date."""
    return on.year - born_on.year - ((on.month, on.day) < (born_on.month, born_on.day))


def intake_problems(app: Application, today: date) -> list[tuple[str, str]]:
    """What an intake desk refuses that the model alone cannot know or should not enforce
    on records already stored: (field, rule) pairs, empty when the application may be sent.
    Births after today; names with control or bidirectional-override characters; the same
    family member listed twice."""
    problems: list[tuple[str, str]] = []

    def name(field: str, value: str) -> None:
        try:
            plain_line(value)
        except ValueError as exc:
            problems.append((field, str(exc)))

    name("full_name", app.full_name)
    if app.born_on > today:
        problems.append(("born_on", f"is after today ({today.isoformat()})"))
    seen: dict[tuple[str, date], int] = {}
    for i, member in enumerate(app.family):
        name(f"family.{i}.full_name", member.full_name)
        if member.born_on > today:
            problems.append((f"family.{i}.born_on", f"is after today ({today.isoformat()})"))
        if member.born_on.year < 1900:
            problems.append((f"family.{i}.born_on", "must be after 1900"))
        key = (" ".join(member.full_name.casefold().split()), member.born_on)
        if key in seen:
            problems.append(
                (f"family.{i}", f"repeats family.{seen[key]} (same name and birth date)")
            )
        else:
            seen[key] = i
    return problems
