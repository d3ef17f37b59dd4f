"""Checks that every resource the configuration names exists, and of how they are wired:
load balancer type, deployment controller, which colour is live, what the listeners
forward to, and the target groups' VPC."""

from __future__ import annotations

from collections.abc import Sequence

from bluegreen.config import DeploymentConfig, route_ref, route_refs
from bluegreen.model import AlarmState, LoadBalancer, Route, Service, TargetGroup
from bluegreen.ports import Cloud
from bluegreen.preflight.report import Findings
from bluegreen.refusals import (
    classic_refusal,
    controller_refusal,
    forwards_elsewhere,
    gateway_refusal,
    listeners_disagree,
)

# -- every resource exists ----------------------------------------------------------------


def services(f: Findings, config: DeploymentConfig, cloud: Cloud) -> dict[str, Service]:
    svc = config.service
    names = [svc.name] if svc.mode == "task-sets" else [svc.blue_service, svc.green_service]
    found: dict[str, Service] = {}
    for name in filter(None, names):
        service = f.read("service", cloud.ecs.service, svc.cluster, name)
        if service:
            found[name] = service
            f.passed(
                "service",
                f"{name} in cluster {svc.cluster}: {service.controller} controller, "
                f"{service.desired_count} desired",
            )
    return found


def target_groups(f: Findings, config: DeploymentConfig, cloud: Cloud) -> dict[str, TargetGroup]:
    """By configured colour; which one is live is read from the listeners. Both in one
    read — the one `resolve()` makes after the checks, so through `engine.reads.once` AWS
    is asked once — and each alone only when that fails, to name the one that is wrong."""
    keys = {"blue": config.target_groups.blue, "green": config.target_groups.green}
    both = f.read_or_none(cloud.elb.target_groups, list(keys.values()))
    found: dict[str, TargetGroup] = {}
    for index, (colour, key) in enumerate(keys.items()):
        groups = [both[index]] if both else f.read("target_group", cloud.elb.target_groups, [key])
        if groups:
            group = found[colour] = groups[0]
            f.passed(
                "target_group",
                f"{group.name}: {group.protocol} {group.port}, {group.target_type} targets, "
                f"in {group.vpc_id}",
            )
    return found


def routes(f: Findings, config: DeploymentConfig, cloud: Cloud) -> tuple[list[Route], Route | None]:
    """The production routes found, and the test route (None when not configured or not
    found)."""
    found = []
    refs = route_refs(config)
    every = f.read_or_none(cloud.elb.routes, refs)  # one DescribeListeners; alone to name one
    for index, ref in enumerate(refs):
        route = every[index] if every else f.read("listener", cloud.elb.route, ref)
        if route:
            found.append(route)
            f.passed("listener", f"{ref} ({route.protocol} {route.port})")
    test = None
    if config.test_listener:
        ref = route_ref(config.test_listener)
        test = f.read("test_listener", cloud.elb.route, ref)
        if test:
            f.passed("test_listener", f"{ref} ({test.protocol} {test.port})")
    return found, test


def alarms(f: Findings, config: DeploymentConfig, cloud: Cloud) -> None:
    names = config.gates.alarms
    if not names:
        f.passed("alarms", "none in gates.alarms")
        return
    states = f.read("alarms", cloud.alarms.alarm_states, names)
    if states is None:
        return
    missing = [n for n, s in states.items() if s is AlarmState.MISSING]
    if missing:
        f.fail(
            "alarms",
            f"gates.alarms names alarm(s) that do not exist: {', '.join(missing)}",
            "create them in CloudWatch (aws cloudwatch put-metric-alarm …) or remove them "
            "from gates.alarms",
        )
    else:
        f.passed("alarms", ", ".join(f"{n} {s.value}" for n, s in states.items()))


def load_balancers(f: Findings, cloud: Cloud, found: Sequence[Route]) -> list[LoadBalancer]:
    arns = dict.fromkeys(r.load_balancer_arn for r in found if r.load_balancer_arn)
    lbs = [f.read("load_balancer", cloud.elb.load_balancer, arn) for arn in arns]
    return [lb for lb in lbs if lb]


# -- how they are wired -------------------------------------------------------------------


def load_balancer_types(f: Findings, lbs: list[LoadBalancer], found: dict[str, Service]) -> None:
    for lb in lbs:
        if lb.type == "gateway":
            f.fail("load_balancer_type", *gateway_refusal(lb))
        else:
            f.passed("load_balancer_type", f"{lb.name}: {lb.type}")
    for service in found.values():
        if service.classic_load_balancers:
            f.fail("load_balancer_type", *classic_refusal(service))


def controllers(f: Findings, mode: str, found: dict[str, Service]) -> bool:
    """Whether every service found is on the controller the mode drives."""
    wanted = "EXTERNAL" if mode == "task-sets" else "ECS"
    if not found:
        f.skip("deployment_controller", "no service found")
    fits = True
    for service in found.values():
        if service.controller == wanted:
            f.passed("deployment_controller", f"{service.name}: {wanted}, as mode {mode} needs")
        else:
            message, hint = controller_refusal(service.name, service.controller, mode)
            f.fail("deployment_controller", message, hint)
            fits = False
    return fits


def live_colour(
    f: Findings, found: list[Route], groups: dict[str, TargetGroup]
) -> TargetGroup | None:
    """The target group all production traffic goes to (blue), when they agree."""
    if not found:
        f.skip("live_colour", "no production listener found")
        return None
    names = {g.arn: g.name for g in groups.values()}
    live = {r.ref: r.live_target_group() for r in found}
    split = [str(ref) for ref, arn in live.items() if arn is None]
    if split:
        f.warn(
            "live_colour",
            f"traffic is split on {', '.join(split)}: a deployment is in flight, or was "
            "left half-way",
            "see `bluegreen status`; finish it with `bluegreen promote`, or put blue back "
            "with `bluegreen rollback`, before the next deployment",
        )
        return None
    if len(set(live.values())) > 1:
        detail = "; ".join(f"{ref} → {names.get(arn or '', arn)}" for ref, arn in live.items())
        f.fail("live_colour", *listeners_disagree(detail))
        return None
    arn = next(iter(live.values())) or ""
    f.passed("live_colour", f"{names.get(arn, arn)} serves production (blue)")
    return next((g for g in groups.values() if g.arn == arn), None)


def listener_actions(f: Findings, found: list[Route], groups: dict[str, TargetGroup]) -> None:
    if len(groups) < 2:
        f.skip("listener_actions", "blue or green target group not found")
        return
    ours = {g.arn for g in groups.values()}
    for route in found:
        others = route.forwards_elsewhere(ours)
        forward = next((a for a in route.actions if a.get("Type") == "forward"), {})
        sticky = forward.get("ForwardConfig", {}).get("TargetGroupStickinessConfig") or {}
        if others:
            f.fail("listener_actions", *forwards_elsewhere(str(route.ref), others))
        elif sticky.get("Enabled"):
            f.warn(
                "listener_actions",
                f"{route.ref}: target-group stickiness is on ({sticky.get('DurationSeconds')}s)"
                ": during a canary it pins each client to the colour it first reached",
                "disable TargetGroupStickinessConfig on the forward action (aws elbv2 "
                "modify-listener / modify-rule), or accept that clients move colour only as "
                "their stickiness expires",
            )
        else:
            f.passed("listener_actions", f"{route.ref} forwards only to blue/green")


def target_group_vpc(f: Findings, lbs: list[LoadBalancer], groups: dict[str, TargetGroup]) -> None:
    if not lbs or not groups:
        f.skip("target_group_vpc", "no load balancer or target group found")
    for lb in lbs:
        for group in groups.values():
            if group.vpc_id and lb.vpc_id and group.vpc_id != lb.vpc_id:
                f.fail(
                    "target_group_vpc",
                    f"target group {group.name} is in {group.vpc_id} but load balancer "
                    f"{lb.name} is in {lb.vpc_id}: AWS refuses to forward to it",
                    f"create the target group in {lb.vpc_id} (a target group cannot move "
                    "VPC; `bluegreen init` copies blue's settings into a new one)",
                )
            else:
                f.passed("target_group_vpc", f"{group.name} and {lb.name} in {lb.vpc_id}")
