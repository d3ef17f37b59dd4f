"""ECS on the simulated AWS runs tasks the way the ECS documentation describes, observed
through DescribeTaskSets, DescribeServices and DescribeTargetHealth.

The stack: service "web" (EXTERNAL, desired 2), blue serving on web-blue; target groups
check every 10 s (healthy threshold 3, unhealthy threshold 2), deregistration delay 30 s;
tasks start 15 s after they are asked for.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from moto.ecs.models import EC2ContainerServiceBackend
from sim_helpers import (
    V2,
    advance,
    advance_to,
    delete_task_set,
    describe_task_set,
    ecs,
    green_task_set,
    health,
    network,
    states,
    task_definition,
)

from bluegreen.sandbox import AppModel, Sandbox, in_process
from bluegreen.sandbox.stack import CONTAINER, CONTAINER_PORT, SandboxStack

BROKEN = "public.ecr.aws/bluegreen/demo-web:3.0.0"


def counts(task_set: dict[str, Any]) -> tuple[int, int, int, str]:
    return (
        task_set["computedDesiredCount"],
        task_set["pendingCount"],
        task_set["runningCount"],
        task_set["stabilityStatus"],
    )


# -- task sets ---------------------------------------------------------------------------------


def test_task_set_tasks_register_after_the_start_delay_with_their_own_addresses(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    created = sandbox.clock.now()
    task_set = green_task_set(stack)

    advance_to(sandbox, created + 14, step=1)
    assert health(stack.green_tg_arn) == {}
    advance_to(sandbox, created + 15, step=1)
    targets = health(stack.green_tg_arn)
    assert len(targets) == 2
    assert {t["Port"] for t in targets.values()} == {CONTAINER_PORT}
    blue = set(health(stack.blue_tg_arn))
    assert not blue & set(targets), "every task has an address of its own"
    subnets = [
        ipaddress.ip_network(s["CidrBlock"])
        for s in _ec2().describe_subnets(SubnetIds=list(stack.subnet_ids))["Subnets"]
    ]
    for address in targets:
        assert any(ipaddress.ip_address(address) in subnet for subnet in subnets)
    assert describe_task_set(stack, task_set["id"])["runningCount"] == 2


def _ec2() -> Any:
    import boto3

    return boto3.client("ec2", region_name="us-east-1")


def test_task_set_counts_and_stability_follow_the_tasks(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    created = sandbox.clock.now()
    task_set = green_task_set(stack)

    assert counts(describe_task_set(stack, task_set["id"])) == (2, 2, 0, "STABILIZING")
    advance_to(sandbox, created + 15)
    assert counts(describe_task_set(stack, task_set["id"])) == (2, 0, 2, "STABILIZING")
    advance_to(sandbox, created + 15 + 30)  # every target healthy
    described = describe_task_set(stack, task_set["id"])
    assert counts(described) == (2, 0, 2, "STEADY_STATE")
    assert described["stabilityStatusAt"].timestamp() == created + 45
    service = ecs().describe_services(cluster=stack.cluster, services=[stack.service])
    assert service["services"][0]["runningCount"] == 4  # blue's two and green's two


def test_the_computed_desired_count_rounds_up(sandbox: Sandbox, stack: SandboxStack) -> None:
    task_set = green_task_set(stack, scale=30)  # 2 × 30 % = 0.6 → 1

    assert describe_task_set(stack, task_set["id"])["computedDesiredCount"] == 1
    ecs().update_service(cluster=stack.cluster, service=stack.service, desiredCount=4)
    assert describe_task_set(stack, task_set["id"])["computedDesiredCount"] == 2  # 1.2 → 2


def test_scaling_a_task_set_in_drains_its_extra_targets(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    task_set = green_task_set(stack)
    advance(sandbox, 60)

    ecs().update_task_set(
        cluster=stack.cluster,
        service=stack.service,
        taskSet=task_set["id"],
        scale={"unit": "PERCENT", "value": 50},
    )
    assert states(stack.green_tg_arn) == [
        ("draining", "Target.DeregistrationInProgress"),
        ("healthy", None),
    ]
    assert counts(describe_task_set(stack, task_set["id"])) == (1, 0, 1, "STEADY_STATE")
    advance(sandbox, 30)
    assert states(stack.green_tg_arn) == [("healthy", None)]


def test_a_deleted_task_set_drains_then_its_targets_are_gone(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    task_set = green_task_set(stack)
    advance(sandbox, 60)

    delete_task_set(stack, task_set["id"])
    assert states(stack.green_tg_arn) == [("draining", "Target.DeregistrationInProgress")] * 2
    advance(sandbox, 30)
    assert health(stack.green_tg_arn) == {}


def test_a_service_without_task_sets_runs_nothing(sandbox: Sandbox, stack: SandboxStack) -> None:
    delete_task_set(stack, stack.blue_task_set_id)

    service = ecs().describe_services(cluster=stack.cluster, services=[stack.service])
    found = service["services"][0]
    assert (found["runningCount"], found["pendingCount"]) == (0, 0)


def test_unhealthy_tasks_are_replaced_and_stay_visible_until_their_replacement_runs(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[BROKEN] = AppModel(serves=("/api",))
    created = sandbox.clock.now()
    task_set = green_task_set(stack, BROKEN)
    first = set(health(stack.green_tg_arn) or {})

    advance_to(sandbox, created + 15 + 20)  # the first two turn unhealthy: replacements start
    first = set(health(stack.green_tg_arn))
    assert counts(describe_task_set(stack, task_set["id"]))[1:3] == (2, 2)
    advance_to(sandbox, created + 35 + 15)  # replacements registered; the first still there
    assert (
        states(stack.green_tg_arn)
        == [("initial", "Elb.RegistrationInProgress")] * 2
        + [("unhealthy", "Target.ResponseCodeMismatch")] * 2
    )
    advance_to(sandbox, created + 50 + 20)  # the replacements fail too: the first make room
    answers = health(stack.green_tg_arn)
    assert {answers[a]["State"] for a in first} == {"draining"}
    assert describe_task_set(stack, task_set["id"])["stabilityStatus"] == "STABILIZING"


def test_a_crashed_task_is_replaced_and_its_replacement_serves(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[BROKEN] = AppModel(crashes_after=120)
    created = sandbox.clock.now()
    green_task_set(stack, BROKEN)
    advance_to(sandbox, created + 15 + 30)
    first = set(health(stack.green_tg_arn))
    assert states(stack.green_tg_arn) == [("healthy", None)] * 2

    advance_to(sandbox, created + 15 + 120 + 20)  # crashed 20 s ago: 2 failed checks
    answers = health(stack.green_tg_arn)
    assert {answers[a]["Reason"] for a in first} == {"Target.FailedHealthChecks"}
    advance(sandbox, 15 + 30)  # the replacements run and are healthy: the crashed ones go
    answers = health(stack.green_tg_arn)
    assert {answers[a]["State"] for a in first} == {"draining"}
    assert sorted(a["State"] for t, a in answers.items() if t not in first) == ["healthy"] * 2


# -- services using the ECS (rolling update) controller ---------------------------------------


def rolling_service(stack: SandboxStack, image: str = V2) -> None:
    ecs().create_service(
        cluster=stack.cluster,
        serviceName="api",
        taskDefinition=task_definition(stack, image),
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration=network(stack),
        loadBalancers=[
            {
                "targetGroupArn": stack.green_tg_arn,
                "containerName": CONTAINER,
                "containerPort": CONTAINER_PORT,
            }
        ],
    )


def deployments(stack: SandboxStack) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ecs().describe_services(cluster=stack.cluster, services=["api"])[
        "services"
    ][0]["deployments"]
    return found


def rollout(stack: SandboxStack) -> list[tuple[str, str, int, int]]:
    return [
        (d["status"], d["rolloutState"], d["runningCount"], d["failedTasks"])
        for d in deployments(stack)
    ]


def test_a_service_deployment_completes_when_its_tasks_run_and_are_healthy(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    rolling_service(stack)
    assert rollout(stack) == [("PRIMARY", "IN_PROGRESS", 0, 0)]
    advance(sandbox, 15)
    assert rollout(stack) == [("PRIMARY", "IN_PROGRESS", 2, 0)]
    advance(sandbox, 30)
    assert rollout(stack) == [("PRIMARY", "COMPLETED", 2, 0)]
    service = ecs().describe_services(cluster=stack.cluster, services=["api"])["services"][0]
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)


def test_a_new_task_definition_rolls_out_and_retires_the_old_deployment(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    rolling_service(stack)
    advance(sandbox, 60)
    old = set(health(stack.green_tg_arn))

    new_task_definition = task_definition(stack, "public.ecr.aws/bluegreen/demo-web:4.0.0")
    ecs().update_service(cluster=stack.cluster, service="api", taskDefinition=new_task_definition)
    assert rollout(stack) == [("PRIMARY", "IN_PROGRESS", 0, 0), ("ACTIVE", "COMPLETED", 2, 0)]
    assert deployments(stack)[0]["taskDefinition"] == new_task_definition
    advance(sandbox, 45)
    assert rollout(stack) == [("PRIMARY", "COMPLETED", 2, 0)]
    answers = health(stack.green_tg_arn)
    assert {answers[a]["State"] for a in old} == {"draining"}


def test_a_desired_count_change_scales_the_primary_deployment(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    rolling_service(stack)
    advance(sandbox, 60)
    first_id = deployments(stack)[0]["id"]

    ecs().update_service(cluster=stack.cluster, service="api", desiredCount=3)
    advance(sandbox, 15)
    assert [(d["id"], d["desiredCount"], d["runningCount"]) for d in deployments(stack)] == [
        (first_id, 3, 3)
    ]
    ecs().update_service(cluster=stack.cluster, service="api", desiredCount=1)
    assert [(d["id"], d["runningCount"]) for d in deployments(stack)] == [(first_id, 1)]
    assert sorted(h["State"] for h in health(stack.green_tg_arn).values()) == [
        "draining",
        "draining",  # the newest tasks stop first
        "healthy",
    ]


def test_force_new_deployment_starts_a_new_deployment(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    rolling_service(stack)
    advance(sandbox, 60)
    ecs().update_service(cluster=stack.cluster, service="api", forceNewDeployment=True)
    assert rollout(stack) == [("PRIMARY", "IN_PROGRESS", 0, 0), ("ACTIVE", "COMPLETED", 2, 0)]


@pytest.mark.parametrize("step", [5.0, 600.0], ids=["small-steps", "one-jump"])
def test_the_circuit_breaker_fails_a_deployment_whose_tasks_keep_failing(
    sandbox: Sandbox, stack: SandboxStack, step: float
) -> None:
    rolling_service(stack)
    advance(sandbox, 60)
    sandbox.apps[BROKEN] = AppModel(serves=("/api",))

    ecs().update_service(
        cluster=stack.cluster, service="api", taskDefinition=task_definition(stack, BROKEN)
    )
    advance(sandbox, 600, step=step)
    (primary, active) = deployments(stack)
    assert (primary["rolloutState"], active["status"], active["runningCount"]) == (
        "FAILED",
        "ACTIVE",
        2,
    )
    assert primary["failedTasks"] >= 3
    assert primary["rolloutStateReason"].startswith("ECS deployment circuit breaker")
    assert states(stack.green_tg_arn).count(("healthy", None)) == 2  # the old tasks serve on


def test_leaving_the_sandbox_gives_moto_its_own_ecs_back() -> None:
    original = EC2ContainerServiceBackend.update_service
    with in_process(Sandbox()):
        assert EC2ContainerServiceBackend.update_service is not original
    assert EC2ContainerServiceBackend.update_service is original
