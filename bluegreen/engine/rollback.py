"""Rollback: production back to blue on every route, the test route back to blue, blue's
task set primary again, green's task set deleted. Possible in every state until blue's
task set is being retired.

It refuses to send traffic to blue when blue has no healthy target (the first promise):
then the deployment is FAILED (exit 3) and the message says exactly what AWS looks like, so a person
can act.

Every step is idempotent, so when AWS keeps throttling or failing through a call's retries
(a transient AwsError) the whole rollback runs again after a pause, up to ROUNDS times:
giving up — exit 3, a person paged — is for what will not pass by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bluegreen.engine.traffic import observe
from bluegreen.errors import AwsError, BluegreenError, RollbackFailed
from bluegreen.strategies import weights_for

if TYPE_CHECKING:
    from bluegreen.clock import Clock
    from bluegreen.engine.traffic import TrafficShifter
    from bluegreen.ports import Cloud
    from bluegreen.record import DeploymentRecord
    from bluegreen.topology import Topology

ROUNDS = 3
ROUND_PAUSE = 30.0  # seconds before round 2, twice that before round 3


class EngineParts(Protocol):
    """What a rollback uses of the engine that runs it (engine.py's Engine is one): rollback
    never imports the engine, which imports rollback."""

    cloud: Cloud  # reads only: what AWS looks like when a rollback fails
    clock: Clock  # the pause between rounds
    shifter: TrafficShifter
    topology: Topology

    def event(self, rec: DeploymentRecord, message: str) -> None:
        """Note `message` in the record, save it and publish it."""
        ...


class RollBack:
    def __init__(self, engine: EngineParts, rec: DeploymentRecord) -> None:
        self.engine = engine
        self.rec = rec

    def run(self) -> None:
        if self.rec.blue_retiring:
            raise RollbackFailed(
                "blue's task set was already being retired: there is nothing to roll back to",
                hint="deploy the previous version again with `bluegreen deploy`",
            )
        for round_number in range(1, ROUNDS + 1):
            try:
                self._restore_traffic()
                self._restore_primary()
                self._retire_green()
                return
            except AwsError as exc:
                if not exc.transient or round_number == ROUNDS:
                    raise self._failed(exc) from exc
                pause = ROUND_PAUSE * round_number
                self.engine.event(
                    self.rec, f"rollback stopped by {exc.message}; trying again in {pause:g}s"
                )
                self.engine.clock.sleep(pause)
            except BluegreenError as exc:
                raise self._failed(exc) from exc

    def _failed(self, exc: BluegreenError) -> RollbackFailed:
        return RollbackFailed(
            f"rollback could not complete: {exc.message}\n"
            + describe_aws_state(self.engine, self.rec),
            hint=RollbackFailed.RETRY,
        )

    def _restore_traffic(self) -> None:
        rec, blue, green = self.rec, self.rec.blue_target_group, self.rec.green_target_group
        if not blue or not green:
            return  # nothing was resolved, so nothing was moved
        to_blue = weights_for(0, blue, green)
        if rec.routes:
            routes = self.engine.shifter.apply([r.ref for r in rec.routes], to_blue)
            rec.green_percent = 0
            observe(rec, self.engine.clock.now(), routes=routes)
            self.engine.event(rec, "production traffic back on blue")
        if rec.test_route and rec.test_route_moved:
            (test,) = self.engine.shifter.apply([rec.test_route.ref], to_blue)
            observe(rec, self.engine.clock.now(), test=test)
            self.engine.event(rec, "test listener back on blue")

    def _restore_primary(self) -> None:
        self.engine.topology.restore_blue(self.rec)

    def _retire_green(self) -> None:
        self.engine.topology.retire_green(self.rec)


def describe_aws_state(engine: EngineParts, rec: DeploymentRecord) -> str:
    """Every route's weights and every task set, read now: what a person needs to act."""
    lines = ["AWS state now:"]
    names = {rec.blue_target_group: "blue", rec.green_target_group: "green"}
    names_by_arn = {arn: colour for arn, colour in names.items() if arn}
    refs = [r.ref for r in rec.routes] + ([rec.test_route.ref] if rec.test_route else [])
    for ref in refs:
        try:
            route = engine.cloud.elb.route(ref)
            split = ", ".join(f"{names.get(a, a)}={w}" for a, w in route.weights.items())
            lines.append(f"  {ref}: {split}")
        except BluegreenError as exc:
            lines.append(f"  {ref}: could not read ({exc.message})")
    for arn, colour in names.items():
        if not arn:
            continue
        try:
            health = engine.cloud.elb.target_health(arn)
            lines.append(
                f"  {colour} target group {arn}: {health.healthy_count} healthy of "
                f"{len(health.targets)}"
            )
        except BluegreenError as exc:
            lines.append(f"  {colour} target group {arn}: could not read ({exc.message})")
    try:
        lines += [f"  {line}" for line in engine.topology.describe(rec, names_by_arn)]
    except BluegreenError as exc:
        lines.append(f"  {engine.topology.mode}: could not read ({exc.message})")
    return "\n".join(lines)
