"""Regions of Kazakhstan and cities of republican significance (2026 administrative map)."""

from __future__ import annotations

from typing import Literal, get_args

Region = Literal[
    "Abai",
    "Akmola",
    "Aktobe",
    "Almaty Region",
    "Atyrau",
    "East Kazakhstan",
    "Jambyl",
    "Jetisu",
    "Karaganda",
    "Kostanay",
    "Kyzylorda",
    "Mangystau",
    "North Kazakhstan",
    "Pavlodar",
    "Turkistan",
    "Ulytau",
    "West Kazakhstan",
    "Astana",
    "Almaty",
    "Shymkent",
]

ALL_REGIONS: tuple[Region, ...] = get_args(Region)

LABOUR_DEFICIT_REGIONS: frozenset[Region] = frozenset(
    {
        "Akmola",
        "Abai",
        "Kostanay",
        "Pavlodar",
        "Atyrau",
        "West Kazakhstan",
        "East Kazakhstan",
        "North Kazakhstan",
    }
)
