"""What the demo's applicants and employers' workers share: a scenario, and the names and
citizenships their synthetic people are drawn from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    track: str
    expected: str


FIRST = ("Aigerim", "Nurlan", "Dana", "Yerlan", "Saule", "Bolat", "Aruzhan", "Timur")
LAST = ("Bekova", "Seitkali", "Omarov", "Zhaksylyk", "Tulegen", "Abenov")
COUNTRIES = ("MNG", "CHN", "UZB", "RUS", "TKM", "IRN", "TUR")
