"""What the engine asks of AWS, as Protocols. `bluegreen.aws` implements them with boto3;
the tests implement them in memory. One method per intent; each returns our value objects
and raises errors from `bluegreen.errors` (MissingResourceError for a resource that does
not exist, AwsError for anything else after bounded retries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bluegreen.model import (
    AlarmState,
    EcsTask,
    LoadBalancer,
    LoadBalancerBinding,
    MetricQuery,
    MetricSeries,
    Route,
    RouteRef,
    SecurityGroup,
    Service,
    TargetGroup,
    TargetGroupAttributes,
    TargetGroupHealth,
    TaskDefinition,
    TaskSet,
)
from bluegreen.scaling import ScalableTarget, SuspendedState


class LoadBalancing(Protocol):
    def target_groups(self, names_or_arns: Sequence[str]) -> list[TargetGroup]:
        """In the order asked. MissingResourceError names any that do not exist."""
        ...

    def target_health(self, target_group_arn: str) -> TargetGroupHealth: ...

    def target_group_attributes(self, target_group_arn: str) -> TargetGroupAttributes: ...

    def load_balancer(self, arn: str) -> LoadBalancer: ...

    def target_group_tags(self, target_group_arn: str) -> dict[str, str]: ...

    def create_target_group(
        self, name: str, *, like: TargetGroup, tags: Mapping[str, str]
    ) -> TargetGroup:
        """A new target group with `like`'s settings (protocol, port, VPC, target type,
        health check…) under another name; attributes are set separately."""
        ...

    def set_target_group_attributes(
        self, target_group_arn: str, attributes: Mapping[str, str]
    ) -> TargetGroupAttributes:
        """ModifyTargetGroupAttributes with these keys only; the attributes as written."""
        ...

    def listener_routes(self, load_balancer_arn: str) -> list[Route]:
        """Every listener's default action and every non-default rule of the load balancer;
        a route that does not forward has empty weights."""
        ...

    def route(self, ref: RouteRef) -> Route:
        """The listener's default action or the rule, with its forward weights."""
        ...

    def routes(self, refs: Sequence[RouteRef]) -> list[Route]:
        """`route` of each of `refs`, in order, in as few calls as AWS allows."""
        ...

    def set_weights(
        self, ref: RouteRef, weights: Mapping[str, int], current: Route | None = None
    ) -> Route:
        """Read the route (unless the caller passes it as `current`, just read), replace its
        forward action's weights with `weights` (every other action and field kept), write it
        back and return the route as written.

        Checks what AWS would and moto does not: weights are integers 0–999 and every
        target group exists and is in the load balancer's VPC.
        """
        ...


class Containers(Protocol):
    def service(self, cluster: str, name: str) -> Service:
        """The service with its task sets (task-sets mode)."""
        ...

    def task_definition(self, arn_or_family: str) -> TaskDefinition: ...

    def update_service(
        self,
        cluster: str,
        name: str,
        *,
        task_definition: str | None = None,
        desired_count: int | None = None,
    ) -> Service:
        """UpdateService on an ECS-controller service (service-pair mode): a new task
        definition starts a new deployment; a desired count alone scales the current one."""
        ...

    def register_task_definition(self, registration: Mapping[str, Any]) -> TaskDefinition: ...

    def create_task_set(
        self,
        *,
        cluster: str,
        service: str,
        task_definition: str,
        target_group_arn: str,
        container_name: str,
        container_port: int,
        external_id: str,
        network_configuration: Mapping[str, Any] | None,
        launch_type: str | None,
        capacity_provider_strategy: Sequence[Mapping[str, Any]],
        platform_version: str | None,
    ) -> TaskSet:
        """A task set at 100 % scale attached to one target group."""
        ...

    def task_sets(self, cluster: str, service: str) -> list[TaskSet]: ...

    def tasks(
        self,
        cluster: str,
        *,
        started_by: str | None = None,
        service: str | None = None,
        stopped: bool = False,
    ) -> list[EcsTask]:
        """The tasks ECS keeps running (desired status RUNNING) that `started_by` started
        (a task set's id) or that belong to `service`, with their last status and address;
        `stopped`: those it stopped instead, with why and when."""
        ...

    def set_primary_task_set(self, cluster: str, service: str, task_set_id: str) -> None: ...

    def create_service(
        self,
        *,
        cluster: str,
        name: str,
        task_definition: str,
        desired_count: int,
        binding: LoadBalancerBinding,
        network_configuration: Mapping[str, Any] | None,
        launch_type: str | None,
        capacity_provider_strategy: Sequence[Mapping[str, Any]],
        platform_version: str | None,
        tags: Mapping[str, str],
    ) -> Service:
        """An ECS-controller service attached to one target group (service-pair mode)."""
        ...

    def attach_service(self, cluster: str, name: str, binding: LoadBalancerBinding) -> Service:
        """UpdateService(loadBalancers=[binding]) on an ECS-controller service."""
        ...

    def delete_task_set(self, cluster: str, service: str, task_set_id: str) -> None:
        """Deletes (force); a task set that is already gone is not an error."""
        ...


class Alarms(Protocol):
    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        """Every name asked for is in the answer; MISSING for an alarm that does not exist."""
        ...


class Metrics(Protocol):
    def metric_data(
        self, queries: Sequence[MetricQuery], start: float, end: float
    ) -> dict[str, MetricSeries]:
        """One read of every query over [start, end) (epoch seconds, whole minutes), per
        minute, in ascending time. Every returned query's id is in the answer, with no
        points when CloudWatch has no data. AwsError when CloudWatch cannot answer."""
        ...


class Functions(Protocol):
    def invoke(self, function: str, payload: bytes, timeout_seconds: float) -> tuple[bool, str]:
        """Synchronous invoke; (succeeded, output). A function error is not succeeded."""
        ...


class Network(Protocol):
    def security_groups(self, ids: Sequence[str]) -> list[SecurityGroup]:
        """In the order asked. MissingResourceError names any that do not exist."""
        ...

    def vpc_cidr_blocks(self, vpc_id: str) -> tuple[str, ...]:
        """The VPC's associated IPv4 CIDR blocks."""
        ...


class AutoScaling(Protocol):
    def scalable_target(self, cluster: str, service: str) -> ScalableTarget | None:
        """The service's Application Auto Scaling target (ecs:service:DesiredCount); None
        when it has none."""
        ...

    def suspend(self, cluster: str, service: str, state: SuspendedState) -> None:
        """Set the existing target's SuspendedState to `state` (min, max untouched)."""
        ...


class Cloud(Protocol):
    """Everything the engine talks to, bundled."""

    elb: LoadBalancing
    ecs: Containers
    alarms: Alarms
    metrics: Metrics
    functions: Functions
    network: Network
    autoscaling: AutoScaling
