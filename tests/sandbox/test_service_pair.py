"""service-pair mode end to end on the simulated AWS: two ECS-controller services, one per
target group. Each test asserts what AWS shows at the end: both listeners' weights, each
service's task definition and desired count, the target groups' health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from sim_helpers import ecs, elb
from sim_helpers import production_weights as weights

from bluegreen import Deployer
from bluegreen.config import parse_config
from bluegreen.errors import GateFailed, HealthCheckFailed, PreflightError
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
V3 = "public.ecr.aws/bluegreen/demo-web:3.0.0"


@pytest.fixture
def stack(sandbox: Sandbox) -> SandboxStack:
    return build_stack(sandbox, mode="service-pair")


def services(stack: SandboxStack) -> dict[str, tuple[str, int, str]]:
    """service name → (image it runs, desired count, target group)."""
    client = ecs()
    found = {}
    for svc in client.describe_services(
        cluster=stack.cluster, services=[stack.blue_service, stack.green_service]
    )["services"]:
        task_def = client.describe_task_definition(taskDefinition=svc["taskDefinition"])
        image = task_def["taskDefinition"]["containerDefinitions"][0]["image"]
        found[svc["serviceName"]] = (
            image,
            svc["desiredCount"],
            svc["loadBalancers"][0]["targetGroupArn"],
        )
    return found


def healthy(stack: SandboxStack, group: str) -> int:
    health = elb().describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return sum(1 for t in health if t["TargetHealth"]["State"] == "healthy")


def assert_blue_serves(stack: SandboxStack) -> None:
    assert weights(stack) == {(100, 0)}
    assert services(stack) == {
        stack.blue_service: (stack.image, 2, stack.blue_tg_arn),
        stack.green_service: (services(stack)[stack.green_service or ""][0], 0, stack.green_tg_arn),
    }
    assert healthy(stack, stack.blue_tg_arn) == 2


def test_a_deployment_moves_traffic_to_the_green_service_and_scales_blue_to_zero(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    result = make().deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert weights(stack) == {(0, 100)}
    assert services(stack) == {
        stack.blue_service: (stack.image, 0, stack.blue_tg_arn),
        stack.green_service: (V2, 2, stack.green_tg_arn),
    }
    assert healthy(stack, stack.green_tg_arn) == 2
    sandbox.clock.advance(120)  # blue's tasks drain away
    assert healthy(stack, stack.blue_tg_arn) == 0


def test_the_next_deployment_goes_back_to_the_first_service(make: Any, stack: SandboxStack) -> None:
    make().deploy({"web": V2})
    result = make().deploy({"web": V3})

    assert result.outcome == "succeeded"
    assert result.record.blue_service == stack.green_service
    assert weights(stack) == {(100, 0)}
    assert services(stack) == {
        stack.blue_service: (V3, 2, stack.blue_tg_arn),
        stack.green_service: (V2, 0, stack.green_tg_arn),
    }


def test_a_tripped_circuit_breaker_rolls_back_with_ecs_reason(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[V2] = AppModel(serves=("/api",))  # the health check on /health gets 404
    # Polled every 10 minutes, bluegreen's own early verdict (a definitive failure lasting
    # the target group's window) cannot come first: ECS's breaker stops this deployment.
    with pytest.raises(HealthCheckFailed, match="circuit breaker") as caught:
        make(health={"timeout": "1h", "poll_interval": "10m"}).deploy({"web": V2})

    assert "failed" in str(caught.value)
    assert sandbox.clock.now() < caught.value.result.record.created_at + 3600
    assert_blue_serves(stack)


def test_green_crashing_mid_shift_rolls_back(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[V2] = AppModel(crashes_after=120)
    steps = [{"weight": 10, "bake": "3m"}, {"weight": 50, "bake": "3m"}, {"weight": 100}]

    with pytest.raises(GateFailed, match="unhealthy"):
        make(strategy={"type": "steps", "steps": steps}).deploy({"web": V2})

    assert_blue_serves(stack)


def test_a_rollback_requested_at_a_pause_scales_green_to_zero(
    make: Any, stack: SandboxStack
) -> None:
    deployer = make(
        strategy={"type": "steps", "steps": [{"weight": 30, "pause": True}, {"weight": 100}]}
    )
    paused = deployer.deploy({"web": V2}, detach_at_pause=True)
    assert paused.outcome == "paused"
    assert weights(stack) == {(70, 30)}

    result = deployer.rollback(reason="on call said no")

    assert result.outcome == "rolled_back"
    assert_blue_serves(stack)


def test_task_sets_mode_on_an_ecs_controller_service_is_refused(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    data = stack.config()
    data["service"] = {
        "cluster": stack.cluster,
        "name": stack.blue_service,
        "container": "web",
        "container_port": 8080,
    }
    deployer = Deployer(parse_config(data, source=tmp_path / "b.toml"), clock=sandbox.clock)

    with pytest.raises(PreflightError, match="rolling deployments are driven by ECS") as caught:
        deployer.deploy({"web": V2})

    assert 'mode = "service-pair"' in str(caught.value)
    assert weights(stack) == {(100, 0)}


def test_a_code_deploy_service_is_refused_with_why(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    client = boto3.client("ecs", region_name=sandbox.region)
    client.create_service(
        cluster=stack.cluster,
        serviceName="web-codedeploy",
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )
    data = stack.config(service={"green_service": "web-codedeploy"})
    deployer = Deployer(parse_config(data, source=tmp_path / "b.toml"), clock=sandbox.clock)

    with pytest.raises(PreflightError, match="driven by CodeDeploy"):
        deployer.plan({"web": V2})


def test_a_classic_load_balancer_is_refused_with_what_to_use_instead(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    client = boto3.client("ecs", region_name=sandbox.region)
    client.create_service(
        cluster=stack.cluster,
        serviceName="web-classic",
        desiredCount=1,
        loadBalancers=[
            {"loadBalancerName": "web-elb", "containerName": "web", "containerPort": 8080}
        ],
    )
    data = stack.config(service={"green_service": "web-classic"})
    deployer = Deployer(parse_config(data, source=tmp_path / "b.toml"), clock=sandbox.clock)

    with pytest.raises(PreflightError, match="Classic Load Balancer web-elb") as caught:
        deployer.plan({"web": V2})

    assert "migrate to an Application or Network Load Balancer" in str(caught.value)
