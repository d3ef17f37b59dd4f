"""Value objects parsed once from AWS answers. Frozen, typed, no I/O.

AWS's many statuses are reduced to small enums here; an unknown value fails closed (it
never counts as healthy or steady).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
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
    enabled: bool = True

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
    protocol_version: str | None = None  # HTTP1 | HTTP2 | GRPC (HTTP/HTTPS groups only)
    ip_address_type: str | None = None  # ipv4 | ipv6


@dataclass(frozen=True)
class TargetGroupAttributes:
    """DescribeTargetGroupAttributes, as AWS's Key → Value strings, with typed readers for the
    ones bluegreen reasons about (AWS defaults where a key is absent)."""

    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def deregistration_delay(self) -> int:
        return int(self.values.get("deregistration_delay.timeout_seconds", "300"))

    @property
    def stickiness_enabled(self) -> bool:
        return self.values.get("stickiness.enabled", "false").lower() == "true"

    @property
    def stickiness_type(self) -> str | None:
        return self.values.get("stickiness.type")


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
    swap: bool = False  # takes no weights: forwards to one target group, switched whole

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
    # A rule's priority and conditions as AWS returned them (None/empty for a listener).
    priority: str | None = None
    conditions: tuple[Mapping[str, Any], ...] = ()

    @property
    def total_weight(self) -> int:
        return sum(self.weights.values())

    def forwards_elsewhere(self, ours: Collection[str]) -> list[str]:
        """Target groups other than `ours` that get traffic from this route."""
        return [arn for arn, weight in self.weights.items() if arn not in ours and weight > 0]

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
    security_groups: tuple[str, ...] = ()  # none on a network LB created without them


@dataclass(frozen=True)
class IngressRule:
    """One inbound permission of a security group: a protocol and port range, admitted from
    other security groups and/or CIDR ranges."""

    protocol: str  # "tcp", "udp", "icmp"… or "-1" for all
    from_port: int | None
    to_port: int | None
    source_groups: tuple[str, ...] = ()
    cidrs: tuple[str, ...] = ()

    def admits_tcp(self, port: int) -> bool:
        """TCP to `port` passes: all traffic ("-1"), or tcp with a range covering it."""
        if self.protocol == "-1":
            return True
        if self.protocol.lower() not in ("tcp", "6"):
            return False
        if self.from_port is None:  # AWS always sends a range for tcp: be lenient if not
            return True
        return self.from_port <= port <= (self.to_port or self.from_port)


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str
    vpc_id: str | None
    ingress: tuple[IngressRule, ...] = ()


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
    load_balancers: tuple[LoadBalancerBinding, ...] = ()  # its target group(s), container, port


@dataclass(frozen=True)
class LoadBalancerBinding:
    target_group_arn: str | None
    container_name: str | None
    container_port: int | None


@dataclass(frozen=True)
class ServiceDeployment:
    """One entry of an ECS-controller service's `deployments[]` (service-pair mode)."""

    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    task_definition: str
    desired_count: int
    running_count: int
    pending_count: int
    failed_tasks: int
    rollout_state: str | None  # IN_PROGRESS | COMPLETED | FAILED (None: not reported)
    rollout_reason: str | None = None


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
    deployments: tuple[ServiceDeployment, ...] = ()  # ECS controller only
    # Classic Load Balancer names attached to the service (refused: no target groups).
    classic_load_balancers: tuple[str, ...] = ()
    # deploymentConfiguration.deploymentCircuitBreaker.enable: ECS fails a rolling
    # deployment whose tasks keep failing by itself.
    circuit_breaker: bool = False

    @property
    def primary_deployment(self) -> ServiceDeployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)


@dataclass(frozen=True)
class EcsTask:
    """One task as DescribeTasks shows it: who started it and the address its targets use."""

    arn: str
    last_status: str  # PROVISIONING | PENDING | ACTIVATING | RUNNING | … | STOPPED
    task_definition: str
    started_by: str | None  # a task set's or deployment's id for the tasks ECS starts
    group: str | None  # "service:<name>" for a service's tasks
    ip: str | None  # its network interface's private IPv4 (awsvpc); None otherwise
    # Why and when it stopped (a stopped task; None while it runs), its containers' exits.
    stopped_reason: str | None = None
    stop_code: str | None = None  # EssentialContainerExited | TaskFailedToStart | …
    exits: tuple[ContainerExit, ...] = ()
    created_at: float | None = None  # epoch seconds: asked for…
    stopped_at: float | None = None  # …and stopped

    @property
    def running(self) -> bool:
        return self.last_status == "RUNNING"


@dataclass(frozen=True)
class ContainerExit:
    """How one container of a stopped task ended: its exit code, or ECS's reason (e.g.
    CannotPullContainerError) when it never ran."""

    container: str
    exit_code: int | None
    reason: str | None


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


# CloudWatch's period for every metric read: the load balancers publish per minute.
METRIC_PERIOD = 60
MAX_METRIC_QUERIES = 500  # GetMetricData's limit per request


@dataclass(frozen=True)
class MetricStat:
    """One CloudWatch metric (namespace, name, dimensions) and the statistic to read."""

    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str  # Sum | Average | Minimum | Maximum | SampleCount | p99 | p99.9 …


@dataclass(frozen=True)
class MetricQuery:
    """One entry of a metric read, per METRIC_PERIOD: a metric's statistic (`stat`) or a
    metric-math expression over the ids of other entries of the same read. An entry with
    `returned` False only feeds an expression."""

    id: str  # CloudWatch's rule: a lower-case letter, then letters, digits and _
    stat: MetricStat | None = None
    expression: str | None = None
    returned: bool = True


@dataclass(frozen=True)
class MetricSeries:
    """What CloudWatch answered for one query: (start of the period, value) in ascending
    time; a period with no data is absent, never zero."""

    id: str
    points: tuple[tuple[float, float], ...] = ()

    def by_time(self) -> dict[float, float]:
        return dict(self.points)
