"""The pieces `build_stack` (stack.py) puts together, each made through boto3 as a user's
infrastructure code would: the network, the target groups, the load balancer with its
listeners and rule, and ECS in either topology.

Rules of the shapes built here (AWS's, not moto's: moto checks none of them):
- ALB target groups are HTTP with a path and a matcher; NLB target groups are TCP with a TCP
  health check (no path, no matcher) and no security group on the load balancer.
- Every forward is weighted blue 100 / green 0 (NLBs take weights 0–999 too since their
  weighted target groups), so the orchestrator finds both colours attached; NLB forwards
  are sent without a stickiness setting, an ALB feature (moto echoes `Enabled: false`).
- Listener rules exist on ALB only: asking for one on an NLB is an error.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import boto3

CONTAINER = "web"
CONTAINER_PORT = 8080
TEST_LISTENER_PORT = 8080
API_RULE_PRIORITY = 10

LoadBalancerType = Literal["application", "network"]
Mode = Literal["task-sets", "service-pair"]


@dataclass(frozen=True)
class HealthCheckSettings:
    path: str
    interval_seconds: int
    healthy_threshold: int


@dataclass(frozen=True)
class Network:
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_id: str

    def awsvpc(self) -> dict[str, Any]:
        return {
            "awsvpcConfiguration": {
                "subnets": list(self.subnet_ids),
                "securityGroups": [self.security_group_id],
                "assignPublicIp": "DISABLED",
            }
        }


@dataclass(frozen=True)
class Routes:
    """The load balancer and what routes to the target groups."""

    lb_arn: str
    http_listener_arn: str  # HTTP :80 (ALB) or TCP :80 (NLB)
    https_listener_arn: str  # HTTPS :443 (ALB) or TLS :443 (NLB)
    api_rule_arn: str | None = None
    test_listener_arn: str | None = None


def network(region: str, name: str) -> Network:
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
    # The ALB and the tasks share this group: it admits itself (the ALB) on the container
    # port, and the VPC's range (an NLB, which has no security group), as `verify` checks.
    ec2.authorize_security_group_ingress(
        GroupId=sg_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": CONTAINER_PORT,
                "ToPort": CONTAINER_PORT,
                "UserIdGroupPairs": [{"GroupId": sg_id}],
                "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
            }
        ],
    )
    return Network(vpc_id, subnet_ids, sg_id)


def target_group(
    elb: Any,
    name: str,
    vpc_id: str,
    check: HealthCheckSettings,
    deregistration_delay: int,
    lb_type: LoadBalancerType,
) -> str:
    settings: dict[str, Any] = {
        "Name": name,
        "Port": CONTAINER_PORT,
        "VpcId": vpc_id,
        "TargetType": "ip",
        "HealthCheckIntervalSeconds": check.interval_seconds,
        "HealthyThresholdCount": check.healthy_threshold,
    }
    if lb_type == "network":
        settings |= {"Protocol": "TCP", "HealthCheckProtocol": "TCP"}
    else:
        settings |= {
            "Protocol": "HTTP",
            "HealthCheckPath": check.path,
            "Matcher": {"HttpCode": "200"},
        }
    arn: str = elb.create_target_group(**settings)["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(
        TargetGroupArn=arn,
        Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)}
        ],
    )
    return arn


def weighted_forward(
    groups: dict[str, str], lb_type: LoadBalancerType, order: int | None = None
) -> dict[str, Any]:
    """forward blue 100 / green 0."""
    config: dict[str, Any] = {
        "TargetGroups": [
            {"TargetGroupArn": groups["blue"], "Weight": 100},
            {"TargetGroupArn": groups["green"], "Weight": 0},
        ]
    }
    if lb_type == "application":
        config["TargetGroupStickinessConfig"] = {"Enabled": False}
    action: dict[str, Any] = {"Type": "forward", "ForwardConfig": config}
    if order is not None:
        action["Order"] = order
    return action


def load_balancer(
    elb: Any,
    region: str,
    name: str,
    lb_type: LoadBalancerType,
    net: Network,
    groups: dict[str, str],
    *,
    api_rule: bool,
    test_listener: bool,
) -> Routes:
    if api_rule and lb_type != "application":
        raise ValueError("listener rules exist on Application Load Balancers only")
    network_lb = lb_type == "network"
    options: dict[str, Any] = {"Name": name, "Subnets": list(net.subnet_ids), "Type": lb_type}
    if not network_lb:
        options["SecurityGroups"] = [net.security_group_id]
    lb_arn: str = elb.create_load_balancer(**options)["LoadBalancers"][0]["LoadBalancerArn"]
    forward = [weighted_forward(groups, lb_type)]

    def listener(protocol: str, port: int, **extra: Any) -> str:
        arn: str = elb.create_listener(
            LoadBalancerArn=lb_arn, Protocol=protocol, Port=port, DefaultActions=forward, **extra
        )["Listeners"][0]["ListenerArn"]
        return arn

    plain = listener("TCP" if network_lb else "HTTP", 80)
    secure = listener(
        "TLS" if network_lb else "HTTPS",
        443,
        Certificates=[{"CertificateArn": certificate(region, name)}],
    )
    return Routes(
        lb_arn=lb_arn,
        http_listener_arn=plain,
        https_listener_arn=secure,
        api_rule_arn=_api_rule(elb, secure, groups) if api_rule else None,
        test_listener_arn=(
            listener("TCP" if network_lb else "HTTP", TEST_LISTENER_PORT) if test_listener else None
        ),
    )


def certificate(region: str, name: str) -> str:
    cert, key = self_signed(f"{name}.example.com")
    # Imported, so it is ISSUED (AWS refuses a pending certificate on a listener); an EC key,
    # because moto's RequestCertificate makes a 2048-bit RSA key every time (~0.1 s).
    arn: str = boto3.client("acm", region_name=region).import_certificate(
        Certificate=cert, PrivateKey=key
    )["CertificateArn"]
    return arn


def _api_rule(elb: Any, listener_arn: str, groups: dict[str, str]) -> str:
    """`/api*` for the `X-Env: prod` header: sign in (OIDC) first, then forward — a rule
    with more than the forward action, whose other parts a shift must keep."""
    arn: str = elb.create_rule(
        ListenerArn=listener_arn,
        Priority=API_RULE_PRIORITY,
        Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api*"]}},
            {
                "Field": "http-header",
                "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["prod"]},
            },
        ],
        Actions=[
            {
                "Type": "authenticate-oidc",
                "Order": 1,
                "AuthenticateOidcConfig": {
                    "Issuer": "https://idp.example.com",
                    "AuthorizationEndpoint": "https://idp.example.com/authorize",
                    "TokenEndpoint": "https://idp.example.com/token",
                    "UserInfoEndpoint": "https://idp.example.com/userinfo",
                    "ClientId": "bluegreen-sandbox",
                    "ClientSecret": "sandbox-secret",
                    "OnUnauthenticatedRequest": "authenticate",
                },
            },
            weighted_forward(groups, "application", order=2),
        ],
    )["Rules"][0]["RuleArn"]
    return arn


# -- ECS ---------------------------------------------------------------------------------


def load_balancers(target_group_arn: str) -> list[dict[str, Any]]:
    return [
        {
            "targetGroupArn": target_group_arn,
            "containerName": CONTAINER,
            "containerPort": CONTAINER_PORT,
        }
    ]


def ecs_task_sets(
    client: Any,
    cluster: str,
    name: str,
    task_def_arn: str,
    desired: int,
    blue_tg: str,
    net: Network,
) -> str:
    """One EXTERNAL-controller service whose blue task set is PRIMARY; its id."""
    client.create_service(
        cluster=cluster,
        serviceName=name,
        desiredCount=desired,
        deploymentController={"type": "EXTERNAL"},
    )
    task_set = client.create_task_set(
        cluster=cluster,
        service=name,
        taskDefinition=task_def_arn,
        externalId="blue",
        launchType="FARGATE",
        networkConfiguration=net.awsvpc(),
        loadBalancers=load_balancers(blue_tg),
        scale={"unit": "PERCENT", "value": 100},
    )["taskSet"]
    client.update_service_primary_task_set(
        cluster=cluster, service=name, primaryTaskSet=task_set["taskSetArn"]
    )
    task_set_id: str = task_set["id"]
    return task_set_id


def ecs_service_pair(
    client: Any,
    cluster: str,
    name: str,
    task_def_arn: str,
    desired: int,
    groups: dict[str, str],
    net: Network,
) -> tuple[str, str]:
    """Two ECS-controller services, `<name>-blue` running `desired` tasks and `<name>-green`
    at zero, each attached to its colour's target group; their names."""
    names = {colour: f"{name}-{colour}" for colour in ("blue", "green")}
    for colour, count in (("blue", desired), ("green", 0)):
        client.create_service(
            cluster=cluster,
            serviceName=names[colour],
            taskDefinition=task_def_arn,
            desiredCount=count,
            launchType="FARGATE",
            networkConfiguration=net.awsvpc(),
            loadBalancers=load_balancers(groups[colour]),
        )
    return names["blue"], names["green"]


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
    cert = (
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
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
