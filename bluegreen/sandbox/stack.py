"""A blue/green stack on the simulated AWS in one call, and the bluegreen configuration
that matches it — for `bluegreen demo`, the end-to-end tests and users' rehearsals.

    VPC (DNS hostnames on: moto's task sets need it) ── 2 subnets, 1 security group
    ALB <service> ─┬─ HTTP :80 listener    forward blue 100 / green 0
                   ├─ HTTPS :443 listener  (ACM certificate) forward blue 100 / green 0
                   │   └─ [api_rule] rule 10: /api* + X-Env: prod → authenticate-oidc,
                   │                          then forward blue 100 / green 0
                   └─ [test_listener] HTTP :8080 forward blue 100 / green 0
    target groups <service>-blue, <service>-green: ip targets, HTTP 8080, the health check
        and deregistration delay asked for
    ECS cluster ── service <service> (EXTERNAL controller)
                   └─ blue task set (PRIMARY, 100 %) on <service>-blue, already serving
    task definition <service>: awsvpc, FARGATE, container "web" (memory set: moto adds the
        containers' memory up), port 8080

Variants (keyword options; the defaults build the stack above):
- `mode="service-pair"`: instead of the EXTERNAL service, two ECS-controller services,
  `<service>-blue` (desired_count tasks, on the blue target group) and `<service>-green`
  (0 tasks, on the green one);
- `load_balancer="network"`: an NLB with a TCP :80 and a TLS :443 listener (and a TCP test
  listener); TCP target groups with TCP health checks; no listener rules on an NLB.

Built through boto3 under the active mock (like a user's infrastructure code would be),
then ECS's history is backdated so blue's tasks are running and their targets healthy
when `build_stack` returns.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any

import boto3

from bluegreen.config import merge_overrides
from bluegreen.onboarding.toml_writer import to_toml
from bluegreen.sandbox import ecs
from bluegreen.sandbox import stack_parts as parts
from bluegreen.sandbox.stack_parts import (
    CONTAINER,
    CONTAINER_PORT,
    HealthCheckSettings,
    LoadBalancerType,
    Mode,
    register_task_definition,
    self_signed,
)
from bluegreen.sandbox.world import Sandbox

__all__ = [
    "CONTAINER",
    "CONTAINER_PORT",
    "SERVING_FOR",
    "HealthCheckSettings",
    "SandboxStack",
    "build_stack",
    "register_task_definition",
    "self_signed",
]

SERVING_FOR = 3600.0  # how long blue has been serving when the stack is handed over


@dataclass(frozen=True)
class SandboxStack:
    region: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_id: str
    lb_arn: str
    blue_tg_arn: str
    green_tg_arn: str
    http_listener_arn: str  # HTTP :80 — TCP :80 on an NLB
    https_listener_arn: str  # HTTPS :443 — TLS :443 on an NLB
    cluster: str
    service: str  # task-sets: the EXTERNAL service; service-pair: the common prefix/family
    task_definition_arn: str
    blue_task_set_id: str | None  # None in service-pair mode
    image: str
    mode: Mode = "task-sets"
    lb_type: LoadBalancerType = "application"
    api_rule_arn: str | None = None
    test_listener_arn: str | None = None
    blue_service: str | None = None  # service-pair mode: the ECS-controller services
    green_service: str | None = None

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A bluegreen configuration for this stack; `overrides` are merged in
        (nested dicts key by key, anything else replaced; a strategy of another type
        replaces the canary, whose keys it would not accept)."""
        service: dict[str, Any] = {"cluster": self.cluster}
        if self.mode == "service-pair":
            service |= {
                "mode": "service-pair",
                "blue_service": self.blue_service,
                "green_service": self.green_service,
            }
        else:
            service["name"] = self.service
        service |= {"container": CONTAINER, "container_port": CONTAINER_PORT}
        routes: list[dict[str, str]] = [
            {"arn": self.http_listener_arn},
            {"arn": self.https_listener_arn},
        ]
        if self.api_rule_arn:
            routes.append({"rule": self.api_rule_arn})
        base: dict[str, Any] = {
            "service": service,
            "target_groups": {"blue": f"{self.service}-blue", "green": f"{self.service}-green"},
            "listeners": routes,
            "strategy": {"type": "canary", "percent": 10, "bake": "2m"},
            "health": {"timeout": "10m", "poll_interval": "5s"},
            "gates": {"bake_after_shift": "2m", "termination_wait": "1m"},
        }
        if self.test_listener_arn:
            base["test_listener"] = {"arn": self.test_listener_arn}
        return merge_overrides(base, copy.deepcopy(dict(overrides)))

    def config_toml(self, **overrides: Any) -> str:
        return to_toml(self.config(**overrides))

    def add_5xx_alarm(self, name: str, target_group_arn: str, threshold: float = 100) -> str:
        """An alarm on a target group's 5xx count, more than `threshold` in a minute, as a
        user would make for `[gates] alarms`; the sandbox evaluates it every minute."""
        group = target_group_arn.split(":")[-1]  # targetgroup/<name>/<id>
        balancer = "/".join(self.lb_arn.split(":")[-1].split("/")[1:])  # app/<name>/<id>
        boto3.client("cloudwatch", region_name=self.region).put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_Target_5XX_Count",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
            Dimensions=[
                {"Name": "LoadBalancer", "Value": balancer},
                {"Name": "TargetGroup", "Value": group},
            ],
        )
        return name


def build_stack(
    sandbox: Sandbox,
    *,
    image: str = "public.ecr.aws/bluegreen/demo-web:1.0.0",
    desired_count: int = 2,
    health_check_path: str = "/health",
    interval_seconds: int = 10,
    healthy_threshold: int = 3,
    deregistration_delay: int = 30,
    service_name: str = "web",
    cluster: str = "demo",
    mode: Mode = "task-sets",
    load_balancer: LoadBalancerType = "application",
    api_rule: bool = False,
    test_listener: bool = False,
) -> SandboxStack:
    """Build the stack inside `in_process(sandbox)`; blue is serving when it returns.

    `health_check_path` applies to ALB target groups only (NLB ones check TCP); `api_rule`
    needs an ALB."""
    if api_rule and load_balancer != "application":
        raise ValueError("listener rules exist on Application Load Balancers only")
    limits = sandbox.simulators.get("api_limits")
    # The user's infrastructure, built at one instant: not the product's calls (nor limited).
    with limits.paused() if limits is not None else contextlib.nullcontext():
        return _build(
            sandbox,
            image=image,
            desired_count=desired_count,
            check=HealthCheckSettings(health_check_path, interval_seconds, healthy_threshold),
            deregistration_delay=deregistration_delay,
            service_name=service_name,
            cluster=cluster,
            mode=mode,
            load_balancer=load_balancer,
            api_rule=api_rule,
            test_listener=test_listener,
        )


def _build(
    sandbox: Sandbox,
    *,
    image: str,
    desired_count: int,
    check: HealthCheckSettings,
    deregistration_delay: int,
    service_name: str,
    cluster: str,
    mode: Mode,
    load_balancer: LoadBalancerType,
    api_rule: bool,
    test_listener: bool,
) -> SandboxStack:
    region = sandbox.region
    net = parts.network(region, service_name)
    elb = boto3.client("elbv2", region_name=region)
    groups = {
        colour: parts.target_group(
            elb, f"{service_name}-{colour}", net.vpc_id, check, deregistration_delay, load_balancer
        )
        for colour in ("blue", "green")
    }
    routes = parts.load_balancer(
        elb,
        region,
        service_name,
        load_balancer,
        net,
        groups,
        api_rule=api_rule,
        test_listener=test_listener,
    )
    client = boto3.client("ecs", region_name=region)
    client.create_cluster(clusterName=cluster)
    task_def_arn = register_task_definition(client, service_name, image)
    task_set_id = blue_service = green_service = None
    if mode == "service-pair":
        blue_service, green_service = parts.ecs_service_pair(
            client, cluster, service_name, task_def_arn, desired_count, groups, net
        )
    else:
        task_set_id = parts.ecs_task_sets(
            client, cluster, service_name, task_def_arn, desired_count, groups["blue"], net
        )
    ecs.backdate(sandbox, SERVING_FOR)
    return SandboxStack(
        region=region,
        vpc_id=net.vpc_id,
        subnet_ids=net.subnet_ids,
        security_group_id=net.security_group_id,
        lb_arn=routes.lb_arn,
        blue_tg_arn=groups["blue"],
        green_tg_arn=groups["green"],
        http_listener_arn=routes.http_listener_arn,
        https_listener_arn=routes.https_listener_arn,
        cluster=cluster,
        service=service_name,
        task_definition_arn=task_def_arn,
        blue_task_set_id=task_set_id,
        image=image,
        mode=mode,
        lb_type=load_balancer,
        api_rule_arn=routes.api_rule_arn,
        test_listener_arn=routes.test_listener_arn,
        blue_service=blue_service,
        green_service=green_service,
    )
