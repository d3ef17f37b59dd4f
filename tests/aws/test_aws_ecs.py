"""The ECS adapter against moto: services, task definitions and task sets."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from stack import CONTAINER, CONTAINER_PORT, SECRET_VALUE, Stack

from bluegreen.aws import AwsCloud
from bluegreen.aws.ecs import EcsContainers, client_token
from bluegreen.aws.retry import AwsCaller
from bluegreen.clock import VirtualClock
from bluegreen.errors import ConfigError, MissingResourceError
from bluegreen.model import TaskSetStatus

GREEN_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:2.0.0"


def create_green(cloud: AwsCloud, stack: Stack, external_id: str = "green") -> Any:
    return cloud.ecs.create_task_set(
        cluster=stack.cluster,
        service=stack.service,
        task_definition=stack.task_definition_arn,
        target_group_arn=stack.green_tg_arn,
        container_name=CONTAINER,
        container_port=CONTAINER_PORT,
        external_id=external_id,
        network_configuration=stack.network_configuration,
        launch_type="FARGATE",
        capacity_provider_strategy=(),
        platform_version="1.4.0",
    )


# -- services ---------------------------------------------------------------------------------


def test_service_with_its_task_sets(cloud: AwsCloud, stack: Stack) -> None:
    service = cloud.ecs.service(stack.cluster, stack.service)

    assert (service.name, service.status, service.controller) == ("web", "ACTIVE", "EXTERNAL")
    assert service.cluster_arn.endswith(":cluster/prod")
    assert service.desired_count == 2
    [blue] = service.task_sets
    assert (blue.id, blue.arn) == (stack.blue_task_set_id, stack.blue_task_set_arn)
    assert blue.status is TaskSetStatus.PRIMARY
    assert blue.task_definition == stack.task_definition_arn
    assert blue.target_group_arns == (stack.blue_tg_arn,)
    assert (blue.external_id, blue.scale_percent) == ("blue", 100.0)
    # moto leaves the counts out: None, never a made-up 0
    assert (blue.running_count, blue.pending_count, blue.desired_count) == (None, None, None)
    assert blue.stable is True
    assert blue.launch_type == "FARGATE"
    assert blue.network_configuration == stack.network_configuration


def test_service_of_the_ecs_controller(cloud: AwsCloud, stack: Stack) -> None:
    boto3.client("ecs").create_service(
        cluster=stack.cluster,
        serviceName="web-blue",
        taskDefinition=stack.task_definition_arn,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=stack.network_configuration,
        loadBalancers=[
            {
                "targetGroupArn": stack.blue_tg_arn,
                "containerName": CONTAINER,
                "containerPort": CONTAINER_PORT,
            }
        ],
    )

    service = cloud.ecs.service(stack.cluster, "web-blue")

    assert service.controller == "ECS"
    assert service.task_definition == stack.task_definition_arn
    assert service.launch_type == "FARGATE"
    assert service.network_configuration == stack.network_configuration
    [binding] = service.load_balancers
    assert (binding.target_group_arn, binding.container_name, binding.container_port) == (
        stack.blue_tg_arn,
        CONTAINER,
        CONTAINER_PORT,
    )
    assert service.task_sets == ()


def test_a_missing_service(cloud: AwsCloud, stack: Stack) -> None:
    with pytest.raises(MissingResourceError, match="service nope not found in cluster prod"):
        cloud.ecs.service(stack.cluster, "nope")


def test_an_inactive_service_is_missing(cloud: AwsCloud, stack: Stack) -> None:
    ecs = boto3.client("ecs")
    ecs.create_service(cluster=stack.cluster, serviceName="old", taskDefinition="web")
    ecs.delete_service(cluster=stack.cluster, service="old", force=True)

    with pytest.raises(MissingResourceError, match="service old not found"):
        cloud.ecs.service(stack.cluster, "old")


def test_a_missing_cluster(cloud: AwsCloud) -> None:
    with pytest.raises(MissingResourceError, match="cluster staging") as caught:
        cloud.ecs.service("staging", "web")
    assert caught.value.hint and "list-clusters" in caught.value.hint


# -- task definitions -------------------------------------------------------------------------


def test_task_definition(cloud: AwsCloud, stack: Stack) -> None:
    td = cloud.ecs.task_definition("web")

    assert (td.arn, td.family, td.revision) == (stack.task_definition_arn, "web", 1)
    assert td.image_of(CONTAINER) == "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.0.0"
    assert td.container_ports == {CONTAINER: (CONTAINER_PORT,)}
    assert td.secret_values == frozenset({SECRET_VALUE})
    reg = td.registration
    for read_only in ("taskDefinitionArn", "revision", "status", "compatibilities"):
        assert read_only not in reg
    assert reg["family"] == "web"
    assert reg["networkMode"] == "awsvpc"
    assert (reg["cpu"], reg["memory"]) == ("256", "512")
    assert reg["tags"] == [{"key": "app", "value": "web"}]
    assert reg["containerDefinitions"][0]["environment"] == [
        {"name": "SECRET", "value": SECRET_VALUE}
    ]


def test_registration_round_trips_with_a_new_image(cloud: AwsCloud, stack: Stack) -> None:
    current = cloud.ecs.task_definition(stack.task_definition_arn)
    registration = dict(current.registration)
    registration["containerDefinitions"] = [
        {**c, "image": GREEN_IMAGE} for c in registration["containerDefinitions"]
    ]

    new = cloud.ecs.register_task_definition(registration)

    assert (new.family, new.revision) == ("web", 2)
    assert new.image_of(CONTAINER) == GREEN_IMAGE
    assert new.secret_values == current.secret_values
    assert new.registration["tags"] == current.registration["tags"]
    # the one we read is left as it was
    assert cloud.ecs.task_definition("web:1").image_of(CONTAINER) == current.image_of(CONTAINER)
    assert cloud.mutating_calls() == ["RegisterTaskDefinition"]


def test_register_without_containers_is_a_config_error(cloud: AwsCloud) -> None:
    with pytest.raises(ConfigError, match="containerDefinitions"):
        cloud.ecs.register_task_definition({"family": "web"})
    assert cloud.calls == []


def test_register_a_malformed_task_definition_is_a_config_error(
    cloud: AwsCloud, stack: Stack
) -> None:
    registration = {**cloud.ecs.task_definition("web").registration, "cpuUnits": 256}

    with pytest.raises(ConfigError, match="cpuUnits"):
        cloud.ecs.register_task_definition(registration)


def test_a_missing_task_definition(cloud: AwsCloud) -> None:
    with pytest.raises(MissingResourceError, match="task definition web:7 not found") as caught:
        cloud.ecs.task_definition("web:7")
    assert caught.value.hint and "list-task-definitions" in caught.value.hint


# -- task sets --------------------------------------------------------------------------------


def test_task_set_lifecycle(cloud: AwsCloud, stack: Stack) -> None:
    green = create_green(cloud, stack)

    assert green.status is TaskSetStatus.ACTIVE
    assert green.target_group_arns == (stack.green_tg_arn,)
    assert (green.external_id, green.scale_percent) == ("green", 100.0)
    assert {ts.id for ts in cloud.ecs.task_sets(stack.cluster, stack.service)} == {
        stack.blue_task_set_id,
        green.id,
    }

    cloud.ecs.set_primary_task_set(stack.cluster, stack.service, green.id)
    statuses = {ts.id: ts.status for ts in cloud.ecs.task_sets(stack.cluster, stack.service)}
    assert statuses[green.id] is TaskSetStatus.PRIMARY
    assert statuses[stack.blue_task_set_id] is not TaskSetStatus.PRIMARY

    cloud.ecs.delete_task_set(stack.cluster, stack.service, stack.blue_task_set_id)
    remaining = cloud.ecs.task_sets(stack.cluster, stack.service)
    assert stack.blue_task_set_id not in {
        ts.id for ts in remaining if ts.status.value != "DRAINING"
    }
    assert cloud.mutating_calls() == [
        "CreateTaskSet",
        "UpdateServicePrimaryTaskSet",
        "DeleteTaskSet",
    ]


def test_create_task_set_sends_only_what_is_set(cloud: AwsCloud, stack: Stack) -> None:
    sent: list[dict[str, Any]] = []
    events = cloud.ecs._client.meta.events  # type: ignore[attr-defined]
    events.register(
        "provide-client-params.ecs.CreateTaskSet", lambda params, **_: sent.append(params)
    )

    create_green(cloud, stack)

    [params] = sent
    assert params["clientToken"] == client_token("green", stack.green_tg_arn)
    assert params["scale"] == {"unit": "PERCENT", "value": 100.0}
    assert params["loadBalancers"] == [
        {
            "targetGroupArn": stack.green_tg_arn,
            "containerName": CONTAINER,
            "containerPort": CONTAINER_PORT,
        }
    ]
    assert (params["launchType"], params["platformVersion"]) == ("FARGATE", "1.4.0")
    assert "capacityProviderStrategy" not in params


def test_client_token_is_stable_and_short() -> None:
    token = client_token("bg-20250101-0001", "arn:aws:elasticloadbalancing:tg/web-green/1")
    assert token == client_token("bg-20250101-0001", "arn:aws:elasticloadbalancing:tg/web-green/1")
    assert token != client_token("bg-20250101-0001", "arn:aws:elasticloadbalancing:tg/web-blue/1")
    assert len(token) <= 36 and token.isascii()


def test_deleting_a_task_set_that_is_gone_is_quiet(cloud: AwsCloud, stack: Stack) -> None:
    cloud.ecs.delete_task_set(stack.cluster, stack.service, "ecs-svc/0000000000000000000")


@pytest.mark.parametrize(
    ("code", "quiet"),
    [
        ("TaskSetNotFoundException", True),
        ("ServiceNotFoundException", False),
        ("ClusterNotFoundException", False),
    ],
)
def test_deleting_a_task_set_is_quiet_only_when_the_task_set_is_gone(
    clock: VirtualClock, code: str, quiet: bool
) -> None:
    # moto crashes (KeyError) on a missing service here: AWS's answers come from a Stubber.
    client = boto3.client("ecs", region_name="us-east-1")
    ecs = EcsContainers(client, AwsCaller(clock))
    with Stubber(client) as stub:
        stub.add_client_error("delete_task_set", service_error_code=code, service_message="gone")
        if quiet:
            ecs.delete_task_set("prod", "web", "ecs-svc/1")
        else:
            with pytest.raises(MissingResourceError):
                ecs.delete_task_set("prod", "web", "ecs-svc/1")


def test_setting_a_missing_task_set_primary(cloud: AwsCloud, stack: Stack) -> None:
    with pytest.raises(MissingResourceError, match="task set ecs-svc/123 of service web"):
        cloud.ecs.set_primary_task_set(stack.cluster, stack.service, "ecs-svc/123")
    assert cloud.mutating_calls() == []


def test_task_sets_of_a_missing_service(cloud: AwsCloud, stack: Stack) -> None:
    with pytest.raises(MissingResourceError, match="service nope in cluster prod"):
        cloud.ecs.task_sets(stack.cluster, "nope")


def test_the_circuit_breaker_is_read_from_the_deployment_configuration() -> None:
    from bluegreen.aws.ecs import parse_service

    bare: Any = {"serviceArn": "arn:svc/web", "serviceName": "web"}
    on = bare | {"deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True}}}
    off = bare | {"deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": False}}}

    assert parse_service(on).circuit_breaker is True
    assert parse_service(off).circuit_breaker is False
    assert parse_service(bare).circuit_breaker is False  # moto drops the configuration
