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
    LoadBalancer,
    Route,
    RouteRef,
    Service,
    TargetGroup,
    TargetGroupHealth,
    TaskDefinition,
    TaskSet,
)


class LoadBalancing(Protocol):
    def target_groups(self, names_or_arns: Sequence[str]) -> list[TargetGroup]:
        """In the order asked. MissingResourceError names any that do not exist."""
        ...

    def target_health(self, target_group_arn: str) -> TargetGroupHealth: ...

    def load_balancer(self, arn: str) -> LoadBalancer: ...

    def route(self, ref: RouteRef) -> Route:
        """The listener's default action or the rule, with its forward weights."""
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

    def set_primary_task_set(self, cluster: str, service: str, task_set_id: str) -> None: ...

    def delete_task_set(self, cluster: str, service: str, task_set_id: str) -> None:
        """Deletes (force); a task set that is already gone is not an error."""
        ...


class Alarms(Protocol):
    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        """Every name asked for is in the answer; MISSING for an alarm that does not exist."""
        ...


class Functions(Protocol):
    def invoke(self, function: str, payload: bytes, timeout_seconds: float) -> tuple[bool, str]:
        """Synchronous invoke; (succeeded, output). A function error is not succeeded."""
        ...


class Cloud(Protocol):
    """Everything the engine talks to, bundled."""

    elb: LoadBalancing
    ecs: Containers
    alarms: Alarms
    functions: Functions
