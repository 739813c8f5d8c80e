"""Signed checkpoints of the record (decision 009): writing one (after checking the record
still extends the newest one), and checking the record against the newest one. Shared by
`kosh events checkpoint`, `kosh events --verify` and `kosh dev`'s interval writer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import asyncpg
import structlog
from pydantic import BaseModel, ValidationError

from adapters import checkpoints as files
from adapters.checkpoints import (
    CheckpointFileError,
    CheckpointKeyError,
    CheckpointKeys,
    CheckpointPublicKeys,
    CheckpointSignatureError,
)
from cli.stack import find_stack
from settings import Settings
from store.checkpoint_check import CheckFold, Finding
from store.checkpoint_format import CheckpointBody, CoverageFold, utc_text
from store.checkpoint_scan import Sink, scan, settled_position
from store.pool import Conn

log = structlog.get_logger("kosh.checkpoints")


@dataclass(frozen=True)
class Places:
    """Where checkpoints live and the keys that sign and verify them (None: not set)."""

    directory: Path | None
    key_file: Path | None
    public_keys_file: Path | None
    keep: int = 100

    def signing_keys(self) -> CheckpointKeys:
        if self.key_file is None:
            raise CheckpointKeyError("no signing key: set KOSH_CHECKPOINT_KEY_FILE")
        return CheckpointKeys.load(self.key_file)

    def public_keys(self) -> CheckpointPublicKeys:
        if self.public_keys_file is not None:
            return CheckpointPublicKeys.load(self.public_keys_file)
        if self.key_file is not None:
            return CheckpointKeys.load(self.key_file).public()
        raise CheckpointKeyError("no public keys: set KOSH_CHECKPOINT_PUBLIC_KEYS_FILE")


def places(state: Path | None) -> Places:
    """The checkpoint settings (KOSH_CHECKPOINT_DIR and its keys) first; else a running `kosh
    dev`'s, from its stack file."""
    settings = Settings.from_env()
    stack = find_stack(state)

    def path(own: Path | None, of_stack: str | None) -> Path | None:
        return own if own is not None else (Path(of_stack) if of_stack else None)

    return Places(
        directory=path(settings.checkpoint_dir, stack.checkpoint_dir),
        key_file=path(settings.checkpoint_key_file, stack.checkpoint_key_file),
        public_keys_file=path(
            settings.checkpoint_public_keys_file, stack.checkpoint_public_keys_file
        ),
        keep=settings.checkpoint_keep,
    )


class Summary(BaseModel):
    """A checkpoint in a line: which file, signed by which key, covering what."""

    file: str
    key_id: str
    written_at: datetime
    last_position: int
    events: int
    streams: int
    running_hash: str


def summary(path: Path, body: CheckpointBody) -> Summary:
    return Summary(
        file=str(path),
        key_id=body.key_id,
        written_at=body.written_at,
        last_position=body.last_position,
        events=body.events,
        streams=len(body.streams),
        running_hash=body.running_hash,
    )


class Written(BaseModel):
    """What `write_checkpoint` did: wrote `written`, found nothing new since `previous`, or
    refused because the record no longer extends `previous` (`findings`)."""

    outcome: Literal["written", "unchanged", "refused"]
    written: Summary | None = None
    previous: Summary | None = None
    findings: list[Finding] = []
    pruned: int = 0


def opened(path: Path, public: CheckpointPublicKeys) -> CheckpointBody:
    """The checkpoint at `path`, its signature verified; CheckpointFileError if it is not one,
    CheckpointSignatureError if the signature fails."""
    envelope = files.read(path)
    body = public.verified(envelope, source=f"checkpoint {path.name}")
    try:
        return CheckpointBody.model_validate(body)
    except ValidationError as exc:
        raise CheckpointFileError(f"{path}: not a checkpoint body ({exc})") from None


async def write_checkpoint(
    conn: Conn, *, keys: CheckpointKeys, directory: Path, keep: int = 100
) -> Written:
    """Sign and write a checkpoint of the record up to its settled position, unless the record
    no longer extends the newest checkpoint (then refuse, naming what broke) or nothing was
    appended since it."""
    previous_path = files.latest(directory)
    previous = opened(previous_path, keys.public()) if previous_path else None
    last = await settled_position(conn)
    fold = CoverageFold()
    sinks: list[Sink] = [fold.add]
    check = CheckFold(previous) if previous is not None else None
    if check is not None:
        sinks.append(check.add)
    await scan(conn, sinks, upto=last)
    before = summary(previous_path, previous) if previous_path and previous else None
    if check is not None and (findings := check.findings()):
        return Written(outcome="refused", previous=before, findings=findings)
    coverage = fold.coverage()
    if previous is not None and (previous.last_position, previous.running_hash) == (
        coverage.last_position,
        coverage.running_hash,
    ):
        return Written(outcome="unchanged", previous=before)
    body = CheckpointBody(**coverage.model_dump(), key_id=keys.active, written_at=datetime.now(UTC))
    name = files.file_name(utc_text(body.written_at), body.last_position)
    path = files.write(directory, name, keys.sign(body.model_dump(mode="json")))
    pruned = files.prune(directory, keep)
    return Written(
        outcome="written", written=summary(path, body), previous=before, pruned=len(pruned)
    )


class Verified(BaseModel):
    """The record against the newest checkpoint: `none` (no checkpoint to check against),
    `agrees`, or `broken` (`findings` names what)."""

    status: Literal["none", "agrees", "broken"]
    checkpoint: Summary | None = None
    findings: list[Finding] = []
    after: int = 0  # events appended after the checkpoint: checked by their chains only
    note: str = ""


async def verify_checkpoint(conn: Conn, where: Places, *, case_id: str | None) -> Verified:
    """Check the record (or one stream) against the newest checkpoint: its signature first,
    then every event up to its last position. CheckpointFileError / CheckpointKeyError when
    the file or the keys cannot be used at all."""
    if where.directory is None:
        return Verified(status="none", note="no checkpoint folder is set (KOSH_CHECKPOINT_DIR)")
    path = files.latest(where.directory)
    if path is None:
        return Verified(status="none", note=f"no checkpoint in {where.directory} yet")
    try:
        body = opened(path, where.public_keys())
    except CheckpointSignatureError as exc:
        kind = "unknown_key" if exc.unknown_key else "signature"
        return Verified(status="broken", findings=[Finding(kind=kind, message=str(exc))])
    fold = CheckFold(body, case_id=case_id)
    await scan(conn, [fold.add], case_id=case_id)
    findings = fold.findings()
    return Verified(
        status="broken" if findings else "agrees",
        checkpoint=summary(path, body),
        findings=findings,
        after=fold.after,
    )


async def checkpoint_quietly(
    pool: asyncpg.Pool, *, keys: CheckpointKeys, directory: Path, keep: int = 100
) -> Written | None:
    """`kosh dev`'s side task: one checkpoint, any failure logged (the demo goes on)."""
    try:
        async with pool.acquire() as conn:
            done = await write_checkpoint(conn, keys=keys, directory=directory, keep=keep)
    except Exception:
        log.exception("checkpoint_failed", directory=str(directory))
        return None
    if done.outcome == "refused":
        log.error("checkpoint_refused", findings=[f.message for f in done.findings[:10]])
    elif done.written is not None:
        log.info("checkpoint_written", **done.written.model_dump(mode="json"))
    return done


async def keep_checkpointing(
    pool: asyncpg.Pool, *, keys: CheckpointKeys, directory: Path, seconds: float
) -> None:
    """A checkpoint every `seconds`, until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        await checkpoint_quietly(pool, keys=keys, directory=directory)
