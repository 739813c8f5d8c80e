"""Staff input sent by hand to a real `kosh dev` (issue #20), with the `temporal` CLI:

- the attack, exactly as found: `temporal workflow signal -w case-<id> --name record_interview
  --input '{"interviewer_id":"staff-demo","passed":true,"points":100}'`, is refused as
  `unauthenticated` and the case still waits for its interview;
- the supported way (docs/operators.md): an assertion from `kosh assert` for the signed-in
  member, and the input sealed through the codec server by an operator, is applied, the
  interviewer on record being the member the assertion proves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.devstack import running_dev

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "KOSH_TEMPORAL_ADDRESS": "", "KOSH_DATABASE_URL": "", "COLUMNS": "200"}


def kosh(*args: str, state: Path, check: bool = True) -> Any:
    done = subprocess.run(
        [str(BIN / "kosh"), *args, "--state", str(state), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    if check:
        assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout) if done.stdout.strip() else None


def temporal(info: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "temporal"), "workflow", "signal", "--address", info["temporal_address"]]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)


def status_until(state: Path, case_id: str, ready: Any, seconds: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        status: dict[str, Any] = kosh("status", case_id, state=state)
        if ready(status):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.5)


def interview_refusals(status: dict[str, Any]) -> list[str]:
    """The rules that refused an interview outcome. The status lists every refused input: a
    family lodged in two regions may also hear a second round's word after the first placed it
    (refused as `quota_place_held`, answered `not_waiting` to that round)."""
    return [r["rule"] for r in status["refused"] if r["name"] == "interview"]


def test_a_raw_signal_is_refused_and_the_supported_way_is_applied(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with running_dev(state) as info:
        example = ROOT / "examples" / "kandas-family.json"
        case_id = kosh("submit", str(example), "--seconds-per-year", "600", state=state)["case_id"]
        workflow_id = f"case-{case_id}"
        status_until(state, case_id, lambda s: s["waiting_for"] == "interview")

        attack = '{"interviewer_id":"staff-demo","passed":true,"points":100}'
        sent = temporal(info, "-w", workflow_id, "--name", "record_interview", "--input", attack)
        assert sent.returncode == 0, sent.stderr
        refused = status_until(state, case_id, lambda s: bool(s["refused"]))
        assert interview_refusals(refused) == ["unauthenticated"]
        assert (refused["stage"], refused["decision"]) == ("scoring", None)

        # The supported way: the signed-in member's assertion (kosh dev signed the CLI in as
        # staff-demo), the input sealed by the codec server for an operator.
        proof = kosh("assert", case_id, "--request-id", "by-hand-1", state=state)
        assert (proof["workflow_id"], proof["request_id"]) == (workflow_id, "by-hand-1")
        outcome = {"passed": True, "points": 80, "request_id": "by-hand-1"}
        outcome["assertion"] = proof["assertion"]
        operator = f"Bearer {info['codec_staff']}:{info['codec_token']}"
        sent = temporal(
            info,
            "-w",
            workflow_id,
            "--name",
            "record_interview",
            "--input",
            json.dumps(outcome),
            "--codec-endpoint",
            info["codec_url"],
            "--codec-auth",
            operator,
        )
        assert sent.returncode == 0, sent.stderr
        decided = status_until(state, case_id, lambda s: s["decision"] is not None)
        assert decided["decision"] == "approve"
        assert interview_refusals(decided) == ["unauthenticated"]
        events = kosh("events", case_id, state=state)
        [recorded] = [e["event"] for e in events if e["event"]["type"] == "InterviewRecorded"]
        assert (recorded["interviewer_id"], recorded["points"]) == ("staff-demo", 80)
