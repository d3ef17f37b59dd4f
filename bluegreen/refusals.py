"""What bluegreen cannot deploy, said once: (message, hint) pairs shared by `deploy`'s
preflight (a PreflightError) and `bluegreen verify` (a failed check with its fix)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bluegreen.model import LoadBalancer, Route, RouteKind, Service


def gateway_refusal(lb: LoadBalancer) -> tuple[str, str]:
    return (
        f"load balancer {lb.name} is a Gateway Load Balancer: it forwards traffic through "
        "network appliances (GENEVE), not to an application, and has no weighted target "
        "groups to shift between",
        "put the service behind an Application Load Balancer (HTTP/HTTPS) or a Network Load "
        "Balancer (TCP/TLS/UDP) and name its listeners in [[listeners]]",
    )


def classic_refusal(service: Service) -> tuple[str, str]:
    return (
        f"service {service.name} is behind Classic Load Balancer "
        f"{', '.join(service.classic_load_balancers)}, which has no target groups: there is "
        "nothing to shift traffic between",
        "migrate to an Application or Network Load Balancer (the EC2 console's Classic Load "
        "Balancer migration wizard creates one from it), then attach the service to a target "
        "group of it (loadBalancers with targetGroupArn) and run `bluegreen init`",
    )


def listeners_disagree(detail: str) -> tuple[str, str]:
    """Production routes each sending all traffic to a different target group."""
    return (
        f"the production listeners disagree on which colour is live: {detail}",
        "every production listener must send all traffic to the same target group; see "
        "`bluegreen status` and fix the listeners, or run `bluegreen rollback`",
    )


def forwards_elsewhere(route: str, others: list[str]) -> tuple[str, str]:
    """A route sending traffic to a target group that is neither blue nor green."""
    return (
        f"{route} forwards to target group(s) that are neither blue nor green: {', '.join(others)}",
        "point it at the target groups named in [target_groups], or remove it from the "
        "configuration",
    )


def unconfigured_route(route: Route, where: str, groups: Mapping[str, str]) -> tuple[str, str]:
    """A route that forwards to blue's or green's target group (`groups`: ARN → name) and
    that the configuration does not name: the deployment would not move it, and retiring
    the old colour would leave it sending traffic to a target group with no target."""
    named = ", ".join(f"{groups[a]} at weight {w}" for a, w in route.weights.items() if a in groups)
    key = config_key(route)
    command = "modify-rule --rule-arn" if key == "rule" else "modify-listener --listener-arn"
    return (
        f"{where} forwards to {named}, but it is neither in [[listeners]] nor the "
        "[test_listener]: a deployment would not move it, and retiring the old colour would "
        "leave it sending traffic to a target group with no target",
        "add it to bluegreen.toml, so that it moves with the other production routes:\n"
        f'[[listeners]]\n{key} = "{route.ref.arn}"\n'
        f"or point it at another target group (aws elbv2 {command} {route.ref.arn} …)",
    )


def config_key(route: Route) -> str:
    """The key that names `route` in bluegreen.toml's [[listeners]] or [test_listener]:
    `arn` for a listener's default action, `rule` for a listener rule."""
    return "rule" if route.ref.kind is RouteKind.RULE else "arn"


def route_label(route: Route, load_balancer: str) -> str:
    """Where a route is, for people: "web HTTPS :443", or "web HTTPS :443 rule 10
    (path-pattern /api*)" for a rule, with its conditions."""
    where = f"{load_balancer} {route.protocol or ''} :{route.port or ''}".strip()
    if route.ref.kind is RouteKind.LISTENER:
        return where
    conditions = ", ".join(_condition(c) for c in route.conditions)
    rule = f"{where} rule {route.priority or '?'}"
    return rule + (f" ({conditions})" if conditions else "")


def load_balancer_name(arn: str) -> str:
    """arn:…:loadbalancer/app/NAME/ID → NAME (the ARN itself when it is not one)."""
    parts = arn.split(":")[-1].split("/")
    return parts[2] if len(parts) == 4 and parts[0] == "loadbalancer" else arn


def _condition(condition: Any) -> str:
    name = str(condition.get("Field", "?"))
    values: list[str] = list(condition.get("Values") or [])
    for key, config in condition.items():
        if key.endswith("Config") and isinstance(config, dict):
            header = config.get("HttpHeaderName")
            found = config.get("Values") or [
                f"{p.get('Key', '')}={p.get('Value', '')}" for p in config.get("KeyValuePairs", [])
            ]
            values += [f"{header}={v}" if header else str(v) for v in found]
    return f"{name} {' '.join(values)}".strip()


def controller_refusal(name: str, controller: str, mode: str) -> tuple[str, str]:
    """A service whose deployment controller does not fit the mode."""
    why = {
        "CODE_DEPLOY": "it uses the CODE_DEPLOY deployment controller: it is driven by "
        "CodeDeploy, which rejects task-definition changes from anyone else",
        "ECS": "its rolling deployments are driven by ECS itself",
        "EXTERNAL": "its task sets are managed by an external controller",
    }.get(controller, f"its deployment controller is {controller}")
    if mode == "task-sets":
        hint = (
            'task-sets mode needs a service created with deploymentController type "EXTERNAL"; '
            'for two ECS-controller services use mode = "service-pair"'
        )
    else:
        hint = (
            'service-pair mode needs two services on the default "ECS" deployment controller; '
            'for one EXTERNAL-controller service use mode = "task-sets"'
        )
    if controller == "CODE_DEPLOY":
        hint += (
            "; a CodeDeploy service must first be moved to the ECS or EXTERNAL controller "
            "(or replaced by a service created with one)"
        )
    return f'service {name} cannot be deployed in mode "{mode}": {why}', hint
