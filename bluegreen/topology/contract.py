"""What every topology is and what both modes share: the `Topology` protocol the engine
asks, the `Fleet` it resolves at preflight, the `Note` it reports through, and the refusal
both apply to a service behind a Classic Load Balancer.

Rules: task_sets.py and service_pair.py import this module, never the package's __init__
(which imports them to choose one); it imports neither of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bluegreen.errors import PreflightError
from bluegreen.gates import Verdict
from bluegreen.model import EcsTask, LoadBalancerBinding, Service, TargetGroup, TargetGroupHealth
from bluegreen.refusals import classic_refusal

if TYPE_CHECKING:
    from bluegreen.record import DeploymentRecord

Note = Callable[["DeploymentRecord", str], None]


@dataclass(frozen=True)
class Fleet:
    """What runs each colour now, as resolved at preflight."""

    service: str  # shown to people: "web" or "web-blue+web-green"
    blue: str  # the task set id or the service serving blue
    green: str | None  # the green service (service-pair); None for task sets
    task_definition: str  # blue's
    desired_count: int
    bindings: tuple[LoadBalancerBinding, ...]  # container/port defaults
    leftovers: tuple[str, ...] = ()  # task sets on green's target group, deleted first
    # How blue's tasks run, copied onto green's task set (task-sets mode).
    blue_details: Mapping[str, Any] | None = None


class Topology(Protocol):
    mode: str

    def resolve(self, blue: TargetGroup, green: TargetGroup) -> Fleet:
        """Which task set/service serves each colour; PreflightError when it cannot be
        deployed (wrong controller, nothing serving blue, desired count 0…)."""
        ...

    def fill(self, rec: DeploymentRecord, fleet: Fleet) -> None:
        """Copy what the record needs to resume or roll back."""
        ...

    def plan_provision(self, fleet: Fleet, green: TargetGroup) -> list[tuple[str, str]]: ...

    def plan_retire(self, fleet: Fleet, termination_wait: float) -> list[tuple[str, str]]: ...

    def bring_up(self, rec: DeploymentRecord) -> None:
        """Green runs rec.to_task_definition at rec.desired_count (leftovers cleared)."""
        ...

    def green_ready(self, rec: DeploymentRecord, health: TargetGroupHealth) -> Verdict:
        """Not ready is not failed (the caller waits); a failure ECS reports as final (a
        tripped circuit breaker) raises HealthCheckFailed at once."""
        ...

    def green_tasks(self, rec: DeploymentRecord) -> list[EcsTask]:
        """The tasks ECS runs for green now (its task set's, or its service's)."""
        ...

    def green_stopped(self, rec: DeploymentRecord) -> list[EcsTask] | None:
        """Green's tasks ECS stopped since the deployment began, with why; None when ECS's
        own deployment circuit breaker watches them (it fails green by itself)."""
        ...

    def make_green_primary(self, rec: DeploymentRecord) -> None: ...

    def retire_blue(self, rec: DeploymentRecord) -> None: ...

    def retire_blue_command(self, rec: DeploymentRecord) -> str:
        """The AWS CLI command that retires blue by hand, when retire_blue could not."""
        ...

    def restore_blue(self, rec: DeploymentRecord) -> None:
        """Rollback: blue is what ECS considers current again."""
        ...

    def retire_green(self, rec: DeploymentRecord) -> None: ...

    def describe(self, rec: DeploymentRecord, names: Mapping[str, str]) -> list[str]:
        """One line per task set or service, read now (for people who must act)."""
        ...

    def units(self, names: Mapping[str, str]) -> list[dict[str, Any]]:
        """The task sets or services, for `bluegreen status`."""
        ...


def refuse_classic_load_balancer(service: Service) -> None:
    if service.classic_load_balancers:
        message, hint = classic_refusal(service)
        raise PreflightError(message, hint=hint)
