"""Lambda hooks: invoke the function with the context, and read what it answers.

An invocation without a function error passes, one with an error fails with the first line
of its output. Whatever the function returns is kept as the hook's output.
"""

from __future__ import annotations

from collections.abc import Callable

from bluegreen.hooks.process import Outcome
from bluegreen.ports import Functions


def invoke(
    functions: Functions,
    function: str,
    payload: str,
    timeout: float,
    on_text: Callable[[str], None],
) -> Outcome:
    """Run the Lambda hook `function` on `payload`; its answer goes to `on_text`."""
    try:
        ok, output = functions.invoke(function, payload.encode(), timeout)
    except Exception as exc:  # an AWS error is this hook's failure, not ours
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    on_text(output)
    if ok:
        return Outcome(True)
    first_line = next(iter(output.strip().splitlines()), "no output")
    return Outcome(False, f"lambda function {function} failed: {first_line}")
