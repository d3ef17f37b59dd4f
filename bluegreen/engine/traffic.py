"""Moving production traffic: every route of a deployment moves together, and never to a
target group without a healthy target.

`TrafficShifter.apply()` checks health first (through `own`, when given: green is judged
by its own tasks' targets, strays left out), then writes every route. If a write fails
part way, the routes already written are put back to what they were, so the listeners
never stay in disagreement because of us.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import structlog

from bluegreen.errors import BluegreenError, GateFailed
from bluegreen.model import Route, RouteRef, TargetGroupHealth
from bluegreen.ports import LoadBalancing
from bluegreen.record import DeploymentRecord

log = structlog.get_logger(__name__)


# A target group's ARN and health → the targets of it that count.
Own = Callable[[str, TargetGroupHealth], TargetGroupHealth]


def observe(
    rec: DeploymentRecord,
    now: float,
    *,
    step: int | None = None,
    routes: Sequence[Route] | None = None,
    test: Route | None = None,
    blue: TargetGroupHealth | None = None,
) -> None:
    """Keep the stage `step` traffic moved to, green's weight on `routes` (production) and
    `test`, and blue's healthy targets, in the record's timeline (None: not seen now)."""
    green = rec.green_target_group or ""
    rec.observe(
        now,
        step=step,
        green=None if routes is None else [route.weights.get(green, 0) for route in routes],
        test=None if test is None else test.weights.get(green, 0),
        blue_healthy=None if blue is None else blue.healthy_count,
    )


class NoHealthyTarget(GateFailed):
    """Refused: the move would send traffic to a target group with no healthy target."""


class TrafficShifter:
    def __init__(self, elb: LoadBalancing) -> None:
        self._elb = elb
        # the health each target group to get weight had just before the last change: the
        # timeline's, so a stage costs no second read of it
        self.health_before: dict[str, TargetGroupHealth] = {}

    def assert_can_receive(self, weights: Mapping[str, int], own: Own | None = None) -> None:
        self.health_before = {}
        for arn, weight in weights.items():
            if weight <= 0:
                continue
            health = self.health_before[arn] = self._elb.target_health(arn)
            if (own(arn, health) if own else health).healthy_count == 0:
                raise NoHealthyTarget(
                    f"refused to send {weight} weight to {arn}: it has no healthy target"
                    + (" of its own tasks" if own and health.healthy_count else "")
                )

    def apply(
        self, refs: Sequence[RouteRef], weights: Mapping[str, int], own: Own | None = None
    ) -> list[Route]:
        """Every route gets `weights`, or none keeps a change (best effort restore). `own`
        keeps the targets that count of a target group's health (all, without it)."""
        self.assert_can_receive(weights, own)
        before = self._elb.routes(refs)  # one read for all of them
        written: list[Route] = []
        try:
            for route in before:
                if dict(route.weights) == dict(weights):
                    written.append(route)  # already there: resuming is idempotent
                    continue
                written.append(self._elb.set_weights(route.ref, weights, route))
        except BluegreenError:
            self._restore(before[: len(written)])
            raise
        return written

    def _restore(self, routes: Sequence[Route]) -> None:
        for route in routes:
            try:
                self._elb.set_weights(route.ref, route.weights)
            except BluegreenError as exc:  # the caller's rollback re-applies blue anyway
                log.error("restore_failed", route=str(route.ref), error=str(exc))
