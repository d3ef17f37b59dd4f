"""Helpers for the simulator tests: act and look through boto3, as a user would, on a stack
built by `bluegreen.sandbox.stack.build_stack` (blue serving on "web-blue")."""

from __future__ import annotations

from typing import Any

import boto3

from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import (
    CONTAINER,
    CONTAINER_PORT,
    SandboxStack,
    register_task_definition,
)

REGION = "us-east-1"
V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"


def elb() -> Any:
    return boto3.client("elbv2", region_name=REGION)


def ecs() -> Any:
    return boto3.client("ecs", region_name=REGION)


def task_definition(stack: SandboxStack, image: str) -> str:
    """A new revision of the stack's task definition running `image`."""
    return register_task_definition(ecs(), stack.service, image)


def network(stack: SandboxStack) -> dict[str, Any]:
    return {
        "awsvpcConfiguration": {
            "subnets": list(stack.subnet_ids),
            "securityGroups": [stack.security_group_id],
        }
    }


def green_task_set(
    stack: SandboxStack,
    image: str = V2,
    scale: float = 100,
    target_group_arn: str | None = None,
) -> dict[str, Any]:
    """CreateTaskSet on the green target group (or another), as the orchestrator does."""
    task_set: dict[str, Any] = ecs().create_task_set(
        cluster=stack.cluster,
        service=stack.service,
        taskDefinition=task_definition(stack, image),
        externalId="green",
        launchType="FARGATE",
        networkConfiguration=network(stack),
        loadBalancers=[
            {
                "targetGroupArn": target_group_arn or stack.green_tg_arn,
                "containerName": CONTAINER,
                "containerPort": CONTAINER_PORT,
            }
        ],
        scale={"unit": "PERCENT", "value": scale},
    )["taskSet"]
    return task_set


def delete_task_set(stack: SandboxStack, task_set_id: str) -> None:
    ecs().delete_task_set(cluster=stack.cluster, service=stack.service, taskSet=task_set_id)


def describe_task_set(stack: SandboxStack, task_set_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = ecs().describe_task_sets(
        cluster=stack.cluster, service=stack.service, taskSets=[task_set_id]
    )["taskSets"]
    return found[0]


def health(group_arn: str) -> dict[str, dict[str, Any]]:
    """Target id → {State, Reason?, Description?, Port} from DescribeTargetHealth."""
    answer = elb().describe_target_health(TargetGroupArn=group_arn)
    return {
        d["Target"]["Id"]: {**d["TargetHealth"], "Port": d["Target"]["Port"]}
        for d in answer["TargetHealthDescriptions"]
    }


def states(group_arn: str) -> list[tuple[str, str | None]]:
    """(State, Reason) of every target, sorted."""
    return sorted((h["State"], h.get("Reason")) for h in health(group_arn).values())


def advance(sandbox: Sandbox, seconds: float, step: float = 5.0) -> None:
    """Let `seconds` pass the way the engine does: sleeping in steps."""
    end = sandbox.clock.now() + seconds
    while sandbox.clock.now() < end:
        sandbox.clock.advance(min(step, end - sandbox.clock.now()))


def advance_to(sandbox: Sandbox, when: float, step: float = 5.0) -> None:
    advance(sandbox, when - sandbox.clock.now(), step)


def production_weights(stack: SandboxStack) -> set[tuple[int, int]]:
    """The (blue, green) weights of both production listeners: one element when they agree."""
    found = set()
    for arn in (stack.http_listener_arn, stack.https_listener_arn):
        action = elb().describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"][0]
        split = {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}
        found.add((split[stack.blue_tg_arn], split[stack.green_tg_arn]))
    return found
