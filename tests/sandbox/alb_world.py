"""A small ALB in moto for the simulated CloudWatch's tests (bluegreen/sandbox/metrics.py,
metric_data.py): VPC, 2 subnets, ALB "web", target groups "blue" and "green" (2 ip
targets each, healthy in moto), one HTTP listener — and only the metrics simulator and the
GetMetricData extension installed on a Sandbox, acted on and read through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from bluegreen.sandbox import metric_data, metrics
from bluegreen.sandbox.core import Sandbox

GREEN_IMAGE = "web:2.0.0"
RATE = 50.0  # requests a second at the listener: 3000 a minute
MINUTE = 60


@dataclass
class World:
    sandbox: Sandbox
    simulator: metrics.CloudWatchSimulator
    elb: Any
    cloudwatch: Any
    lb_arn: str
    blue: str
    green: str
    listener: str

    def dims(self, group: str) -> list[dict[str, str]]:
        return [
            {"Name": "LoadBalancer", "Value": self.lb_arn.split(":loadbalancer/")[1]},
            {"Name": "TargetGroup", "Value": group.rsplit(":", 1)[1]},
        ]

    def weigh(self, blue: int, green: int) -> None:
        self.elb.modify_listener(
            ListenerArn=self.listener, DefaultActions=forward(self, blue, green)
        )

    def stats(self, metric: str, group: str | None, stat: str = "Sum") -> list[float]:
        """One value per minute so far, oldest first; `group` None: load-balancer level."""
        dims = self.dims(group) if group else self.dims(self.blue)[:1]
        start = datetime.fromtimestamp(1_800_000_000 - 3600, UTC)
        answer = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/ApplicationELB",
            MetricName=metric,
            Dimensions=dims,
            StartTime=start,
            EndTime=start + timedelta(days=1),
            Period=MINUTE,
            Statistics=[stat],
        )
        points = sorted(answer["Datapoints"], key=lambda p: p["Timestamp"])
        return [p[stat] for p in points]

    def alarm(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][
            0
        ]
        return found

    def minutes(self, count: int) -> None:
        for _ in range(count):
            self.sandbox.clock.advance(MINUTE)


def forward(world: World, blue: int, green: int) -> list[dict[str, Any]]:
    groups = [
        {"TargetGroupArn": world.blue, "Weight": blue},
        {"TargetGroupArn": world.green, "Weight": green},
    ]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


def build_alb(region: str = "us-east-1") -> tuple[str, str, str, str]:
    """ALB "web" with target groups blue and green (2 healthy targets each) and an HTTP
    listener forwarding all to blue: (lb, blue, green, listener) ARNs."""
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    elb = boto3.client("elbv2", region_name=region)
    lb = elb.create_load_balancer(Name="web", Subnets=subnets, Type="application")
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    groups = []
    for name, ips in (("blue", ("10.0.1.10", "10.0.2.10")), ("green", ("10.0.1.20", "10.0.2.20"))):
        arn = elb.create_target_group(
            Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip} for ip in ips])
        groups.append(arn)
    listener = elb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[0]}],
    )["Listeners"][0]["ListenerArn"]
    return lb_arn, groups[0], groups[1], listener


def serve_green_with(image: str, green: str) -> None:
    """An ECS service (ECS controller) whose tasks run `image` behind the green group."""
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="prod")
    container: Any = {"name": "web", "image": image, "memory": 512}
    ecs.register_task_definition(family="web", containerDefinitions=[container])
    ecs.create_service(
        cluster="prod",
        serviceName="web-green",
        taskDefinition="web",
        desiredCount=0,
        loadBalancers=[{"targetGroupArn": green, "containerName": "web", "containerPort": 8080}],
    )


@contextmanager
def alb_world(**sandbox_options: Any) -> Iterator[World]:
    """The ALB in a fresh moto, on a Sandbox of `sandbox_options` (50 requests a second)."""
    with mock_aws():
        lb_arn, blue, green, listener = build_alb()
        sandbox = Sandbox(**{"request_rate": RATE, **sandbox_options})
        simulator = metrics.install(sandbox)
        metric_data.install()
        try:
            yield World(
                sandbox,
                simulator,
                boto3.client("elbv2", region_name="us-east-1"),
                boto3.client("cloudwatch", region_name="us-east-1"),
                lb_arn,
                blue,
                green,
                listener,
            )
        finally:
            metric_data.uninstall()
