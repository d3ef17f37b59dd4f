"""What a deployment that ran comes to, for the Python API: a DeploymentResult when it
succeeded or paused; otherwise DeploymentFailed (rolled back, exit 1) or RollbackFailed
(exit 3) is raised, each carrying `.result`, so a release script cannot mistake a rollback
for a success. A success that could not retire blue raises CleanupIncomplete (exit 3, a
person must act), its `.result.outcome` "succeeded": green serves.

`warnings` are what went wrong after the deployment ended and changes nothing of it (the
lock could not be released: it lapses by itself); they never change the outcome or the
exit code.

Rules: part of the API (floor 4), so nothing below it imports this; callers import
DeploymentResult from `bluegreen.deployer`, which re-exports it. It only shapes what the
engine left in the record; the caller reads the final weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, TypeVar

from bluegreen.engine.cleanup import cleanup_message
from bluegreen.engine.interrupts import Interrupted
from bluegreen.errors import BluegreenError, CleanupIncomplete, DeploymentFailed, RollbackFailed
from bluegreen.machine import State
from bluegreen.ports import Cloud
from bluegreen.record import DeploymentRecord, Request

EXIT_CODES = {
    "succeeded": 0,
    "paused": 0,
    "rolled_back": 1,
    "stopped": 1,
    "interrupted": 1,
    "failed": 3,
}


@dataclass(frozen=True)
class DeploymentResult:
    record: DeploymentRecord
    final_weights: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # after it ended, changing nothing of it (a lock kept)

    @property
    def outcome(self) -> str:
        return self.record.outcome

    @property
    def deployment_id(self) -> str:
        return self.record.id

    @property
    def reason(self) -> str | None:
        return self.record.reason

    @property
    def state(self) -> State:
        return self.record.state

    @property
    def exit_code(self) -> int:
        if self.record.cleanup_left is not None:
            return CleanupIncomplete.exit_code  # succeeded, but a person must act
        return EXIT_CODES.get(self.outcome, 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.record.summary(),
            "final_weights": self.final_weights,
            "warnings": list(self.warnings),
        }


def returned_or_raised(result: DeploymentResult, failure: BaseException | None) -> DeploymentResult:
    """`result` when the deployment succeeded or paused; else the error it ended in, carrying
    `result`. `failure` is what the engine failed on (`Engine.failure`)."""
    rec = result.record
    if rec.interrupted and not rec.state.terminal:
        raise with_result(
            Interrupted(
                f"deployment {rec.id} {rec.interrupted}: left in {rec.state.value} at "
                f"{rec.green_percent}% green",
                hint="continue with `bluegreen resume`, or undo with `bluegreen rollback`",
            ),
            result,
        )
    if rec.state is State.ROLLED_BACK:
        raise _as_failure(failure, rec, result)
    if rec.state is State.FAILED:
        failed = RollbackFailed(rec.reason or "rollback failed", hint=RollbackFailed.RETRY)
        if isinstance(failure, RollbackFailed):  # keep its own hint (blue already retiring)
            failed.hint = failure.hint
        raise with_result(failed, result)
    if rec.state is State.STOPPED:
        if isinstance(failure, BluegreenError):
            raise with_result(failure, result)
        raise with_result(DeploymentFailed(rec.reason or "stopped"), result)
    if rec.state is State.SUCCEEDED and rec.cleanup_left is not None:
        message, hint = cleanup_message(rec)
        raise with_result(CleanupIncomplete(message, hint=hint), result)
    return result


def _as_failure(
    failure: BaseException | None, rec: DeploymentRecord, result: DeploymentResult
) -> BluegreenError:
    message = f"deployment {rec.id} was rolled back: {rec.reason}"
    hint = failure.hint if isinstance(failure, BluegreenError) else None  # how to fix it
    if isinstance(failure, DeploymentFailed) and not isinstance(failure, Interrupted):
        error: BluegreenError = type(failure)(message, hint=hint)
    else:
        error = DeploymentFailed(message, hint=hint)
    return with_result(error, result)


def answer_to(current: DeploymentRecord, request: Request, cloud: Cloud) -> DeploymentResult | None:
    """What the process running a deployment did about `request`, once it acted (the
    record as it is now: `current`); else None."""
    acted = current.state.terminal or (
        request.kind == "promote" and any(p.request == request.id for p in current.promotions)
    )
    if not acted:
        return None
    result = DeploymentResult(current, final_weights(cloud, current))
    if current.state is State.FAILED:
        raise with_result(RollbackFailed(current.reason or "rollback failed"), result)
    return returned_or_raised(result, None) if current.cleanup_left else result  # exit 3


def final_weights(cloud: Cloud, rec: DeploymentRecord) -> dict[str, dict[str, int]]:
    """Every production route's weights, read now (a route that cannot be read is left out)."""
    weights: dict[str, dict[str, int]] = {}
    for entry in rec.routes:
        try:
            weights[entry.arn] = dict(cloud.elb.route(entry.ref).weights)
        except BluegreenError:
            continue
    return weights


def with_result(error: BluegreenError, result: object) -> BluegreenError:
    """`error`, carrying `result` (a deployment's, or a release's) as `.result`."""
    error.result = result  # type: ignore[attr-defined]
    return error


class _Ended(Protocol):
    @property
    def state(self) -> Enum: ...


R = TypeVar("R", bound=_Ended)
BACK_AS_ASKED = ("ROLLED_BACK", "STOPPED")  # STOPPED: nothing had changed, blue serves


def rolled_back_as_asked(failure: DeploymentFailed, kind: type[R]) -> R | None:
    """The result (a deployment's, or a release's) `failure` carries when it ended as a
    rollback that was asked for does — blue serves production — so the rollback returns it
    rather than raise; None otherwise (the caller raises `failure`)."""
    result = getattr(failure, "result", None)
    if isinstance(result, kind) and result.state.value in BACK_AS_ASKED:
        return result
    return None
