"""What a case costs Temporal: runs, history events and bytes per case, by path (`make bench`).

Runs a demo cohort to the end with `kosh dev --demo N --exit-when-done` (one case of every
path per ten, and employers' requests on every labour path), then reopens the stopped dev
server on the same file and reads every run of every case and request. Bytes are the
history as Temporal stores it: payloads sealed by the codec.

    python -m bench.history_cost --cases 20 --seconds-per-year 4 --write docs/performance.md
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from adapters.codec import CodecKeys
from bench.common import cohort_parser, marks, publish
from cli import demo
from cli.devserver import TemporalDevServer
from cli.devstack import DevStack, cohort_options, free_port
from workflows import api, employer_api

MARK_BEGIN, MARK_END = marks("history")


def run_cohort(state: Path, cases: int, seconds_per_year: float, seed: int) -> None:
    # Employers' requests beside the applicants: each labour path twice in 20 cases.
    employers = max(5, cases // 2)
    options = cohort_options(
        cases, seconds_per_year=seconds_per_year, seed=seed, employers=employers
    )
    log, errors = state.parent / "dev.out", state.parent / "dev.err"
    with DevStack(state, options=options, log=log, errors=errors) as dev:
        dev.launch()
        dev.wait(timeout=1800)


async def measure(state: Path) -> dict[str, list[tuple[int, int, int, int]]]:
    """scenario -> per case: (runs, events, largest run's events, bytes)."""
    scenarios: dict[str, str] = json.loads((state / "demo.json").read_text())
    labour: dict[str, str] = json.loads((state / demo.LABOUR_BOOK).read_text())
    ids = {api.case_workflow_id(c): name for c, name in scenarios.items()}
    ids |= {employer_api.request_workflow_id(r): name for r, name in labour.items()}
    keys = CodecKeys.from_json((state / "codec-keys.json").read_text(), source="state")
    server = TemporalDevServer(state, free_port(), free_port())
    server.start()
    found: dict[str, list[tuple[int, int, int, int]]] = defaultdict(list)
    try:
        client = await server.wait_ready(keys=keys)
        for wid, scenario in sorted(ids.items()):
            runs = [w async for w in client.list_workflows(f"WorkflowId = '{wid}'")]
            sizes, size_bytes = [], 0
            for run in runs:
                history = await client.get_workflow_handle(wid, run_id=run.run_id).fetch_history()
                sizes.append(len(history.events))
                size_bytes += sum(e.ByteSize() for e in history.events)
            found[scenario].append((len(runs), sum(sizes), max(sizes), size_bytes))
    finally:
        server.stop()
    return found


def table(found: dict[str, list[tuple[int, int, int, int]]]) -> str:
    rows = [
        "| path | cases | runs per case | events per case | largest run (events) | KiB per case |",
        "|---|---|---|---|---|---|",
    ]
    for scenario, cases in sorted(found.items()):
        n = len(cases)
        runs = sum(c[0] for c in cases) / n
        events = sum(c[1] for c in cases) / n
        largest = max(c[2] for c in cases)
        kib = sum(c[3] for c in cases) / n / 1024
        rows.append(f"| {scenario} | {n} | {runs:.1f} | {events:.0f} | {largest} | {kib:.1f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = cohort_parser(__doc__, cases=20, seconds_per_year=4.0)
    parser.add_argument("--write", type=Path, help="Replace the measured section of this file.")
    args = parser.parse_args(args_list)
    with tempfile.TemporaryDirectory(prefix="kosh-history-") as tmp:
        state = Path(tmp) / "state"
        run_cohort(state, args.cases, args.seconds_per_year, args.seed)
        found = asyncio.run(measure(state))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            MARK_BEGIN,
            f"Measured {when} on {platform.platform()} with",
            f"`python -m bench.history_cost {' '.join(args_list)}`:",
            "",
            table(found),
            MARK_END,
        ]
    )
    publish(text, args.write, (MARK_BEGIN, MARK_END))


if __name__ == "__main__":
    main()
