"""Python hooks for the engine tests: they record what they saw, or fail on demand."""

from typing import Any

CALLS: list[dict[str, Any]] = []
FAIL_AT: set[str] = set()


def record(context: dict[str, Any]) -> bool:
    CALLS.append(dict(context))
    return context["event"] not in FAIL_AT
