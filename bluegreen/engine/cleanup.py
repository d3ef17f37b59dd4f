"""Retiring blue at the end of a deployment that succeeded, and finishing that later.

By the time blue is retired every production route sends all its traffic to green, green's
task set is primary and `rec.blue_retiring` is saved: the release has succeeded, and there
is nothing to roll back to. So a refusal here never rolls back, and never fails the
deployment: it ends SUCCEEDED with `rec.cleanup_left` saying what AWS answered and the
command that retires blue by hand. Blue then keeps running, with no traffic, until a person
acts: `bluegreen resume` tries again (finish_cleanup), and the next deployment clears it
too (blue's old task set sits on that deployment's green target group, and is deleted
first; a service pair's old blue service is the one that deployment updates).

Retiring blue is idempotent, so a transient AWS error (throttling, an outage outlasting a
call's retries) is tried again after a pause, in rounds, as rollback does (rollback.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluegreen.engine.rollback import ROUND_PAUSE, ROUNDS
from bluegreen.errors import AwsError, BluegreenError
from bluegreen.record import CleanupLeft

if TYPE_CHECKING:
    from bluegreen.engine.rollback import EngineParts
    from bluegreen.record import DeploymentRecord


def retire_blue(engine: EngineParts, rec: DeploymentRecord) -> None:
    """Retire blue's task set (or scale its service to 0). Never raises an AWS error: one
    that does not pass is left in `rec.cleanup_left` (saved), and the caller decides what
    that means (result.py: exit 3, a person must act)."""
    for round_number in range(1, ROUNDS + 1):
        try:
            engine.topology.retire_blue(rec)
        except AwsError as exc:
            if not exc.transient or round_number == ROUNDS:
                _left(engine, rec, exc)
                return
            pause = ROUND_PAUSE * round_number
            engine.event(rec, f"retiring blue stopped by {exc.message}; trying again in {pause:g}s")
            engine.clock.sleep(pause)
        except BluegreenError as exc:
            _left(engine, rec, exc)
            return
        else:
            if rec.cleanup_left is not None:
                rec.cleanup_left = None
                engine.event(rec, "clean-up finished: blue is retired")
            return


def _left(engine: EngineParts, rec: DeploymentRecord, exc: BluegreenError) -> None:
    command = engine.topology.retire_blue_command(rec)
    rec.cleanup_left = CleanupLeft(error=exc.message, command=command)
    engine.event(
        rec,
        f"green serves all production traffic, but blue could not be retired: {exc.message}; "
        f"retire it with `{command}`, or fix that and run `bluegreen resume`",
    )


def cleanup_message(rec: DeploymentRecord) -> tuple[str, str]:
    """The message and hint a deployment whose clean-up is incomplete ends with."""
    left = rec.cleanup_left
    assert left is not None
    message = (
        f"deployment {rec.id} succeeded: green serves all production traffic; but blue "
        f"could not be retired (clean-up incomplete): {left.error}"
    )
    hint = (
        f"a person must act: retire blue with `{left.command}`; or fix what is named above "
        "(`bluegreen iam-policy` prints the permissions needed) and run `bluegreen resume`. "
        "Until then blue's tasks keep running, with no traffic"
    )
    return message, hint
