"""`make soak`: a large cohort on the real stack with flaky agencies and a worker killed every
minute, then the invariant report (cases closed by reason, events, payments, mismatches).
The cohort arrives as cases close (at most `--open` at once, like applications over weeks),
on a 12-second year. A case's clock moves only by its own waits (docs/decisions/021), so a
loaded worker slows the cohort down without ageing it past the policy's years.

    python -m tests.fault.soak --cases 2000 --error-rate 0.2 --kill-every 60

Exits 1 if any invariant fails (tests/fault/stack.py `invariants`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.fault.stack import FaultyStack, expected_outcomes, invariants


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds")
    parser.add_argument("--seconds-per-year", type=float, default=12.0)
    parser.add_argument(
        "--open",
        type=int,
        default=150,
        help="at most this many cases open at once (0: all 2,000 at once)",
    )
    parser.add_argument("--seed", type=int, default=2030)
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="give up (seconds)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kosh-soak-") as tmp:
        stack = FaultyStack(
            Path(tmp),
            cases=args.cases,
            seed=args.seed,
            seconds_per_year=args.seconds_per_year,
            error_rate=args.error_rate,
            open_cases=args.open,
        )
        try:
            stack.start()
            worker = stack.start_worker()
            next_kill = time.monotonic() + args.kill_every
            while not stack.done():
                if time.monotonic() - started > args.timeout:
                    raise SystemExit(f"soak: not done after {args.timeout:.0f} s")
                if time.monotonic() >= next_kill:
                    stack.kill_worker(worker)
                    worker = stack.start_worker()
                    next_kill += args.kill_every
                time.sleep(0.5)
            summary = stack.wait_done(60)
        finally:
            stack.stop()
    problems = invariants(summary, args.cases, args.seed)
    books = summary["reconciliation"]
    report = {
        "cases": summary["cases"],
        "closed_by_reason": summary["closed_by_reason"],
        "expected_by_reason": dict(sorted(expected_outcomes(args.cases, args.seed).items())),
        "events": summary["events"],
        "support_paid_tiyn": books["support_paid_tiyn"],
        "payment_keys_differing": len(books["payment_keys_differing"]),
        "cases_with_differing_events": len(books["events"]["cases_differing"]),
        "events_compared_with_the_workflows": books["content"]["events_compared"],
        "events_whose_stored_content_differs_from_the_workflows": books["content"][
            "events_differing"
        ],
        "worker_kills": stack.faults.worker_kills,
        "adapter_error_rate": args.error_rate,
        "open_at_once": args.open,
        "seconds_per_year": args.seconds_per_year,
        "seconds": round(time.monotonic() - started, 1),
        "mismatches": len(problems),
        "problems": problems,
    }
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
