"""Signed checkpoints make the record tamper-evident from outside the database: each attack
below is made as a database superuser would (the append-only guard lifted, triggers off), and
`verify_checkpoint` names the stream and what changed. Each test has a database of its own:
a checkpoint covers the whole record."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg
import pytest

from adapters.checkpoints import CheckpointKeys
from cli.checkpoints import Places, Verified, verify_checkpoint, write_checkpoint
from store.events import append_events
from store.integrity import verify_chains
from store.labour import append_labour_events
from store.records import NewLabourEvent, labour_stream
from tests.store.factories import approved, new, new_case_id, submitted
from tests.store.test_labour import submitted as labour_submitted


class Record:
    """A test's own record, its checkpoint folder and signing key."""

    def __init__(self, pool: asyncpg.Pool, folder: Path) -> None:
        self.pool, self.folder = pool, folder / "checkpoints"
        self.key_file = folder / "checkpoint-key.json"
        CheckpointKeys.generate("c1").save(self.key_file)

    @property
    def places(self) -> Places:
        return Places(self.folder, self.key_file, None)

    async def case(self) -> str:
        """A case of five events: one, then a batch of four."""
        case_id = new_case_id()
        async with self.pool.acquire() as conn:
            await append_events(
                conn, case_id=case_id, expected_seq=0, events=[new(submitted(case_id))]
            )
            await append_events(
                conn, case_id=case_id, expected_seq=1, events=list(map(new, approved()))
            )
        return case_id

    async def labour_request(self) -> str:
        request_id = f"lr-{uuid.uuid4().hex[:10]}"
        event = NewLabourEvent(
            event_id=str(uuid.uuid4()), event=labour_submitted(request_id, "BIN-1")
        )
        async with self.pool.acquire() as conn:
            await append_labour_events(conn, request_id=request_id, expected_seq=0, events=[event])
        return labour_stream(request_id)

    async def checkpoint(self) -> Path:
        keys = CheckpointKeys.load(self.key_file)
        async with self.pool.acquire() as conn:
            written = await write_checkpoint(conn, keys=keys, directory=self.folder)
        assert written.outcome == "written" and written.written is not None, written
        return Path(written.written.file)

    async def verify(self, *, case_id: str | None = None) -> Verified:
        async with self.pool.acquire() as conn:
            return await verify_checkpoint(conn, self.places, case_id=case_id)

    async def as_superuser(self, sql: str, *args: object) -> None:
        """What someone holding the database can do: lift the guard, change the record."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
            await conn.execute(sql, *args)
            await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")

    async def rechain(self, case_id: str, from_seq: int) -> None:
        """Recompute the stream's hash chain from `from_seq` on with the database's own
        function, as a careful attacker would (no trigger fires: replica role)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            last = await conn.fetchval("SELECT max(seq) FROM events WHERE case_id = $1", case_id)
            for seq in range(from_seq, last + 1):
                await conn.execute(
                    "UPDATE events e SET prev_hash = p.hash, hash = events_link_hash(p.hash, e) "
                    "FROM events p WHERE p.case_id = e.case_id AND p.seq = e.seq - 1 "
                    "AND e.case_id = $1 AND e.seq = $2",
                    case_id,
                    seq,
                )

    async def chains_broken(self) -> list[str]:
        async with self.pool.acquire() as conn:
            return [b.case_id for b in (await verify_chains(conn)).broken]


@pytest.fixture
async def record(fresh_pool: asyncpg.Pool, tmp_path: Path) -> Record:
    return Record(fresh_pool, tmp_path)


def messages(verified: Verified) -> list[str]:
    assert verified.status == "broken", verified
    return [f.message for f in verified.findings]


EDIT = "UPDATE events SET payload = jsonb_set(payload, '{policy_id}', '\"2099.9\"') "


async def test_an_untampered_record_agrees_and_later_events_are_chains_only(record: Record) -> None:
    cases = [await record.case(), await record.case()]
    stream = await record.labour_request()
    path = await record.checkpoint()
    body = json.loads(path.read_text())["body"]
    assert set(body["streams"]) == {*cases, stream} and body["events"] == 11
    assert body["key_id"] == "c1" and body["format"] == "kosh-checkpoint/1"
    await record.case()
    verified = await record.verify()
    assert (verified.status, verified.findings, verified.after) == ("agrees", [], 5)
    assert verified.checkpoint is not None and verified.checkpoint.events == 11


async def test_an_edited_event_is_named(record: Record) -> None:
    case_id, other = await record.case(), await record.case()
    await record.checkpoint()
    await record.as_superuser(EDIT + "WHERE case_id = $1 AND seq = 3", case_id)
    found = messages(await record.verify())
    assert f"case {case_id} seq 3: content differs from the checkpoint" in found
    assert not any(other in m for m in found)


async def test_a_deleted_middle_event_is_named(record: Record) -> None:
    case_id = await record.case()
    await record.checkpoint()
    await record.as_superuser("DELETE FROM events WHERE case_id = $1 AND seq = 2", case_id)
    found = messages(await record.verify())
    assert f"case {case_id}: 5 events at the checkpoint, 4 now (seq 2 was removed)" in found


async def test_a_deleted_last_event_is_named(record: Record) -> None:
    """The chains cannot see this one: what is left is a well-formed chain."""
    case_id = await record.case()
    await record.checkpoint()
    await record.as_superuser("DELETE FROM events WHERE case_id = $1 AND seq = 5", case_id)
    assert await record.chains_broken() == []
    found = messages(await record.verify())
    assert (
        f"case {case_id}: 5 events at the checkpoint, 4 now (the last event was removed)" in found
    )


async def test_a_deleted_case_and_a_deleted_labour_stream_are_named(record: Record) -> None:
    case_id, kept = await record.case(), await record.case()
    stream = await record.labour_request()
    await record.checkpoint()
    await record.as_superuser(
        "DELETE FROM events WHERE case_id = ANY($1::text[])", [case_id, stream]
    )
    assert await record.chains_broken() == []
    found = messages(await record.verify())
    assert f"case {case_id}: missing (it held 5 events at the checkpoint)" in found
    assert f"case {stream}: missing (it held 1 event at the checkpoint)" in found
    assert not any(kept in m for m in found)
    assert any("running hash differs" in m for m in found)


async def test_an_edit_with_the_chain_recomputed_by_the_database_is_named(record: Record) -> None:
    case_id = await record.case()
    await record.checkpoint()
    await record.as_superuser(EDIT + "WHERE case_id = $1 AND seq = 2", case_id)
    await record.rechain(case_id, from_seq=2)
    assert await record.chains_broken() == []  # the chains agree with the forgery
    found = messages(await record.verify())
    assert f"case {case_id} seq 2: content differs from the checkpoint" in found


async def test_a_changed_recorded_at_is_named(record: Record) -> None:
    case_id = await record.case()
    await record.checkpoint()
    await record.as_superuser(
        "UPDATE events SET recorded_at = recorded_at - interval '3 days' "
        "WHERE case_id = $1 AND seq = 1",
        case_id,
    )
    assert await record.chains_broken() == []  # recorded_at is not in the chain
    found = messages(await record.verify())
    assert found[0] == f"case {case_id} seq 1: recorded_at differs from the checkpoint"


async def test_an_edited_checkpoint_file_does_not_verify(record: Record) -> None:
    case_id = await record.case()
    path = await record.checkpoint()
    envelope = json.loads(path.read_text())
    envelope["body"]["streams"][case_id]["count"] = 3  # to hide a deleted last event
    path.write_text(json.dumps(envelope))
    [finding] = (await record.verify()).findings
    assert (finding.kind, finding.message) == (
        "signature",
        f"checkpoint {path.name}: signature does not verify",
    )


async def test_a_swapped_signature_does_not_verify(record: Record) -> None:
    await record.case()
    first = await record.checkpoint()
    await record.case()
    second = await record.checkpoint()
    envelope = json.loads(second.read_text())
    envelope["signature"] = json.loads(first.read_text())["signature"]
    second.write_text(json.dumps(envelope))
    assert [f.kind for f in (await record.verify()).findings] == ["signature"]
    # signed by another key that calls itself c1
    envelope["body"]["written_at"] = "2099-01-01T00:00:00Z"
    second.write_text(json.dumps(CheckpointKeys.generate("c1").sign(envelope["body"])))
    assert [f.kind for f in (await record.verify()).findings] == ["signature"]


async def test_rotation_keeps_older_checkpoints_verifiable(record: Record) -> None:
    await record.case()
    await record.checkpoint()  # by c1
    keys = CheckpointKeys.load(record.key_file).with_new_active("c2")
    keys.save(record.key_file)
    published = record.key_file.parent / "public.json"
    published.write_text(keys.public().to_json())
    where = Places(record.folder, None, published)
    async with record.pool.acquire() as conn:
        assert (await verify_checkpoint(conn, where, case_id=None)).status == "agrees"
        await record.case()
        newest = await record.checkpoint()  # by c2, after checking the record extends c1's
        assert json.loads(newest.read_text())["body"]["key_id"] == "c2"
        assert (await verify_checkpoint(conn, where, case_id=None)).status == "agrees"
        # public keys that never held c2 do not vouch for it
        published.write_text(CheckpointKeys.generate("c1").public().to_json())
        [finding] = (await verify_checkpoint(conn, where, case_id=None)).findings
    assert finding.kind == "unknown_key" and "'c2'" in finding.message


async def test_the_writer_refuses_a_record_that_no_longer_extends_its_checkpoint(
    record: Record,
) -> None:
    """Otherwise tampering between two checkpoints would be signed into the second."""
    case_id = await record.case()
    first = await record.checkpoint()
    await record.as_superuser("DELETE FROM events WHERE case_id = $1 AND seq = 5", case_id)
    async with record.pool.acquire() as conn:
        keys = CheckpointKeys.load(record.key_file)
        refused = await write_checkpoint(conn, keys=keys, directory=record.folder)
        unchanged = await verify_checkpoint(conn, record.places, case_id=case_id)
    assert refused.outcome == "refused" and refused.previous is not None
    assert [f.kind for f in refused.findings] == ["removed", "running_hash"]
    assert sorted(record.folder.iterdir()) == [first]
    assert [f.kind for f in unchanged.findings] == ["removed"]  # one stream: no running hash


async def test_an_event_slipped_in_before_the_checkpoints_end_is_named(record: Record) -> None:
    case_id = await record.case()
    await record.checkpoint()
    await record.as_superuser(
        "INSERT INTO events (position, case_id, seq, event_id, type, schema_version, policy_id, "
        "occurred_at, payload) OVERRIDING SYSTEM VALUE "
        "SELECT 0, case_id, 9, 'forged', type, schema_version, policy_id, occurred_at, payload "
        "FROM events WHERE case_id = $1 AND seq = 5",
        case_id,
    )
    found = messages(await record.verify())
    assert any(m.startswith(f"case {case_id} seq 9: not in the checkpoint") for m in found)


async def test_nothing_new_writes_nothing(record: Record) -> None:
    await record.case()
    first = await record.checkpoint()
    async with record.pool.acquire() as conn:
        keys = CheckpointKeys.load(record.key_file)
        again = await write_checkpoint(conn, keys=keys, directory=record.folder)
    assert again.outcome == "unchanged" and sorted(record.folder.iterdir()) == [first]


async def test_labour_streams_are_covered(record: Record) -> None:
    stream = await record.labour_request()
    await record.checkpoint()
    await record.as_superuser(
        EDIT.replace("'{policy_id}'", "'{at}'") + "WHERE case_id = $1", stream
    )
    found = messages(await record.verify())
    assert f"case {stream} seq 1: content differs from the checkpoint" in found
