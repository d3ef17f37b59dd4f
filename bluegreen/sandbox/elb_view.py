"""What the load balancers do right now, read from moto's backends for the simulated
CloudWatch: a traffic `Snapshot` (traffic.py) of every load balancer.

Rules (AWS/ApplicationELB and AWS/NetworkELB, as ELB reports them):
- Each listener gets `sandbox.request_rate` requests a second, except `quiet` ones (test
  listeners). Its rules and default action share them evenly (we know no paths); a forward
  action splits its share by weight (ForwardConfig, or TargetGroupArn = weight 1).
- Every group a load balancer forwards to (weight 0 included; NLBs too) reports its
  healthy and unhealthy targets, from `FakeTargetGroup.health_for` — whatever the health
  simulator says. Initial, draining and unused targets are neither.
- Only ALBs report requests. Only healthy targets receive them. A weighted group with none
  still gets its share (ALB fails open, or has no target): the load balancer answers.
- Who answers: the images of the group's healthy targets as the ECS simulator registered
  them, each in proportion to its targets (a target of unknown image is a healthy app);
  when no healthy target's image is known (targets registered by hand), the images of the
  ECS services and task sets whose loadBalancers name the group, evenly; HEALTHY if none.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection
from typing import Any

from bluegreen.sandbox.traffic import Flow, Hosts, Snapshot, forward_weights, listener_shares
from bluegreen.sandbox.world import HEALTHY, AppModel, Sandbox

NAMESPACES = {"application": "AWS/ApplicationELB", "network": "AWS/NetworkELB"}


def snapshot(sandbox: Sandbox, quiet: Collection[str] = ()) -> Snapshot:
    """Every load balancer's flows and host counts at this moment."""
    elb, ec2 = sandbox.elbv2(), sandbox.ec2()
    images = _once(lambda: images_by_group(sandbox.ecs()))
    flows: list[Flow] = []
    hosts: list[Hosts] = []
    for lb in elb.load_balancers.values():
        namespace = NAMESPACES.get(lb.type)
        if namespace is None:
            continue
        rates = _rates(lb, sandbox.request_rate, quiet)
        for tg in attached_groups(elb, lb):
            states = target_states(tg, ec2)
            healthy = [target for target, state in states.items() if state == "healthy"]
            unhealthy = sum(1 for state in states.values() if state == "unhealthy")
            hosts.append(Hosts(namespace, lb.arn, tg.arn, len(healthy), unhealthy))
            rate = rates.get(tg.arn, 0.0)
            if lb.type != "application" or rate <= 0:
                continue
            apps = serving_apps(sandbox, tg.arn, healthy, images) if healthy else ()
            flows.append(Flow(lb.arn, tg.arn, rate, apps))
    return Snapshot(tuple(flows), tuple(hosts))


def _rates(lb: Any, per_listener: float, quiet: Collection[str]) -> dict[str, float]:
    """Target group ARN → requests a second from this load balancer's listeners."""
    rates: defaultdict[str, float] = defaultdict(float)
    for listener in lb.listeners.values():
        if listener.arn in quiet:
            continue
        rules = [rule.actions for rule in listener.rules.values()]
        for arn, share in listener_shares(rules).items():
            rates[arn] += per_listener * share
    return rates


def serving_apps(
    sandbox: Sandbox,
    group_arn: str,
    healthy: list[str],
    images: Callable[[], dict[str, list[str]]],
) -> tuple[tuple[AppModel, float], ...]:
    """The apps answering a group's requests, each with its share (see the docstring)."""
    records = [sandbox.targets.get((group_arn, target)) for target in healthy]
    if any(record is not None and record.image for record in records):
        apps = Counter(
            sandbox.app(record.image) if record is not None and record.image else HEALTHY
            for record in records
        )
    else:
        apps = Counter(sandbox.app(image) for image in images().get(group_arn, [])) or Counter(
            [HEALTHY]
        )
    total = sum(apps.values())
    return tuple((app, count / total) for app, count in apps.items())


def _once(compute: Callable[[], dict[str, list[str]]]) -> Callable[[], dict[str, list[str]]]:
    """`compute`, run on first use only: most snapshots never need it."""
    found: list[dict[str, list[str]]] = []

    def get() -> dict[str, list[str]]:
        if not found:
            found.append(compute())
        return found[0]

    return get


# -- reading moto's models -------------------------------------------------------------


def attached_groups(elb: Any, lb: Any) -> list[Any]:
    """The target groups a load balancer's listeners forward to, weight 0 included."""
    arns = {
        arn
        for listener in lb.listeners.values()
        for rule in listener.rules.values()
        for arn in forward_weights(rule.actions)
    }
    arns |= {arn for arn, tg in elb.target_groups.items() if lb.arn in tg.load_balancer_arns}
    return [elb.target_groups[arn] for arn in sorted(arns) if arn in elb.target_groups]


def target_states(tg: Any, ec2: Any) -> dict[str, str]:
    """Target id → its health state (healthy, unhealthy, initial, draining, unused…)."""
    return {
        target_id: tg.health_for(target, ec2).status
        for target_id, target in list(tg.targets.items())
    }


def images_by_group(ecs: Any) -> dict[str, list[str]]:
    """Target group ARN → the images of the ECS services and task sets that serve it."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    for service in ecs.services.values():
        if service.status != "ACTIVE":
            continue
        owners = [(service.task_definition, service.load_balancers)]
        owners += [(ts.task_definition, ts.load_balancers) for ts in service.task_sets]
        for task_definition, load_balancers in owners:
            for entry in load_balancers:
                image = container_image(ecs, task_definition, entry.get("containerName"))
                arn = entry.get("targetGroupArn")
                if arn and image and image not in found[arn]:
                    found[arn].append(image)
    return dict(found)


def container_image(ecs: Any, task_definition: str | None, container: str | None) -> str | None:
    if not task_definition:
        return None
    try:
        definitions = ecs.describe_task_definition(task_definition).container_definitions
    except Exception:  # deregistered or never registered: nothing serves from it
        return None
    named = [c for c in definitions if c.get("name") == container] or definitions[:1]
    return named[0].get("image") if named else None


def dimension_value(arn: str) -> str:
    """An ARN's resource as ELB dimensions name it: `app/web/50dc…` for a load balancer,
    `targetgroup/blue/73e2…` for a target group."""
    return arn.split(":", 5)[-1].removeprefix("loadbalancer/")
