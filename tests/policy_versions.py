"""A second policy version that exists only in tests.

kosh's versions in force are the ones with a public basis (decision 015); no second phase is
published yet. To keep proving that a rule change never reaches a running case, tests register
this version beside 2026.1, effective 2026-07-01: quarterly residence checks and a 10-day
interview deadline, each stated as what it is (a test's figure, not the ministry's).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest

import domain.policy
from domain.policy import POLICY_2026_1, Policy
from domain.policy_draft import revised
from domain.provenance import Illustrative, Projection

SECOND_PHASE = revised(
    POLICY_2026_1,
    id="test.2",
    effective_from=date(2026, 7, 1),
    note="TEST ONLY: a second phase with quarterly residence checks and a 10-day interview"
    " deadline, to show a rule change under running cases.",
    changes={
        "contract.monitoring_interval_days": (91, Illustrative("test only: quarterly checks")),
        "deadlines.interview_days": (10, Illustrative("test only: a shorter interview window")),
    },
)


def with_second_phase(monkeypatch: pytest.MonkeyPatch) -> Policy:
    """Register SECOND_PHASE beside the versions in force, for one test."""
    monkeypatch.setattr(domain.policy, "POLICIES", (*domain.policy.POLICIES, SECOND_PHASE))
    return SECOND_PHASE


# The time-skipping test server's clock is one per module and runs on through every case a
# module lives through: five-year cases one after another take it past 2031, the last year
# 2026.1 projects figures for. Tests on that server run 2026.1 with the years their clock
# reaches projected the same way (and said to be the tests'); the real version's limits are
# tested in tests/domain/test_policy.py.
TEST_CLOCK_YEARS = range(2032, 2127)
TEST_CLOCK = Projection(basis="test only: 2026 carried forward for the test server's clock")
POLICY_2026_1_ON_THE_TEST_CLOCK = revised(
    POLICY_2026_1,
    id=POLICY_2026_1.id,
    effective_from=POLICY_2026_1.effective_from,
    note=POLICY_2026_1.note,
    changes={
        f"{table}.{year}": (value, TEST_CLOCK)
        for year in TEST_CLOCK_YEARS
        for table, value in (
            ("mrp_tenge", POLICY_2026_1.mrp(2026)),
            ("kandas_quota", dict(POLICY_2026_1.kandas_quota[2026])),
            ("labour.quotas", POLICY_2026_1.labour.quotas[2026]),
        )
    },
)


@contextmanager
def on_the_test_clock() -> Iterator[None]:
    """2026.1 with the test server's years, for as long as a test server or rig runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(domain.policy, "POLICIES", (POLICY_2026_1_ON_THE_TEST_CLOCK,))
        yield
