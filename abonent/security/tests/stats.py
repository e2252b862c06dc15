"""Counters the security suites fill in and print at the end of the run."""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()
LABELS = {
    "fuzz_requests": "API fuzzing: requests sent",
    "fuzz_operations": "API fuzzing: operations fuzzed",
    "fuzz_5xx": "API fuzzing: 5xx answers",
    "matrix_routes": "access matrix: routes with an object id",
    "matrix_requests": "access matrix: requests (anonymous, other, missing id, owner, staff)",
    "faults": "faults injected",
}


def summary() -> list[str]:
    return [f"{LABELS.get(k, k)}: {v}" for k, v in sorted(COUNTS.items()) if v]
