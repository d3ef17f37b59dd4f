"""Application Auto Scaling for ECS services, on the sandbox's clock: enough of it to rehearse
what a scale-in does to a deployment, and that holding it works.

moto keeps scalable targets (min, max, SuspendedState), policies and scheduled actions, but
acts on none of them. Here a test (or a rehearsal) says what the service's scaling would
want: a *demand*, the desired count its policies (or a scheduled action) set from a moment
on —

    sandbox.autoscaling.demand("service/prod/web", 1, at=clock.now() + 120)

On every tick, for each ECS scalable target with a demand that is due, the service's
desired count is set to the demand, kept within the target's min and max, unless that
direction is suspended (Application Auto Scaling User Guide, "Suspend and resume scaling"):
DynamicScalingInSuspended stops a policy's scale-in, DynamicScalingOutSuspended its
scale-out, and ScheduledScalingSuspended stops a scheduled action either way. A demand
that is held waits: once the suspension is lifted it applies, as a policy's alarm that is
still in ALARM would. The service changes as AWS changes it — its desired count, which ECS
follows by starting or stopping tasks (ecs.py, installed after this module so it follows
within the same tick).

Rules: acts on moto's backends directly (no API call, no fault); does nothing without a
due demand; imports nothing of the sandbox (world.py hands it out as `Sandbox.autoscaling`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

DIMENSION = "ecs:service:DesiredCount"


class SandboxLike(Protocol):
    clock: Any
    account_id: str
    region: str
    simulators: dict[str, Any]

    def ticking(
        self, name: str, make: Callable[[], AutoScalingSimulator]
    ) -> AutoScalingSimulator: ...

    def ecs(self) -> Any: ...


@dataclass(frozen=True)
class Demand:
    desired: int
    at: float
    scheduled: bool = False  # a scheduled action's, not a policy's


@dataclass(frozen=True)
class Activity:
    """One change made, as DescribeScalingActivities would list it."""

    at: float
    resource_id: str
    from_count: int
    to_count: int
    cause: str  # "policy" | "scheduled action"


@dataclass
class AutoScalingSimulator:
    sandbox: SandboxLike
    demands: dict[str, list[Demand]] = field(default_factory=dict)  # by resource id, by time
    activities: list[Activity] = field(default_factory=list)

    def demand(
        self, resource_id: str, desired: int, *, at: float | None = None, scheduled: bool = False
    ) -> None:
        """From `at` (now by default) on, the scaling of `resource_id` (service/CLUSTER/NAME)
        wants `desired` tasks; `scheduled`: a scheduled action wants it, not a policy."""
        when = at if at is not None else float(self.sandbox.clock.now())
        wanted = [d for d in self.demands.get(resource_id, []) if d.at != when]
        self.demands[resource_id] = sorted([*wanted, Demand(desired, when, scheduled)], key=_at)

    def tick(self, now: float) -> None:
        if _active is not self:
            return
        for resource, demands in self.demands.items():
            due = [d for d in demands if d.at <= now]
            if due:
                self._scale(resource, due[-1], now)

    def _scale(self, resource: str, demand: Demand, now: float) -> None:
        target = self._targets().get(resource)
        service = self._service(resource)
        if target is None or service is None or service.status != "ACTIVE":
            return
        low, high = target.min_capacity or 0, target.max_capacity or demand.desired
        wanted = min(max(demand.desired, low), high)
        current = int(service.desired_count)
        if wanted == current or _suspended(target, demand, scale_in=wanted < current):
            return
        service.desired_count = wanted
        cause = "scheduled action" if demand.scheduled else "policy"
        self.activities.append(Activity(now, resource, current, wanted, cause))

    def _targets(self) -> dict[str, Any]:
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        backend = applicationautoscaling_backends[self.sandbox.account_id][self.sandbox.region]
        found: dict[str, Any] = backend.targets.get(DIMENSION, {})
        return found

    def _service(self, resource: str) -> Any:
        _, cluster, name = resource.split("/", 2)
        return self.sandbox.ecs().services.get(f"{cluster}:{name}")


def _suspended(target: Any, demand: Demand, *, scale_in: bool) -> bool:
    state = target.suspended_state or {}
    if demand.scheduled:
        return bool(state.get("ScheduledScalingSuspended"))
    key = "DynamicScalingInSuspended" if scale_in else "DynamicScalingOutSuspended"
    return bool(state.get(key))


def _at(demand: Demand) -> float:
    return demand.at


_active: AutoScalingSimulator | None = None  # moto's backends are global: one sandbox acts


def install(sandbox: SandboxLike) -> AutoScalingSimulator:
    """The sandbox's simulator (one per sandbox), ticking on its clock."""
    global _active
    simulator = sandbox.ticking("autoscaling", lambda: AutoScalingSimulator(sandbox))
    _active = simulator
    return simulator


def uninstall() -> None:
    global _active
    _active = None
