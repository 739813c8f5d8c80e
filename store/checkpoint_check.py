"""Comparing the record with a checkpoint, event by event as the scan goes, and naming what
broke: a stream missing, events removed (the last ones or which seqs), an event whose content
or recorded_at changed, an event that appeared before the checkpoint's last position, the
whole log's running hash. Events appended after the checkpoint are counted, not judged: their
chains are what protects them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from store.checkpoint_format import (
    CONTENT_TAG,
    START,
    TAG_HEX,
    Coverage,
    Model,
    RowHash,
    chained,
)

FindingKind = Literal[
    "missing_stream",
    "removed",
    "changed",
    "recorded_at",
    "inserted",
    "digest",
    "running_hash",
    "signature",
    "unknown_key",
]
NAMED = 3  # changed events named per stream; the rest are counted


class Finding(Model):
    """One thing the record (or the checkpoint file) no longer agrees with."""

    kind: FindingKind
    case_id: str | None = None
    seq: int | None = None
    message: str


@dataclass
class _Seen:
    """A checkpointed stream as the scan finds it now."""

    count: int
    seen: bytearray  # 1 at seq-1 for every seq of the checkpoint found
    covered: int = 0
    digest: bytes = START
    changed: list[tuple[int, FindingKind]] = field(default_factory=list)


class CheckFold:
    """Folds rows (in position order) and compares them with `checkpoint`; `case_id` limits
    the comparison to one stream (the whole log's running hash is then not compared)."""

    def __init__(self, checkpoint: Coverage, *, case_id: str | None = None) -> None:
        self.checkpoint, self.case_id = checkpoint, case_id
        self.running = START
        self.events = 0  # up to the checkpoint's last position
        self.after = 0  # appended after it: chains only
        self._streams: dict[str, _Seen] = {}
        self._inserted: list[Finding] = []

    def add(self, row: Mapping[str, Any], hashed: RowHash) -> None:
        case_id, seq, position = row["case_id"], row["seq"], row["position"]
        before = position <= self.checkpoint.last_position
        if before:
            self.running = chained(self.running, hashed)
            self.events += 1
        head = self.checkpoint.streams.get(case_id)
        if head is not None and 1 <= seq <= head.count:
            stream = self._streams.get(case_id)
            if stream is None:
                stream = self._streams[case_id] = _Seen(head.count, bytearray(head.count))
            stream.seen[seq - 1] = 1
            stream.covered += 1
            stream.digest = chained(stream.digest, hashed)
            expected = head.tags[(seq - 1) * TAG_HEX : seq * TAG_HEX]
            found = hashed.tag.hex()
            if expected != found:
                split = 2 * CONTENT_TAG
                kind: FindingKind = (
                    "changed" if expected[:split] != found[:split] else "recorded_at"
                )
                stream.changed.append((seq, kind))
        elif before:
            self._inserted.append(
                Finding(
                    kind="inserted",
                    case_id=case_id,
                    seq=seq,
                    message=f"case {case_id} seq {seq}: not in the checkpoint, yet stored before "
                    f"its last position {self.checkpoint.last_position} (inserted)",
                )
            )
        else:
            self.after += 1

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for case_id, head in self.checkpoint.streams.items():
            if self.case_id is not None and case_id != self.case_id:
                continue
            stream = self._streams.get(case_id)
            if stream is None:
                found.append(_missing(case_id, head.count))
                continue
            found += _stream_findings(case_id, stream, head.digest)
        found += self._inserted
        if self.case_id is None and self.running.hex() != self.checkpoint.running_hash:
            found.append(
                Finding(
                    kind="running_hash",
                    message=f"the log up to position {self.checkpoint.last_position}: "
                    f"{self.checkpoint.events} events at the checkpoint, {self.events} now, "
                    "and its running hash differs",
                )
            )
        return found


def _missing(case_id: str, count: int) -> Finding:
    held = f"{count} event{'s' if count != 1 else ''}"
    return Finding(
        kind="missing_stream",
        case_id=case_id,
        message=f"case {case_id}: missing (it held {held} at the checkpoint)",
    )


def _stream_findings(case_id: str, stream: _Seen, digest: str) -> list[Finding]:
    found: list[Finding] = []
    missing = [i + 1 for i, seen in enumerate(stream.seen) if not seen]
    if missing:
        found.append(
            Finding(
                kind="removed",
                case_id=case_id,
                seq=missing[0],
                message=f"case {case_id}: {stream.count} events at the checkpoint, "
                f"{stream.covered} now ({_removed(missing, stream.count)})",
            )
        )
    for seq, kind in stream.changed[:NAMED]:
        what = "content" if kind == "changed" else "recorded_at"
        found.append(
            Finding(
                kind=kind,
                case_id=case_id,
                seq=seq,
                message=f"case {case_id} seq {seq}: {what} differs from the checkpoint",
            )
        )
    if len(stream.changed) > NAMED:
        more = len(stream.changed) - NAMED
        found.append(
            Finding(
                kind=stream.changed[NAMED][1],
                case_id=case_id,
                seq=stream.changed[NAMED][0],
                message=f"case {case_id}: {more} more events differ from the checkpoint",
            )
        )
    if not found and stream.digest.hex() != digest:
        found.append(
            Finding(
                kind="digest",
                case_id=case_id,
                message=f"case {case_id}: its events differ from the checkpoint (digest)",
            )
        )
    return found


def _removed(missing: list[int], count: int) -> str:
    """ "the last event was removed", "the last 2 events were removed", "seqs 2, 5 were
    removed"."""
    if missing == list(range(count - len(missing) + 1, count + 1)):
        if len(missing) == 1:
            return "the last event was removed"
        return f"the last {len(missing)} events were removed"
    shown = ", ".join(str(s) for s in missing[:10]) + (", ..." if len(missing) > 10 else "")
    return f"seq {shown} was removed" if len(missing) == 1 else f"seqs {shown} were removed"
