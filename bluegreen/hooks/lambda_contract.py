"""Lambda hooks: invoke the function with the context, and read what it answers.

Two contracts, told apart by the answer:

- ours: an invocation without a function error passes, one with an error fails with the
  first line of its output. Whatever the function returns is kept as the hook's output.
- ECS's lifecycle-hook contract, when the answer is a JSON object with `hookStatus`, so a
  function written for ECS's own blue/green lifecycle hooks works as it is:
  `SUCCEEDED` passes; `FAILED` fails (with its `reason` or `message`, else the rest of the
  answer, shortened); `IN_PROGRESS` asks to be invoked again after `callBackDelay`
  seconds (ECS's default, 30, when it is absent), and the `hookDetails` it returns are
  merged into those of its earlier answers and passed back in the next payload as
  `hookDetails`, as ECS does. Any other value fails: ECS rolls back on an invalid status.

All the invocations and waits of one hook fit in its timeout, measured on the injected
clock: an invocation may read for at most what is left, and a wait that would end past it
is not begun (the hook times out then, without waiting for nothing). A wait is cut short
when the deployment is interrupted; a zero delay still waits MIN_CALLBACK_DELAY, so a
function answering IN_PROGRESS at once is not invoked in a tight loop.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bluegreen.clock import Clock
from bluegreen.hooks.process import Outcome, wait_unless_interrupted
from bluegreen.ports import Functions

DEFAULT_CALLBACK_DELAY = 30.0  # ECS's own, when IN_PROGRESS comes without callBackDelay
MIN_CALLBACK_DELAY = 1.0
EXCERPT_LIMIT = 200


@dataclass(frozen=True)
class _Verdict:
    """An ECS answer read: an outcome, or (IN_PROGRESS) when to ask again and what to pass."""

    outcome: Outcome | None = None
    delay: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


def invoke(
    functions: Functions,
    function: str,
    payload: str,
    timeout: float,
    clock: Clock,
    interrupted: Callable[[], str | None],
    on_text: Callable[[str], None],
) -> Outcome:
    """Run the Lambda hook `function` on `payload`; each answer goes to `on_text`."""
    deadline = clock.now() + timeout
    details: dict[str, Any] = {}
    request = payload
    invocation = 0
    while True:
        invocation += 1
        read_seconds = min(timeout, math.ceil(deadline - clock.now()))
        try:
            ok, output = functions.invoke(function, request.encode(), read_seconds)
        except Exception as exc:  # an AWS error is this hook's failure, not ours
            return Outcome(False, f"{type(exc).__name__}: {exc}")
        on_text(output)
        if not ok:
            first_line = next(iter(output.strip().splitlines()), "no output")
            return Outcome(False, f"lambda function {function} failed: {first_line}")
        answer = _lifecycle_answer(output)
        if answer is None:
            return Outcome(True)  # no hookStatus: our own contract
        verdict = _read(function, answer)
        if verdict.outcome is not None:
            return verdict.outcome
        if clock.now() + verdict.delay >= deadline:
            return Outcome(
                False,
                f"timed out: lambda function {function} still answered IN_PROGRESS after "
                f"{invocation} invocations, and the next (in {verdict.delay:g}s) would fall "
                f"past the hook's {timeout:g}s timeout",
                timed_out=True,
            )
        stopped = sleep_unless_interrupted(clock, verdict.delay, interrupted)
        if stopped:
            return Outcome(False, f"stopped: the deployment was {stopped}")
        details |= verdict.details
        request = json.dumps({**json.loads(payload), "hookDetails": details}, default=str)


def sleep_unless_interrupted(
    clock: Clock, seconds: float, interrupted: Callable[[], str | None]
) -> str | None:
    """Sleep `seconds` on `clock`, a poll interval at a time: None, or "interrupted by
    SIG…" as soon as `interrupted()` names a signal."""

    def slept(step: float) -> bool:
        clock.sleep(step)
        return False  # nothing ends a sleep early but a signal

    return wait_unless_interrupted(slept, seconds, interrupted, now=clock.now)


def _lifecycle_answer(output: str) -> dict[str, Any] | None:
    """The answer as ECS's contract reads it, or None when it does not follow it."""
    try:
        answer = json.loads(output)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) and "hookStatus" in answer else None


def _read(function: str, answer: dict[str, Any]) -> _Verdict:
    said = f"lambda function {function} answered"
    status = answer["hookStatus"]
    if status == "SUCCEEDED":
        return _Verdict(Outcome(True))
    if status == "FAILED":
        return _Verdict(Outcome(False, f"{said} hookStatus FAILED{_reason(answer)}"))
    if status != "IN_PROGRESS":
        return _Verdict(
            Outcome(
                False,
                f"{said} hookStatus {_shown(status)}: expected SUCCEEDED, FAILED or IN_PROGRESS",
            )
        )
    delay = answer.get("callBackDelay", DEFAULT_CALLBACK_DELAY)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay < math.inf:
        return _Verdict(
            Outcome(False, f"{said} callBackDelay {_shown(delay)}: expected a number of seconds")
        )
    details = answer.get("hookDetails", {})
    if not isinstance(details, dict):
        return _Verdict(
            Outcome(False, f"{said} hookDetails {_shown(details)}: expected a JSON object")
        )
    return _Verdict(delay=max(float(delay), MIN_CALLBACK_DELAY), details=details)


def _reason(answer: dict[str, Any]) -> str:
    for key in ("reason", "message"):
        if isinstance(answer.get(key), str) and answer[key].strip():
            return f": {_excerpt(answer[key])}"
    rest = {k: v for k, v in answer.items() if k != "hookStatus"}
    return f": {_excerpt(json.dumps(rest, default=str))}" if rest else ""


def _shown(value: Any) -> str:
    return _excerpt(json.dumps(value, default=str))


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LIMIT else f"{text[:EXCERPT_LIMIT]}…"
