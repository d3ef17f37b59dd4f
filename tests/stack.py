"""A realistic blue/green stack built in moto, shared by the adapter and end-to-end tests.

`build_stack()` calls boto3 directly and expects an active `moto.mock_aws` (or a moto
server behind AWS_ENDPOINT_URL). What it builds:

    VPC (DNS hostnames on: moto's task sets need it) ── 2 subnets, 1 security group
    ALB "web" ─┬─ HTTP :80 listener   default: forward blue 100 / green 0
               │      └─ rule /api*   (priority 10) forward blue 100 / green 0
               └─ HTTPS :443 listener (ACM certificate) default: forward blue 100 / green 0
    target groups "web-blue", "web-green": ip targets, HTTP 8080, health check /health
    ECS cluster "prod" ── service "web" (EXTERNAL controller)
                        └─ task set on web-blue (PRIMARY, 100 %) running task def "web:1"
    task definition "web": awsvpc, container "web" (memory set: moto adds them up),
        port 8080, environment SECRET=hunter2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from bluegreen.sandbox.stack_parts import network

CONTAINER = "web"
CONTAINER_PORT = 8080
SECRET_VALUE = "hunter2"
BLUE_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.0.0"


@dataclass(frozen=True)
class Stack:
    region: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_id: str
    lb_arn: str
    blue_tg_arn: str
    green_tg_arn: str
    http_listener_arn: str
    https_listener_arn: str
    api_rule_arn: str
    certificate_arn: str
    cluster: str
    service: str
    task_definition_arn: str
    blue_task_set_id: str
    blue_task_set_arn: str

    @property
    def network_configuration(self) -> dict[str, Any]:
        return network_configuration(self.subnet_ids, self.security_group_id)


def network_configuration(subnet_ids: tuple[str, ...], security_group_id: str) -> dict[str, Any]:
    return {
        "awsvpcConfiguration": {
            "subnets": list(subnet_ids),
            "securityGroups": [security_group_id],
            "assignPublicIp": "DISABLED",
        }
    }


def weighted_forward(blue: str, green: str, blue_weight: int = 100) -> list[dict[str, Any]]:
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": blue, "Weight": blue_weight},
                    {"TargetGroupArn": green, "Weight": 100 - blue_weight},
                ],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        }
    ]


def build_stack(region: str = "us-east-1") -> Stack:
    net = network(region, "web")  # the sandbox stack's: VPC, two subnets, a group
    vpc_id, subnet_ids, sg_id = net.vpc_id, net.subnet_ids, net.security_group_id
    elb = boto3.client("elbv2", region_name=region)
    lb_arn = elb.create_load_balancer(
        Name="web", Subnets=list(subnet_ids), SecurityGroups=[sg_id], Type="application"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    blue = create_target_group(elb, "web-blue", vpc_id)
    green = create_target_group(elb, "web-green", vpc_id)
    forward = weighted_forward(blue, green)
    http = elb.create_listener(
        LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, DefaultActions=forward
    )["Listeners"][0]["ListenerArn"]
    cert_arn = boto3.client("acm", region_name=region).request_certificate(
        DomainName="web.example.com", ValidationMethod="DNS"
    )["CertificateArn"]
    https = elb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": cert_arn}],
        DefaultActions=forward,
    )["Listeners"][0]["ListenerArn"]
    rule = elb.create_rule(
        ListenerArn=http,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api*"]}}],
        Actions=forward,
    )["Rules"][0]["RuleArn"]
    ecs = boto3.client("ecs", region_name=region)
    task_def_arn, task_set = _ecs(ecs, blue, network_configuration(subnet_ids, sg_id))
    return Stack(
        region=region,
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        security_group_id=sg_id,
        lb_arn=lb_arn,
        blue_tg_arn=blue,
        green_tg_arn=green,
        http_listener_arn=http,
        https_listener_arn=https,
        api_rule_arn=rule,
        certificate_arn=cert_arn,
        cluster="prod",
        service="web",
        task_definition_arn=task_def_arn,
        blue_task_set_id=task_set["id"],
        blue_task_set_arn=task_set["taskSetArn"],
    )


def create_target_group(elb: Any, name: str, vpc_id: str) -> str:
    arn: str = elb.create_target_group(
        Name=name,
        Protocol="HTTP",
        Port=CONTAINER_PORT,
        VpcId=vpc_id,
        TargetType="ip",
        HealthCheckPath="/health",
        HealthCheckIntervalSeconds=10,
        HealthyThresholdCount=2,
        Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]
    return arn


def task_definition_input(image: str = BLUE_IMAGE) -> dict[str, Any]:
    return {
        "family": "web",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": CONTAINER,
                "image": image,
                "memory": 512,  # moto's task sets add container memory up: it must be set
                "essential": True,
                "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
                "environment": [{"name": "SECRET", "value": SECRET_VALUE}],
            }
        ],
        "tags": [{"key": "app", "value": "web"}],
    }


def _ecs(ecs: Any, blue_tg: str, network: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ecs.create_cluster(clusterName="prod")
    task_def_arn: str = ecs.register_task_definition(**task_definition_input())["taskDefinition"][
        "taskDefinitionArn"
    ]
    ecs.create_service(
        cluster="prod",
        serviceName="web",
        desiredCount=2,
        deploymentController={"type": "EXTERNAL"},
    )
    task_set: dict[str, Any] = ecs.create_task_set(
        cluster="prod",
        service="web",
        taskDefinition=task_def_arn,
        externalId="blue",
        launchType="FARGATE",
        networkConfiguration=network,
        loadBalancers=[
            {"targetGroupArn": blue_tg, "containerName": CONTAINER, "containerPort": CONTAINER_PORT}
        ],
        scale={"unit": "PERCENT", "value": 100},
    )["taskSet"]
    ecs.update_service_primary_task_set(
        cluster="prod", service="web", primaryTaskSet=task_set["taskSetArn"]
    )
    return task_def_arn, task_set
