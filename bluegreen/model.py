"""Value objects parsed once from AWS answers. Frozen, typed, no I/O.

AWS's many statuses are reduced to small enums here; an unknown value fails closed (it
never counts as healthy or steady).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class HealthState(StrEnum):
    INITIAL = "initial"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNUSED = "unused"
    DRAINING = "draining"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str | None) -> HealthState:
        try:
            return cls(value or "unknown")
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class HealthCheck:
    protocol: str
    port: str  # "traffic-port" or a number
    path: str | None
    matcher: str | None  # HTTP codes, e.g. "200" or "200-299"
    interval_seconds: int
    timeout_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int

    def describe(self) -> str:
        where = f"{self.protocol} port {self.port}"
        if self.path:
            where += f" path {self.path}"
        if self.matcher:
            where += f" expecting {self.matcher}"
        return where


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    name: str
    protocol: str | None
    port: int | None
    vpc_id: str | None
    target_type: str
    health_check: HealthCheck
    load_balancer_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetHealth:
    target_id: str
    port: int | None
    state: HealthState
    reason: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class TargetGroupHealth:
    target_group_arn: str
    targets: tuple[TargetHealth, ...]

    @property
    def healthy_count(self) -> int:
        return sum(1 for t in self.targets if t.state is HealthState.HEALTHY)

    def count(self, state: HealthState) -> int:
        return sum(1 for t in self.targets if t.state is state)

    def reasons(self) -> dict[str, int]:
        """Reason codes of targets that are not healthy, with how many targets show each."""
        found: dict[str, int] = {}
        for t in self.targets:
            if t.state is not HealthState.HEALTHY and t.reason:
                found[t.reason] = found.get(t.reason, 0) + 1
        return found


class RouteKind(StrEnum):
    LISTENER = "listener"  # a listener's default action
    RULE = "rule"  # one listener rule


@dataclass(frozen=True)
class RouteRef:
    kind: RouteKind
    arn: str

    def __str__(self) -> str:
        return f"{self.kind.value} {self.arn}"


@dataclass(frozen=True)
class Route:
    """A listener default action or a rule, with its forward split read out of its actions.

    `actions` is the whole action list as AWS returned it: changing the weights must carry
    every other action (authenticate, redirect…) over unchanged.
    """

    ref: RouteRef
    actions: tuple[Mapping[str, Any], ...]
    weights: Mapping[str, int]  # target group ARN → weight, from the forward action
    load_balancer_arn: str | None = None
    protocol: str | None = None
    port: int | None = None

    @property
    def total_weight(self) -> int:
        return sum(self.weights.values())

    def live_target_group(self) -> str | None:
        """The target group holding all the weight, or None when the weight is split."""
        live = [arn for arn, weight in self.weights.items() if weight > 0]
        return live[0] if len(live) == 1 else None

    def percent(self, target_group_arn: str) -> float:
        total = self.total_weight
        return 100.0 * self.weights.get(target_group_arn, 0) / total if total else 0.0


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    name: str
    type: str  # application | network | gateway
    vpc_id: str | None
    dns_name: str | None = None


class TaskSetStatus(StrEnum):
    PRIMARY = "PRIMARY"
    ACTIVE = "ACTIVE"
    DRAINING = "DRAINING"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class TaskSet:
    id: str
    arn: str
    status: TaskSetStatus
    task_definition: str
    target_group_arns: tuple[str, ...]
    external_id: str | None
    scale_percent: float
    running_count: int | None  # None where the API did not say (moto)
    pending_count: int | None
    desired_count: int | None
    stable: bool | None
    # How the task set runs its tasks: copied onto green's task set.
    network_configuration: Mapping[str, Any] | None = None
    launch_type: str | None = None
    capacity_provider_strategy: tuple[Mapping[str, Any], ...] = ()
    platform_version: str | None = None


@dataclass(frozen=True)
class LoadBalancerBinding:
    target_group_arn: str | None
    container_name: str | None
    container_port: int | None


@dataclass(frozen=True)
class Service:
    arn: str
    name: str
    cluster_arn: str
    status: str
    controller: str  # ECS | CODE_DEPLOY | EXTERNAL
    desired_count: int
    running_count: int
    task_definition: str | None
    launch_type: str | None
    capacity_provider_strategy: tuple[Mapping[str, Any], ...]
    network_configuration: Mapping[str, Any] | None
    platform_version: str | None
    load_balancers: tuple[LoadBalancerBinding, ...]
    task_sets: tuple[TaskSet, ...] = ()


@dataclass(frozen=True)
class ContainerImage:
    container: str
    image: str


@dataclass(frozen=True)
class TaskDefinition:
    arn: str
    family: str
    revision: int
    images: tuple[ContainerImage, ...]
    container_ports: Mapping[str, tuple[int, ...]]
    # Environment values are secrets until proven otherwise: kept only to redact them.
    secret_values: frozenset[str] = field(default_factory=frozenset)
    # The registration input to copy from (describe output minus read-only fields).
    registration: Mapping[str, Any] = field(default_factory=dict)

    def image_of(self, container: str) -> str | None:
        return next((c.image for c in self.images if c.container == container), None)


class AlarmState(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
    MISSING = "MISSING"  # no alarm of that name: a configuration error, never OK
