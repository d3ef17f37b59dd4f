"""A blue/green stack on the simulated AWS in one call, and the bluegreen configuration
that matches it — for `bluegreen demo`, the end-to-end tests and users' rehearsals.

    VPC (DNS hostnames on: moto's task sets need it) ── 2 subnets, 1 security group
    ALB <service> ─┬─ HTTP :80 listener    forward blue 100 / green 0
                   └─ HTTPS :443 listener  (ACM certificate) forward blue 100 / green 0
    target groups <service>-blue, <service>-green: ip targets, HTTP 8080, the health check
        and deregistration delay asked for
    ECS cluster ── service <service> (EXTERNAL controller)
                   └─ blue task set (PRIMARY, 100 %) on <service>-blue, already serving
    task definition <service>: awsvpc, FARGATE, container "web" (memory set: moto adds the
        containers' memory up), port 8080

Built through boto3 under the active mock (like a user's infrastructure code would be),
then ECS's history is backdated so blue's tasks are running and their targets healthy
when `build_stack` returns.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bluegreen.config import merge_overrides
from bluegreen.sandbox import ecs
from bluegreen.sandbox.core import Sandbox
from bluegreen.sandbox.toml_writer import to_toml

CONTAINER = "web"
CONTAINER_PORT = 8080
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
    http_listener_arn: str
    https_listener_arn: str
    cluster: str
    service: str
    task_definition_arn: str
    blue_task_set_id: str
    image: str

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A bluegreen configuration (SPEC §3) for this stack; `overrides` are merged in
        (nested dicts key by key, anything else replaced; a strategy of another type
        replaces the canary, whose keys it would not accept)."""
        base: dict[str, Any] = {
            "service": {
                "cluster": self.cluster,
                "name": self.service,
                "container": CONTAINER,
                "container_port": CONTAINER_PORT,
            },
            "target_groups": {"blue": f"{self.service}-blue", "green": f"{self.service}-green"},
            "listeners": [{"arn": self.http_listener_arn}, {"arn": self.https_listener_arn}],
            "strategy": {"type": "canary", "percent": 10, "bake": "2m"},
            "health": {"timeout": "10m", "poll_interval": "5s"},
            "gates": {"bake_after_shift": "2m", "termination_wait": "1m"},
        }
        return merge_overrides(base, copy.deepcopy(dict(overrides)))

    def config_toml(self, **overrides: Any) -> str:
        return to_toml(self.config(**overrides))


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
) -> SandboxStack:
    """Build the stack inside `in_process(sandbox)`; blue is serving when it returns."""
    region = sandbox.region
    vpc_id, subnet_ids, sg_id = _network(region, service_name)
    elb = boto3.client("elbv2", region_name=region)
    check = HealthCheckSettings(health_check_path, interval_seconds, healthy_threshold)
    groups = {
        colour: _target_group(elb, f"{service_name}-{colour}", vpc_id, check, deregistration_delay)
        for colour in ("blue", "green")
    }
    lb_arn, http, https = _load_balancer(elb, region, service_name, subnet_ids, sg_id, groups)
    task_def_arn, task_set_id = _ecs(
        region, cluster, service_name, image, desired_count, groups["blue"], (subnet_ids, sg_id)
    )
    ecs.backdate(sandbox, SERVING_FOR)
    return SandboxStack(
        region=region,
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        security_group_id=sg_id,
        lb_arn=lb_arn,
        blue_tg_arn=groups["blue"],
        green_tg_arn=groups["green"],
        http_listener_arn=http,
        https_listener_arn=https,
        cluster=cluster,
        service=service_name,
        task_definition_arn=task_def_arn,
        blue_task_set_id=task_set_id,
        image=image,
    )


def _network(region: str, name: str) -> tuple[str, tuple[str, ...], str]:
    ec2 = boto3.client("ec2", region_name=region)
    vpc_id: str = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # moto's CreateTaskSet (awsvpc, scale > 0) crashes without DNS hostnames on the VPC.
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet_ids = tuple(
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{region}{zone}")[
            "Subnet"
        ]["SubnetId"]
        for cidr, zone in (("10.0.1.0/24", "a"), ("10.0.2.0/24", "b"))
    )
    sg_id: str = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)[
        "GroupId"
    ]
    return vpc_id, subnet_ids, sg_id


@dataclass(frozen=True)
class HealthCheckSettings:
    path: str
    interval_seconds: int
    healthy_threshold: int


def _target_group(
    elb: Any, name: str, vpc_id: str, check: HealthCheckSettings, deregistration_delay: int
) -> str:
    arn: str = elb.create_target_group(
        Name=name,
        Protocol="HTTP",
        Port=CONTAINER_PORT,
        VpcId=vpc_id,
        TargetType="ip",
        HealthCheckPath=check.path,
        HealthCheckIntervalSeconds=check.interval_seconds,
        HealthyThresholdCount=check.healthy_threshold,
        Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(
        TargetGroupArn=arn,
        Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)}
        ],
    )
    return arn


def _load_balancer(
    elb: Any,
    region: str,
    name: str,
    subnet_ids: tuple[str, ...],
    sg_id: str,
    groups: dict[str, str],
) -> tuple[str, str, str]:
    lb_arn: str = elb.create_load_balancer(
        Name=name, Subnets=list(subnet_ids), SecurityGroups=[sg_id], Type="application"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    forward = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": groups["blue"], "Weight": 100},
                    {"TargetGroupArn": groups["green"], "Weight": 0},
                ],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        }
    ]
    http: str = elb.create_listener(
        LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, DefaultActions=forward
    )["Listeners"][0]["ListenerArn"]
    certificate, key = self_signed(f"{name}.example.com")
    # Imported, so it is ISSUED (AWS refuses a pending certificate on a listener); an EC key,
    # because moto's RequestCertificate makes a 2048-bit RSA key every time (~0.1 s).
    cert_arn = boto3.client("acm", region_name=region).import_certificate(
        Certificate=certificate, PrivateKey=key
    )["CertificateArn"]
    https: str = elb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": cert_arn}],
        DefaultActions=forward,
    )["Listeners"][0]["ListenerArn"]
    return lb_arn, http, https


def _ecs(
    region: str,
    cluster: str,
    name: str,
    image: str,
    desired_count: int,
    blue_tg: str,
    network: tuple[tuple[str, ...], str],
) -> tuple[str, str]:
    client = boto3.client("ecs", region_name=region)
    client.create_cluster(clusterName=cluster)
    task_def_arn = register_task_definition(client, name, image)
    client.create_service(
        cluster=cluster,
        serviceName=name,
        desiredCount=desired_count,
        deploymentController={"type": "EXTERNAL"},
    )
    task_set = client.create_task_set(
        cluster=cluster,
        service=name,
        taskDefinition=task_def_arn,
        externalId="blue",
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(network[0]),
                "securityGroups": [network[1]],
                "assignPublicIp": "DISABLED",
            }
        },
        loadBalancers=[
            {"targetGroupArn": blue_tg, "containerName": CONTAINER, "containerPort": CONTAINER_PORT}
        ],
        scale={"unit": "PERCENT", "value": 100},
    )["taskSet"]
    client.update_service_primary_task_set(
        cluster=cluster, service=name, primaryTaskSet=task_set["taskSetArn"]
    )
    return task_def_arn, task_set["id"]


def register_task_definition(client: Any, family: str, image: str) -> str:
    """A revision of the stack's task definition (awsvpc, FARGATE, container web:8080)."""
    arn: str = client.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": CONTAINER,
                "image": image,
                "memory": 512,  # moto's task sets add container memory up: it must be set
                "essential": True,
                "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


@functools.cache
def self_signed(domain: str) -> tuple[bytes, bytes]:
    """A self-signed certificate and its EC P-256 key, PEM-encoded, valid for ten years."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


# -- configuration ---------------------------------------------------------------------------
