"""Checkpoint cost: sign a checkpoint of a large record and verify the record against it.

Seeds a fresh database (kosh's embedded PostgreSQL in a temporary folder, or `--url`'s server)
with EVENTS events in streams of PER_STREAM, inserted with one INSERT ... SELECT per batch
(the hash-chain trigger chains rows sent without their links), then times
`write_checkpoint` (settle, stream every row through a server-side cursor, fold, sign, write)
and `verify_checkpoint` (the same scan, compared with the file), with the process's peak
memory, which stays flat because rows are never all held.

    python -m bench.checkpoint --events 1000000 --per-stream 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from adapters.checkpoints import CheckpointKeys
from cli.checkpoints import Places, verify_checkpoint, write_checkpoint
from store.embedded import EmbeddedPostgres
from store.migrate import migrate

BATCH = 100_000
# A case event's payload of a realistic size (an interview: ~350 bytes of jsonb).
PAYLOAD = {
    "type": "InterviewRecorded",
    "schema_version": 1,
    "policy_id": "2026.1",
    "at": "2026-03-02T09:00:00Z",
    "interviewer_id": "staff-7",
    "outcome": "pass",
    "language_level": "fluent",
    "notes": "answered every question clearly; documents in order; " * 3,
}
SEED = """
INSERT INTO events (case_id, seq, event_id, type, schema_version, policy_id, occurred_at,
                    payload, idempotency_key)
SELECT 'bench-' || (g / $3), g % $3 + 1, 'ev-' || g, 'InterviewRecorded', 1, '2026.1',
       timestamptz '2026-03-02 09:00+00' + g * interval '1 second',
       $4::jsonb || jsonb_build_object('case_id', 'bench-' || (g / $3)),
       CASE WHEN g % 7 = 0 THEN 'bench-key-' || g END
FROM generate_series($1::bigint, $2::bigint - 1) AS g
ORDER BY g
"""


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seed(conn: asyncpg.Connection, events: int, per_stream: int) -> float:
    started = time.perf_counter()
    for first in range(0, events, BATCH):
        await conn.execute(SEED, first, min(first + BATCH, events), per_stream, json.dumps(PAYLOAD))
        print(f"  seeded {min(first + BATCH, events):,} events", file=sys.stderr)
    await conn.execute("ANALYZE events")
    return time.perf_counter() - started


async def measure(url: str, events: int, per_stream: int, folder: Path) -> dict[str, float]:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        seeding = await seed(conn, events, per_stream)
        keys = CheckpointKeys.generate("bench")
        started = time.perf_counter()
        written = await write_checkpoint(conn, keys=keys, directory=folder)
        writing = time.perf_counter() - started
        assert written.written is not None, written
        published = folder.parent / "public.json"
        published.write_text(keys.public().to_json())
        where = Places(folder, None, published)
        started = time.perf_counter()
        verified = await verify_checkpoint(conn, where, case_id=None)
        verifying = time.perf_counter() - started
        assert verified.status == "agrees", verified.findings[:3]
    finally:
        await conn.close()
    return {
        "events": written.written.events,
        "streams": written.written.streams,
        "seed_seconds": round(seeding, 1),
        "checkpoint_seconds": round(writing, 1),
        "verify_seconds": round(verifying, 1),
        "file_mib": round(Path(written.written.file).stat().st_size / 2**20, 1),
        "peak_rss_mib": round(peak_mib(), 0),
    }


def _on(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


async def on_server(admin_url: str, events: int, per_stream: int, folder: Path) -> dict[str, float]:
    """In a database of its own on `admin_url`'s server, dropped afterwards."""
    name = f"kosh_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        return await measure(_on(admin_url, name), events, per_stream, folder)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-stream", type=int, default=20)
    parser.add_argument("--url", help="a PostgreSQL admin URL (default: an embedded server)")
    args = parser.parse_args(argv)
    command = "python -m bench.checkpoint " + " ".join(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "checkpoints"
        if args.url:
            result = asyncio.run(on_server(args.url, args.events, args.per_stream, folder))
        else:
            with EmbeddedPostgres(Path(tmp) / "pg") as pg:
                result = asyncio.run(on_server(pg.url, args.events, args.per_stream, folder))
    print(json.dumps({"command": command, **result}, indent=2))


if __name__ == "__main__":
    main()
