"""Checks of the tasks behind the load balancer: what serves the live colour, its task
definition's container and port, the target type its network mode needs, and whether its
security groups admit the load balancer."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bluegreen.config import DeploymentConfig
from bluegreen.model import LoadBalancer, Service, TargetGroup, TaskDefinition
from bluegreen.ports import Cloud
from bluegreen.preflight.report import Findings


@dataclass(frozen=True)
class Unit:
    """What runs the live colour: a task set (task-sets mode) or a service (service-pair)."""

    label: str
    task_definition: str
    network: Mapping[str, Any] | None
    desired_count: int

    @property
    def security_groups(self) -> list[str]:
        return list(_awsvpc(self.network).get("securityGroups", []))


def blue_tasks(
    f: Findings, mode: str, found: dict[str, Service], live: TargetGroup | None
) -> list[Unit]:
    """The task set(s) or service(s) serving blue; every one when blue is not known. Call it
    with no service when a service is missing or on the wrong deployment controller."""
    if not found:
        f.skip("blue_tasks", "no service found on the controller the mode drives")
        return []
    if mode == "task-sets":
        (service,) = found.values()
        units = [
            Unit(
                f"task set {ts.id}",
                ts.task_definition,
                ts.network_configuration,
                service.desired_count,
            )
            for ts in service.task_sets
            if live is None or live.arn in ts.target_group_arns
        ]
        nothing = f"no task set of service {service.name}"
        fix = "the live colour must be served by a task set of the service (see `bluegreen status`)"
    else:
        units = [
            Unit(
                f"service {s.name}",
                s.task_definition or "",
                s.network_configuration,
                s.desired_count,
            )
            for s in found.values()
            if live is None or any(b.target_group_arn == live.arn for b in s.load_balancers)
        ]
        nothing = f"neither of services {' and '.join(found)}"
        fix = "each service of the pair needs loadBalancers naming one of the two target groups"
    if not units:
        where = f"is attached to the live target group {live.name}" if live else "runs"
        f.fail("blue_tasks", f"{nothing} {where}", fix)
    for unit in units:
        if live is not None and unit.desired_count < 1:
            f.fail(
                "blue_tasks",
                f"{unit.label} has a desired count of 0: green would have no tasks",
                "scale the service up first (aws ecs update-service --desired-count N)",
            )
        else:
            f.passed("blue_tasks", f"{unit.label} runs {unit.task_definition.rsplit('/', 1)[-1]}")
    return units


def task_definitions(f: Findings, cloud: Cloud, units: list[Unit]) -> list[TaskDefinition]:
    if not units:
        f.skip("task_definition", "nothing found serving the live colour")
    arns = dict.fromkeys(u.task_definition for u in units if u.task_definition)
    found = [f.read("task_definition", cloud.ecs.task_definition, arn) for arn in arns]
    return [td for td in found if td]


def container(
    f: Findings, config: DeploymentConfig, found: dict[str, Service], tds: list[TaskDefinition]
) -> int | None:
    """Checks the container and its port in every task definition; returns the port when
    every one maps it (the later checks would only repeat a wrong port's failure)."""
    binding = next((b for s in found.values() for b in s.load_balancers if b.container_name), None)
    name = config.service.container or (binding.container_name if binding else None)
    port = config.service.container_port or (binding.container_port if binding else None)
    if not name or not port:
        f.fail(
            "container",
            "cannot tell which container and port sit behind the load balancer",
            "set service.container and service.container_port in bluegreen.toml",
        )
        return port
    if not tds:
        f.skip("container", "no task definition read")
        f.skip("container_port", "no task definition read")
    mapped = True
    for td in tds:
        where = f"task definition {td.family}:{td.revision}"
        if name not in td.container_ports:
            f.fail(
                "container",
                f"{where} has no container {name} (it has "
                f"{', '.join(td.container_ports) or 'none'})",
                "set service.container to the container the load balancer sends traffic to",
            )
            f.skip("container_port", f"no container {name} in {where}")
            mapped = False
            continue
        f.passed("container", f"{name} in {where}")
        ports = td.container_ports[name]
        if port in ports:
            f.passed("container_port", f"{name} maps port {port}")
        else:
            f.fail(
                "container_port",
                f"container {name} in {where} does not map port {port} "
                f"(it maps {', '.join(map(str, ports)) or 'none'})",
                "set service.container_port to one of the container's portMappings, or add "
                "a portMapping with that containerPort to the task definition",
            )
            mapped = False
    return port if mapped else None


def network_mode(tds: list[TaskDefinition], units: list[Unit]) -> str | None:
    """The task definition's networkMode; when it does not say, awsvpc if the tasks are given
    an awsvpcConfiguration, else bridge (ECS's default on EC2)."""
    if not tds:
        return None
    said = tds[0].registration.get("networkMode")
    if said:
        return str(said)
    return "awsvpc" if any(_awsvpc(u.network) for u in units) else "bridge"


def target_types(f: Findings, groups: dict[str, TargetGroup], mode: str | None) -> None:
    if mode is None:
        f.skip("target_type", "no task definition read")
        return
    wanted = "ip" if mode == "awsvpc" else "instance"
    for group in groups.values():
        if group.target_type == wanted:
            f.passed("target_type", f"{group.name}: {wanted} targets for {mode} tasks")
            continue
        why = (
            "ECS registers awsvpc tasks (every Fargate task) by IP address: instance targets "
            "can't be awsvpc tasks"
            if mode == "awsvpc"
            else f"ECS registers {mode}-network tasks by container instance and port"
        )
        f.fail(
            "target_type",
            f"target group {group.name} has target type {group.target_type}: {why}",
            f"a target type cannot change: create a target group with target type {wanted} "
            f"(aws elbv2 create-target-group --target-type {wanted} …) and name it in "
            "[target_groups]",
        )


def security_groups(
    f: Findings,
    cloud: Cloud,
    lbs: list[LoadBalancer],
    units: list[Unit],
    mode: str | None,
    port: int | None,
) -> None:
    """The tasks' security groups admit each load balancer on the container port: from one of
    its security groups, or from a range covering its VPC."""
    lbs = [lb for lb in lbs if lb.type in ("application", "network")]
    if not lbs or not units or port is None or mode is None:
        f.skip("security_groups", "no load balancer, live tasks or container port found")
        return
    if mode != "awsvpc":
        f.skip("security_groups", f"{mode}-network tasks use their instances' security groups")
        return
    ids = list(dict.fromkeys(sg for u in units for sg in u.security_groups))
    if not ids:
        f.warn(
            "security_groups",
            "the tasks name no security group, so they get the VPC's default one: not checked",
            "list securityGroups in the awsvpcConfiguration of the service or task set",
        )
        return
    groups = f.read("security_groups", cloud.network.security_groups, ids)
    if groups is None:
        return
    rules = [r for g in groups for r in g.ingress if r.admits_tcp(port)]
    fix = (
        f"aws ec2 authorize-security-group-ingress --group-id {ids[0]} --protocol tcp --port {port}"
    )
    for lb in lbs:
        by_group = any(set(r.source_groups) & set(lb.security_groups) for r in rules)
        vpc: tuple[str, ...] | None = ()
        if not by_group and lb.vpc_id:  # only then: DescribeVpcs is one more permission
            vpc = f.read("security_groups", cloud.network.vpc_cidr_blocks, lb.vpc_id)
        by_range = any(covers(cidr, vpc or ()) for r in rules for cidr in r.cidrs)
        tasks = f"the tasks' security groups ({', '.join(ids)})"
        if by_group or by_range:
            how = "from its security group" if by_group else "from a range covering its VPC"
            f.passed("security_groups", f"{tasks} admit {lb.name} {how} on tcp/{port}")
        elif lb.security_groups:
            f.fail(
                "security_groups",
                f"{tasks} do not admit load balancer {lb.name}'s "
                f"({', '.join(lb.security_groups)}) on tcp/{port}: its health checks and "
                "requests cannot reach the tasks",
                f"{fix} --source-group {lb.security_groups[0]}",
            )
        else:
            f.warn(
                "security_groups",
                f"network load balancer {lb.name} has no security group "
                f"and {tasks} admit no range covering its VPC on tcp/{port}: only the "
                "clients' own addresses can reach the tasks (client IP preservation)",
                f"{fix} --cidr {(vpc or ('<VPC CIDR>',))[0]}, or accept it if they do",
            )


def covers(cidr: str, vpc_blocks: Sequence[str]) -> bool:
    """An ingress range admits a load balancer's nodes: it contains its VPC, or is open."""
    try:
        rule = ipaddress.ip_network(cidr, strict=False)
        blocks = [ipaddress.ip_network(b, strict=False) for b in vpc_blocks]
    except ValueError:
        return False
    if rule.prefixlen == 0:
        return True
    return any(
        isinstance(b, ipaddress.IPv4Network)
        and isinstance(rule, ipaddress.IPv4Network)
        and b.subnet_of(rule)
        for b in blocks
    )


def _awsvpc(network: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (network or {}).get("awsvpcConfiguration") or {}
