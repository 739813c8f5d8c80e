"""Published policy versions in the record (store/policies.py): a version is appended to its
own stream with who published it and why, read back through the same model and rules, never
published twice under one id, chained like every stream (so `kosh events --verify` and the
checkpoints cover it), and never read as an applicant's stream."""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg
import pytest

from domain import policy as pol
from domain.policy import POLICY_2026_1, PolicyConflictError, in_force
from domain.policy_draft import revised
from domain.policy_record import POLICY_STREAM, PolicyVersionPublished
from domain.provenance import Illustrative
from store.events import count_events
from store.integrity import verify_chains
from store.policies import known_versions, publish, published
from store.projections import WHOLE_LOG

DRAFTED = Illustrative("a draft for the regions' consultation")


@pytest.fixture(autouse=True)
def nothing_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pol, "_KNOWN", {})


def version(vid: str = "2027.1", points: int = 450) -> pol.Policy:
    return revised(
        POLICY_2026_1,
        id=vid,
        effective_from=date(2027, 7, 1),
        phased_from={"Pavlodar": date(2027, 3, 1)},
        note="the questionnaire's minimum raised",
        changes={"questionnaire.min_points": (points, DRAFTED)},
    )


def published_event(v: pol.Policy, by: str = "policy-01") -> PolicyVersionPublished:
    return PolicyVersionPublished(
        policy_id=v.id,
        at=datetime(2027, 1, 20, 9, 30, tzinfo=UTC),
        version=v,
        published_by=by,
        basis="Order of the Minister No. 12 (illustrative)",
    )


async def test_a_version_is_published_with_who_and_why_and_read_back(
    fresh_pool: asyncpg.Pool,
) -> None:
    async with fresh_pool.acquire() as conn:
        await publish(conn, published_event(version()))
        pol._KNOWN.clear()  # another process: it knows the version only from the record
        [found] = await published(conn)
        assert (found.version, found.published_by) == (version(), "policy-01")
        assert pol.policy_by_id("2027.1") == version()
        among = await known_versions(conn)
        assert [v.id for v in among] == ["2026.1", "2027.1"]
        assert in_force(date(2027, 3, 1), "Pavlodar", among).id == "2027.1"
        assert in_force(date(2027, 3, 1), "Akmola", among).id == "2026.1"
        # chained like any stream; never an applicant's
        assert await count_events(conn, case_id=POLICY_STREAM) == 1
        assert (await verify_chains(conn)).broken == []
        assert await conn.fetch(WHOLE_LOG) == []


async def test_an_id_is_published_once_and_a_built_in_one_never(fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as conn:
        await publish(conn, published_event(version()))
        with pytest.raises(PolicyConflictError, match="published already"):
            await publish(conn, published_event(version(points=460), by="policy-02"))
        with pytest.raises(PolicyConflictError, match="built into kosh"):
            await publish(conn, published_event(POLICY_2026_1))
        await publish(conn, published_event(version("2027.2", points=470)))
        assert [p.version.id for p in await published(conn)] == ["2027.1", "2027.2"]
