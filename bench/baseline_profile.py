"""Where the kosh worker's time goes: py-spy's raw (collapsed) stacks summed by area and by
function, and their section of docs/performance.md (bench/baseline.py --profile)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from bench.common import marks, when

PROFILE_BEGIN, PROFILE_END = marks("profile")


def top_costs(collapsed: str, limit: int = 12) -> tuple[int, list[tuple[str, float, float]]]:
    """(samples, [(function, self share, inclusive share)]) from py-spy's raw format."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for stack, count in _stacks(collapsed):
        frames = [_frame(f) for f in stack if f]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return 0, []
    ranked = [(name, own[name] / total, inclusive[name] / total) for name, _ in own.most_common()]
    return total, ranked[:limit]


# Where a sample's time goes: the first of these its stack meets, from the innermost frame
# out (a JSON encoder called by pydantic counts for pydantic).
AREAS = (
    ("imports (module loading)", ("importlib", "_bootstrap")),
    ("payload codec (AES-GCM)", ("adapters/codec.py", "cryptography")),
    ("pydantic (validation, serialisation)", ("pydantic",)),
    ("logging (structlog)", ("structlog", "/logging/", "activities/logging.py")),
    ("PostgreSQL client (asyncpg)", ("asyncpg",)),
    ("HTTP (agencies, notices, console)", ("httpx", "httpcore", "uvicorn", "starlette", "h11")),
    ("kosh domain and workflow code", ("/domain/", "/workflows/")),
    ("Temporal SDK (bridge, sandbox, converter)", ("temporalio",)),
    ("asyncio event loop and threads", ("asyncio", "selectors.py", "futures/thread.py")),
)


def areas(collapsed: str) -> list[tuple[str, float]]:
    """Each area's share of the samples (py-spy's raw format), largest first."""
    counts: Counter[str] = Counter()
    total = 0
    for stack, count in _stacks(collapsed):
        total += count
        counts[_area(stack)] += count
    return [(area, n / total) for area, n in counts.most_common()] if total else []


def _stacks(collapsed: str) -> Iterator[tuple[list[str], int]]:
    """Each sampled stack's frames, outermost first, and its count (py-spy's raw format)."""
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def _area(frames: list[str]) -> str:
    for frame in reversed(frames):
        for area, signs in AREAS:
            if any(sign in frame for sign in signs):
                return area
    return "other"


def _frame(frame: str) -> str:
    """'function (path/to/file.py:12)' -> 'function (file.py)'; where it lives matters,
    not the line."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0] or where.rstrip(")")
    parts = path.split("/")
    short = "/".join(parts[-2:]) if "site-packages" not in path else _package(parts)
    return f"{name} ({short})"


def _package(parts: list[str]) -> str:
    at = parts.index("site-packages")
    return "/".join(parts[at + 1 : at + 3]) if len(parts) > at + 2 else "/".join(parts[at + 1 :])


def profile_report(
    samples: int,
    costs: list[tuple[str, float, float]],
    shares_by_area: list[tuple[str, float]],
    argv: list[str],
) -> str:
    by_area = ["| where the time goes | share of samples |", "|---|---|"]
    by_area += [f"| {area} | {share:.1%} |" for area, share in shares_by_area]
    rows = ["| function (where) | own time | with callees |", "|---|---|---|"]
    rows += [f"| `{name}` | {own:.1%} | {inc:.1%} |" for name, own, inc in costs]
    return "\n".join(
        [
            PROFILE_BEGIN,
            f"Sampled {when()} by py-spy at 50 Hz ({samples} samples of the kosh dev process",
            "in the kosh phase: its worker, the demo's staff, the simulated agencies, the",
            "console), from the moment the stack was up, with",
            f"`python -m bench.baseline {' '.join(argv)}`. By area (each sample counted for the",
            "innermost frame that names one):",
            "",
            *by_area,
            "",
            "The functions with the most time of their own:",
            "",
            *rows,
            PROFILE_END,
        ]
    )
