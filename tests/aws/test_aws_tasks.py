"""The ECS adapter's tasks (aws/tasks.py) against moto: which tasks a task set or a service
runs, and the address each registers its target at. Paging and the answers moto does not
give (a task without an ENI attachment) come from a Stubber."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from stack import Stack

from bluegreen.aws import AwsCloud
from bluegreen.aws.ecs import EcsContainers
from bluegreen.aws.retry import AwsCaller
from bluegreen.clock import VirtualClock
from bluegreen.errors import MissingResourceError


def run_tasks(stack: Stack, started_by: str, count: int = 2) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = boto3.client("ecs", region_name=stack.region).run_task(
        cluster=stack.cluster,
        taskDefinition=stack.task_definition_arn,
        count=count,
        startedBy=started_by,
        launchType="FARGATE",
        networkConfiguration=stack.network_configuration,
    )["tasks"]
    return tasks


def eni_addresses(tasks: list[dict[str, Any]]) -> set[str]:
    """The private IPs of the tasks' network interfaces, as EC2 tells them."""
    ids = [
        d["value"]
        for t in tasks
        for a in t["attachments"]
        for d in a["details"]
        if d["name"] == "networkInterfaceId"
    ]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    found = ec2.describe_network_interfaces(NetworkInterfaceIds=ids)["NetworkInterfaces"]
    return {eni["PrivateIpAddress"] for eni in found}


def test_tasks_started_by_a_task_set_at_their_network_interfaces(
    cloud: AwsCloud, stack: Stack
) -> None:
    mine = run_tasks(stack, "ecs-svc/42")
    run_tasks(stack, "ecs-svc/other", count=1)

    tasks = cloud.ecs.tasks(stack.cluster, started_by="ecs-svc/42")

    assert sorted(t.arn for t in tasks) == sorted(t["taskArn"] for t in mine)
    assert {t.ip for t in tasks} == eni_addresses(mine) and None not in {t.ip for t in tasks}
    assert {(t.last_status, t.started_by, t.running) for t in tasks} == {
        ("RUNNING", "ecs-svc/42", True)
    }
    assert {t.task_definition for t in tasks} == {stack.task_definition_arn}
    assert cloud.calls == ["ListTasks", "DescribeTasks"]


def test_no_task_listed_asks_nothing_more(cloud: AwsCloud, stack: Stack) -> None:
    assert cloud.ecs.tasks(stack.cluster, started_by="ecs-svc/none") == []
    assert cloud.calls == ["ListTasks"]  # AWS refuses DescribeTasks with no task


def test_tasks_of_a_missing_cluster(cloud: AwsCloud, stack: Stack) -> None:
    with pytest.raises(MissingResourceError):
        cloud.ecs.tasks("nope", service="web")


def _task(arn: str, **fields: Any) -> dict[str, Any]:
    return {"taskArn": arn, "lastStatus": "RUNNING", "taskDefinitionArn": "arn:td/web:2", **fields}


def test_pages_are_followed_and_every_address_form_is_read() -> None:
    client = boto3.client("ecs", region_name="us-east-1")
    ecs = EcsContainers(client, AwsCaller(VirtualClock()))
    attached = _task(
        "arn:task/a",
        startedBy="ecs-svc/1",
        group="service:web-green",
        attachments=[
            {"type": "ElasticNetworkInterface", "details": [{"name": "subnetId", "value": "s"}]},
            {
                "type": "ElasticNetworkInterface",
                "details": [{"name": "privateIPv4Address", "value": "10.0.1.4"}],
            },
        ],
    )
    in_container = _task(
        "arn:task/b",
        lastStatus="PENDING",
        containers=[{"name": "web", "networkInterfaces": [{"privateIpv4Address": "10.0.2.5"}]}],
    )
    bridged = _task("arn:task/c", containers=[{"name": "web", "networkBindings": []}])
    with Stubber(client) as stub:
        listing = {"cluster": "prod", "serviceName": "web-green", "maxResults": 100}
        stub.add_response("list_tasks", {"taskArns": ["arn:task/a"], "nextToken": "t"}, listing)
        stub.add_response(
            "list_tasks", {"taskArns": ["arn:task/b", "arn:task/c"]}, listing | {"nextToken": "t"}
        )
        stub.add_response(
            "describe_tasks",
            {"tasks": [attached, in_container, bridged]},
            {"cluster": "prod", "tasks": ["arn:task/a", "arn:task/b", "arn:task/c"]},
        )

        tasks = ecs.tasks("prod", service="web-green")

    assert [(t.arn, t.ip, t.running) for t in tasks] == [
        ("arn:task/a", "10.0.1.4", True),
        ("arn:task/b", "10.0.2.5", False),
        ("arn:task/c", None, True),
    ]
    assert (tasks[0].started_by, tasks[0].group) == ("ecs-svc/1", "service:web-green")


def test_stopped_tasks_are_listed_with_why_and_when() -> None:
    from datetime import UTC, datetime

    from bluegreen.model import ContainerExit

    client = boto3.client("ecs", region_name="us-east-1")
    ecs = EcsContainers(client, AwsCaller(VirtualClock()))
    created, stopped = datetime(2026, 1, 1, 8, tzinfo=UTC), datetime(2026, 1, 1, 8, 1, tzinfo=UTC)
    exited = _task(
        "arn:task/a",
        lastStatus="STOPPED",
        stoppedReason="Essential container in task exited",
        stopCode="EssentialContainerExited",
        containers=[{"name": "web", "exitCode": 1}, {"name": "log", "exitCode": 0}],
        createdAt=created,
        stoppedAt=stopped,
    )
    pulled = _task(
        "arn:task/b",
        lastStatus="STOPPED",
        stopCode="TaskFailedToStart",
        containers=[{"name": "web", "reason": "CannotPullContainerError: denied"}, {"name": "x"}],
    )
    with Stubber(client) as stub:
        listing = {"cluster": "prod", "startedBy": "ecs-svc/1", "maxResults": 100}
        stub.add_response(
            "list_tasks",
            {"taskArns": ["arn:task/a", "arn:task/b"]},
            listing | {"desiredStatus": "STOPPED"},
        )
        stub.add_response(
            "describe_tasks",
            {"tasks": [exited, pulled]},
            {"cluster": "prod", "tasks": ["arn:task/a", "arn:task/b"]},
        )

        tasks = ecs.tasks("prod", started_by="ecs-svc/1", stopped=True)

    assert tasks[0].stopped_reason == "Essential container in task exited"
    assert tasks[0].stop_code == "EssentialContainerExited"
    assert tasks[0].exits == (ContainerExit("web", 1, None), ContainerExit("log", 0, None))
    assert (tasks[0].created_at, tasks[0].stopped_at) == (created.timestamp(), stopped.timestamp())
    assert (tasks[1].stopped_reason, tasks[1].stop_code) == (None, "TaskFailedToStart")
    assert tasks[1].exits == (ContainerExit("web", None, "CannotPullContainerError: denied"),)
    assert (tasks[1].created_at, tasks[1].stopped_at) == (None, None)
