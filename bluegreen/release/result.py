"""What a release comes to, for the Python API and the CLI: its plan, its status, and a
ReleaseResult when every service succeeded (or waits, detached, at a pause); otherwise the
error the release ended in (exit 1 rolled back or stopped, 3 when a rollback failed or a
blue could not be retired), carrying `.result` — as a lone deployment's result does
(deployer/result.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bluegreen.deployer.result import DeploymentResult, with_result
from bluegreen.engine.interrupts import Interrupted
from bluegreen.engine.plan import Plan
from bluegreen.engine.status import Status
from bluegreen.errors import CleanupIncomplete, DeploymentFailed, RollbackFailed
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord
from bluegreen.release_record import ReleaseRecord, ReleaseState
from bluegreen.report.release import release_markdown


@dataclass(frozen=True)
class ReleaseStatus:
    record: ReleaseRecord
    services: dict[str, Status]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.record.summary(),
            "services": {name: s.to_dict() for name, s in self.services.items()},
        }


@dataclass(frozen=True)
class ReleasePlan:
    """What `run` would do: the order of things, then each service's own plan."""

    name: str
    order: list[str]  # the release's rules, one line each
    plans: dict[str, Plan]

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": self.name,
            "order": self.order,
            "services": {name: plan.to_dict() for name, plan in self.plans.items()},
        }


@dataclass(frozen=True)
class ReleaseResult:
    record: ReleaseRecord
    members: dict[str, DeploymentResult]  # by the release's name for each service
    warnings: tuple[str, ...] = ()

    @property
    def state(self) -> ReleaseState:
        return self.record.state

    @property
    def release_id(self) -> str:
        return self.record.id

    @property
    def detached(self) -> bool:
        """Every service still on its way waits, detached, at the strategy's pause."""
        left = [r.record for r in self.members.values() if not r.record.state.terminal]
        return bool(left) and all(r.state is State.PAUSED and r.detached for r in left)

    def describe(self) -> list[str]:
        """The outcome in plain lines: the release, then each service."""
        rec = self.record
        lines = [f"{rec.state.value} release {rec.name} {rec.id}"]
        if rec.failed_member:
            lines.append(f"reason: {rec.failed_member}: {rec.reason}")
        for name, result in self.members.items():
            r = result.record
            lines.append(f"  {name}: {r.state.value} at {r.green_percent}% green ({r.id})")
        if self.detached:
            lines.append(
                "paused: `bluegreen promote --release FILE` goes on, "
                "`bluegreen rollback --release FILE` goes back"
            )
        return lines

    def markdown(self) -> str:
        """The release's report (bluegreen report --release; a CI job's summary)."""
        return release_markdown(self.record, {n: r.record for n, r in self.members.items()})

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.record.summary(),
            "services": {name: r.to_dict() for name, r in self.members.items()},
            "detached": self.detached,
            "warnings": list(self.warnings),
        }


def conclusion(records: dict[str, DeploymentRecord]) -> ReleaseState | None:
    """The release's end from its services' ends; None while one is not over (left on a
    signal, or paused)."""
    states = {rec.state for rec in records.values()}
    if not all(state.terminal for state in states):
        return None
    if State.FAILED in states:
        return ReleaseState.FAILED
    if states == {State.SUCCEEDED}:
        return ReleaseState.SUCCEEDED
    if states == {State.STOPPED}:
        return ReleaseState.STOPPED
    return ReleaseState.ROLLED_BACK


def returned_or_raised(result: ReleaseResult) -> ReleaseResult:
    rec = result.record
    what = f"release {rec.id}"
    why = f"{rec.failed_member}: {rec.reason}" if rec.failed_member else (rec.reason or "")
    if rec.state is ReleaseState.FAILED:
        failed = [n for n, r in result.members.items() if r.state is State.FAILED]
        raise with_result(
            RollbackFailed(
                f"{what}: the rollback of {', '.join(failed)} could not complete ({why})",
                hint="run `bluegreen rollback --release FILE` again once the cause is fixed",
            ),
            result,
        )
    if rec.state in (ReleaseState.ROLLED_BACK, ReleaseState.STOPPED):
        done = "rolled back" if rec.state is ReleaseState.ROLLED_BACK else "stopped"
        raise with_result(DeploymentFailed(f"{what} was {done}: {why}"), result)
    if not rec.state.terminal and not result.detached:
        left = ", ".join(f"{n} {r.state.value}" for n, r in result.members.items())
        raise with_result(
            Interrupted(
                f"{what} was left unfinished ({left})",
                hint="continue with `bluegreen resume --release FILE`, or undo with "
                "`bluegreen rollback --release FILE`",
            ),
            result,
        )
    unretired = [m for m in rec.members if result.members[m.name].record.cleanup_left]
    if unretired:
        # the release is over (SUCCEEDED): each service's own resume retires its blue
        commands = "; ".join(f"bluegreen resume --config {m.config}" for m in unretired)
        raise with_result(
            CleanupIncomplete(
                f"{what} succeeded, but blue could not be retired for "
                f"{', '.join(m.name for m in unretired)}",
                hint=f"retire them (from the release file's folder): {commands}",
            ),
            result,
        )
    return result
