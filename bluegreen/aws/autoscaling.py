"""Application Auto Scaling: an ECS service's scalable target, read and its scaling suspended
or resumed (implements `bluegreen.ports.AutoScaling`).

Rules:
- Only an existing target is written: RegisterScalableTarget with the target's identity and
  SuspendedState alone updates that and nothing else (min, max, role untouched). It never
  creates one (which would need min and max, and iam:CreateServiceLinkedRole the first time),
  and never passes RoleARN (no iam:PassRole).
- The client is built on first use: with `[autoscaling] hold = "none"` it never is.
- All three SuspendedState flags are always written, so the state written is the state
  meant, whatever AWS does with a partial one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bluegreen.aws.retry import AwsCaller
from bluegreen.scaling import (
    SCALABLE_DIMENSION,
    SERVICE_NAMESPACE,
    ScalableTarget,
    SuspendedState,
    resource_id,
)

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_application_autoscaling.type_defs import ScalableTargetTypeDef


class ApplicationAutoScaling:
    """`AutoScaling` on boto3's application-autoscaling client."""

    def __init__(self, client: Callable[[], ApplicationAutoScalingClient], aws: AwsCaller) -> None:
        self._make_client = client
        self._client: ApplicationAutoScalingClient | None = None
        self._aws = aws

    @property
    def client(self) -> ApplicationAutoScalingClient:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def scalable_target(self, cluster: str, service: str) -> ScalableTarget | None:
        resource = resource_id(cluster, service)
        resp = self._aws.call(
            f"scalable target {resource}",
            self.client.describe_scalable_targets,
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceIds=[resource],
            ScalableDimension=SCALABLE_DIMENSION,
        )
        found = [t for t in resp.get("ScalableTargets", []) if t.get("ResourceId") == resource]
        return parse_scalable_target(found[0]) if found else None

    def suspend(self, cluster: str, service: str, state: SuspendedState) -> None:
        resource = resource_id(cluster, service)
        self._aws.call(
            f"scalable target {resource}",
            self.client.register_scalable_target,
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceId=resource,
            ScalableDimension=SCALABLE_DIMENSION,
            SuspendedState={
                "DynamicScalingInSuspended": state.dynamic_in,
                "DynamicScalingOutSuspended": state.dynamic_out,
                "ScheduledScalingSuspended": state.scheduled,
            },
        )


def parse_scalable_target(data: ScalableTargetTypeDef) -> ScalableTarget:
    suspended = data.get("SuspendedState") or {}  # absent: nothing suspended
    return ScalableTarget(
        resource_id=data["ResourceId"],
        min_capacity=int(data.get("MinCapacity", 0)),
        max_capacity=int(data.get("MaxCapacity", 0)),
        suspended=SuspendedState(
            dynamic_in=bool(suspended.get("DynamicScalingInSuspended", False)),
            dynamic_out=bool(suspended.get("DynamicScalingOutSuspended", False)),
            scheduled=bool(suspended.get("ScheduledScalingSuspended", False)),
        ),
    )
