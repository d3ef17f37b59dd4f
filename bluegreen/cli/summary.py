"""The deployment's Markdown report appended to a CI job's summary: when
$GITHUB_STEP_SUMMARY names a file, `deploy`, `promote`, `rollback` and `resume` append
their deployment's report to it at the end (`release`, and `rollback`/`resume --release`,
the release's), whatever the outcome (succeeded, rolled back,
paused, rollback failed). An error before a deployment ran (bad configuration, lock held)
has no deployment to report, and adds nothing.

Rules: appended, never overwritten (earlier steps of the job wrote there too); a summary
that cannot be written is a warning on stderr, never a change of the exit code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from bluegreen.cli import shared
from bluegreen.errors import BluegreenError

ENV_VAR = "GITHUB_STEP_SUMMARY"
T = TypeVar("T")


def with_step_summary(action: Callable[[], T]) -> Callable[[], T]:
    """`action`, then its deployment's report appended to $GITHUB_STEP_SUMMARY (if set)."""
    path = os.environ.get(ENV_VAR, "").strip()
    if not path:
        return action

    def summarised() -> T:
        try:
            value = action()
        except BluegreenError as exc:
            _append(path, getattr(exc, "result", None))
            raise
        _append(path, value)
        return value

    return summarised


def _append(path: str, result: Any) -> None:
    record = getattr(result, "record", None)  # a DeploymentResult; a Plan has none
    if record is None:
        return
    from bluegreen.report import render

    # a release's result renders itself: the release, then each service
    text = result.markdown() if hasattr(result, "markdown") else render(record, "markdown")
    try:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write("\n" + text)  # a paragraph of its own
    except OSError as exc:
        shared.print_warning(f"could not append the report to ${ENV_VAR} ({path}): {exc}")
