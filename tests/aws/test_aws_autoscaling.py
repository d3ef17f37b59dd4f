"""The Application Auto Scaling adapter against moto: a service's scalable target read (None
without one) and its SuspendedState written, min, max and the other services' targets left
as they were."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from stack import Stack

from bluegreen.aws import AwsCloud
from bluegreen.errors import AwsError
from bluegreen.scaling import ScalableTarget, SuspendedState, resource_id


def autoscaling() -> Any:
    return boto3.client("application-autoscaling", region_name="us-east-1")


def register(stack: Stack, service: str | None = None, **extra: Any) -> str:
    resource = f"service/{stack.cluster}/{service or stack.service}"
    autoscaling().register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=2,
        MaxCapacity=10,
        **extra,
    )
    return resource


def suspended_state(resource: str) -> dict[str, bool]:
    targets = autoscaling().describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource]
    )["ScalableTargets"]
    state: dict[str, bool] = targets[0]["SuspendedState"]
    return state


def test_a_service_without_a_scalable_target_has_none(cloud: AwsCloud, stack: Stack) -> None:
    assert cloud.autoscaling.scalable_target(stack.cluster, stack.service) is None
    assert cloud.calls == ["DescribeScalableTargets"]


def test_a_scalable_target_is_read_with_its_bounds_and_nothing_suspended(
    cloud: AwsCloud, stack: Stack
) -> None:
    resource = register(stack)
    assert cloud.autoscaling.scalable_target(stack.cluster, stack.service) == ScalableTarget(
        resource, 2, 10, SuspendedState()
    )


def test_what_is_suspended_is_read_flag_by_flag(cloud: AwsCloud, stack: Stack) -> None:
    register(
        stack,
        SuspendedState={
            "DynamicScalingInSuspended": False,
            "DynamicScalingOutSuspended": True,
            "ScheduledScalingSuspended": True,
        },
    )
    target = cloud.autoscaling.scalable_target(stack.cluster, stack.service)
    assert target is not None
    assert target.suspended == SuspendedState(dynamic_out=True, scheduled=True)


def test_suspending_writes_every_flag_and_keeps_min_and_max(cloud: AwsCloud, stack: Stack) -> None:
    resource = register(stack)
    cloud.autoscaling.suspend(stack.cluster, stack.service, SuspendedState(True, False, True))
    assert suspended_state(resource) == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": True,
    }
    target = cloud.autoscaling.scalable_target(stack.cluster, stack.service)
    assert target is not None and (target.min_capacity, target.max_capacity) == (2, 10)

    cloud.autoscaling.suspend(stack.cluster, stack.service, SuspendedState())  # resumed
    assert set(suspended_state(resource).values()) == {False}
    assert cloud.mutating_calls() == ["RegisterScalableTarget", "RegisterScalableTarget"]


def test_services_named_by_arn_are_found_by_their_names(cloud: AwsCloud, stack: Stack) -> None:
    register(stack)
    service_arn = f"arn:aws:ecs:us-east-1:123456789012:service/{stack.cluster}/{stack.service}"
    cluster_arn = f"arn:aws:ecs:us-east-1:123456789012:cluster/{stack.cluster}"
    assert resource_id(cluster_arn, service_arn) == f"service/{stack.cluster}/{stack.service}"
    assert cloud.autoscaling.scalable_target(cluster_arn, service_arn) is not None


def test_an_error_is_ours_naming_the_target(cloud: AwsCloud, stack: Stack) -> None:
    # moto refuses a target for a service that does not exist (as AWS does)
    with pytest.raises(
        AwsError, match=r"RegisterScalableTarget failed.*service/prod/no-such-service"
    ):
        cloud.autoscaling.suspend(stack.cluster, "no-such-service", SuspendedState(True))
