"""What `bluegreen init` reads before it changes anything (steps 1–3 of
bluegreen.onboarding.initialize): the service and its deployment controller, blue's target
group, its load balancers and the production routes, and which target group (and service)
is green.

Rules: only reads, never a mutating AWS call; every refusal (CODE_DEPLOY, Classic and
Gateway Load Balancers, a service on several target groups, a green that does not fit) is
raised here, so an error (exit 2) changes nothing; what was read is returned whole, as a
Found, for initialize to act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bluegreen.errors import ConfigError, MissingResourceError, PreflightError
from bluegreen.model import (
    LoadBalancer,
    LoadBalancerBinding,
    Route,
    Service,
    TargetGroup,
)
from bluegreen.onboarding.init_config import default_green_name, green_like_name, short_name
from bluegreen.ports import Cloud
from bluegreen.refusals import (
    config_key,
    controller_refusal,
    gateway_refusal,
    load_balancer_name,
    route_label,
)
from bluegreen.topology import refuse_classic_load_balancer

VALID_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")  # AWS's rule


@dataclass(frozen=True)
class Found:
    """What was read, before anything changes."""

    service: Service
    mode: str
    binding: LoadBalancerBinding
    blue: TargetGroup
    load_balancers: tuple[LoadBalancer, ...]
    routes: tuple[Route, ...]
    green_name: str
    green: TargetGroup | None
    green_service: str | None
    green_service_found: Service | None
    warnings: list[str] = field(default_factory=list)


def discover(
    cloud: Cloud,
    cluster: str,
    name: str,
    green_target_group: str | None,
    green_service: str | None,
) -> Found:
    service = cloud.ecs.service(cluster, name)
    refuse_classic_load_balancer(service)
    mode, bindings = _mode_and_bindings(service, green_service)
    binding = _one_binding(service, bindings)
    (blue,) = cloud.elb.target_groups([binding.target_group_arn or ""])
    load_balancers = _load_balancers(cloud, blue)
    routes = tuple(
        r for lb in load_balancers for r in cloud.elb.listener_routes(lb.arn) if r.weights
    )
    production = tuple(r for r in routes if r.weights.get(blue.arn, 0) > 0)
    if not production:
        raise _not_live(blue, routes)
    warnings: list[str] = []
    pair_service = None
    if green_service is not None:
        if green_service == name:
            raise ConfigError(f"--green-service {green_service} is the service itself")
        pair_service = _existing_service(cloud, cluster, green_service)
    green_key = green_target_group or _green_key(blue, production, pair_service)
    green = _existing_target_group(cloud, green_key)
    if green is not None:
        _check_green_fits(blue, green)
        warnings += _differences(cloud, blue, green)
    if green is None:
        _check_new_name(green_key)
    green_name = green.name if green else green_key
    if green_name == blue.name:
        raise ConfigError(f"the green target group cannot be blue's ({blue.name})")
    if pair_service is not None:
        _check_green_service(pair_service, green)
    warnings += _other_routes(cloud, blue, green, load_balancers, routes, production)
    return Found(
        service=service,
        mode=mode,
        binding=binding,
        blue=blue,
        load_balancers=load_balancers,
        routes=production,
        green_name=green_name,
        green=green,
        green_service=green_service,
        green_service_found=pair_service,
        warnings=warnings,
    )


def _mode_and_bindings(
    service: Service, green_service: str | None
) -> tuple[str, tuple[LoadBalancerBinding, ...]]:
    if service.controller == "EXTERNAL":
        if green_service:
            raise ConfigError(
                f"--green-service is for ECS-controller services; {service.name} uses the "
                "EXTERNAL controller, so green is a task set of the same service",
                hint="drop --green-service",
            )
        primary = next((ts for ts in service.task_sets if ts.status == "PRIMARY"), None)
        if primary is None:
            raise PreflightError(
                f"service {service.name} (EXTERNAL controller) has no PRIMARY task set, so "
                "nothing says which target group serves it",
                hint="create a task set on the live target group and make it primary "
                "(aws ecs create-task-set …; aws ecs update-service-primary-task-set …)",
            )
        return "task-sets", primary.load_balancers or service.load_balancers
    if service.controller == "ECS":
        if not green_service:
            raise ConfigError(
                f"service {service.name} uses the ECS deployment controller: bluegreen "
                "deploys it as a pair of services (service-pair mode) and needs the second",
                hint=f"pass --green-service NAME (e.g. {green_like_name(service.name)}): an "
                f"existing service is used; a missing one is created as a copy of "
                f"{service.name} at 0 tasks on the green target group",
            )
        return "service-pair", service.load_balancers
    if service.controller == "CODE_DEPLOY":
        message, hint = controller_refusal(service.name, service.controller, "task-sets")
        raise PreflightError(message, hint=hint)
    raise PreflightError(
        f"service {service.name}: unknown deployment controller {service.controller}"
    )


def _one_binding(
    service: Service, bindings: tuple[LoadBalancerBinding, ...]
) -> LoadBalancerBinding:
    attached = [b for b in bindings if b.target_group_arn]
    if not attached:
        raise PreflightError(
            f"service {service.name} is attached to no target group",
            hint="bluegreen shifts traffic between target groups of an Application or Network "
            "Load Balancer: attach the service (its loadBalancers) to one first",
        )
    if len({b.target_group_arn for b in attached}) > 1:
        raise PreflightError(
            f"service {service.name} is attached to {len(attached)} target groups; init "
            "handles one target group per colour",
            hint="write bluegreen.toml by hand for this service (docs/configuration.md)",
        )
    binding = attached[0]
    if not binding.container_name or not binding.container_port:
        raise PreflightError(f"service {service.name}'s load balancer binding names no container")
    return binding


def _load_balancers(cloud: Cloud, blue: TargetGroup) -> tuple[LoadBalancer, ...]:
    if not blue.load_balancer_arns:
        raise PreflightError(
            f"target group {blue.name} is attached to no load balancer",
            hint="make a listener of your load balancer forward to it",
        )
    balancers = tuple(cloud.elb.load_balancer(arn) for arn in blue.load_balancer_arns)
    for lb in balancers:
        if lb.type == "gateway":
            message, hint = gateway_refusal(lb)
            raise PreflightError(message, hint=hint)
    return balancers


def _not_live(blue: TargetGroup, routes: tuple[Route, ...]) -> PreflightError:
    live = sorted({arn for r in routes for arn, w in r.weights.items() if w > 0} - {blue.arn})
    elsewhere = f"; they forward to {', '.join(short_name(a) for a in live)}" if live else ""
    return PreflightError(
        f"no listener or rule forwards to {blue.name} with a weight above 0{elsewhere}",
        hint="point init at the service (or primary task set) that serves production now",
    )


def _other_routes(
    cloud: Cloud,
    blue: TargetGroup,
    green: TargetGroup | None,
    balancers: tuple[LoadBalancer, ...],
    routes: tuple[Route, ...],
    production: tuple[Route, ...],
) -> list[str]:
    """Routes forwarding to blue or green that init does not take as production (no weight
    on blue), here or on another load balancer green serves: `deploy` refuses a route like
    that which the configuration does not name. One forwarding to both groups, blue at 0,
    is what a test listener looks like before its first deployment (init cannot tell): a
    warning saying to name it in [test_listener]. Any other is refused, nothing changed."""
    names = {blue.arn: blue.name, **({green.arn: green.name} if green else {})}
    known = {lb.arn for lb in balancers}
    elsewhere = [a for a in (green.load_balancer_arns if green else ()) if a not in known]
    others = [r for a in dict.fromkeys(elsewhere) for r in cloud.elb.listener_routes(a)]
    taken = {r.ref for r in production}
    left = [r for r in (*routes, *others) if r.ref not in taken and names.keys() & r.weights]
    labels = {lb.arn: lb.name for lb in balancers}
    testing = [r for r in left if names.keys() <= r.weights.keys() and len(names) == 2]
    if len(left) == 1 and testing:
        (route,) = testing
        key = config_key(route)
        return [
            f"{_label(route, labels)} forwards to {_weights(route, names)} and is not a "
            "production route: if it is your test listener, add to bluegreen.toml "
            f'[test_listener] {key} = "{route.ref.arn}"; else point it at another target '
            "group. `deploy` refuses a route to blue or green that the configuration does "
            "not name"
        ]
    if not left:
        return []
    shown = "; ".join(f"{_label(r, labels)} → {_weights(r, names)}" for r in left)
    raise PreflightError(
        f"{len(left)} route(s) forward to {' or '.join(names.values())} without sending "
        f"{blue.name} any traffic, so init would not take them as production routes: {shown}",
        hint=f"point them at another target group, or send them to {blue.name} like the "
        "production routes (weight above 0), then run init again; a deployment moves only "
        "the routes in [[listeners]] and [test_listener], and refuses any other that "
        "forwards to blue or green",
    )


def _label(route: Route, load_balancers: dict[str, str]) -> str:
    arn = route.load_balancer_arn or ""
    return route_label(route, load_balancers.get(arn) or load_balancer_name(arn))


def _weights(route: Route, names: dict[str, str]) -> str:
    return ", ".join(f"{names.get(a, short_name(a))} {w}" for a, w in route.weights.items())


def _green_key(blue: TargetGroup, routes: tuple[Route, ...], pair: Service | None) -> str:
    """The green target group's ARN or name when the user did not give one."""
    if pair is not None:
        attached = [b.target_group_arn for b in pair.load_balancers if b.target_group_arn]
        if len(attached) == 1:
            return attached[0]
    others = sorted({arn for r in routes for arn in r.weights} - {blue.arn})
    if len(others) == 1:
        return others[0]  # a previous init, or a deployment since: it is already wired
    if len(others) > 1:
        raise PreflightError(
            f"the production routes forward to {len(others)} target groups besides "
            f"{blue.name}: {', '.join(short_name(a) for a in others)}",
            hint="pass --green-target-group NAME",
        )
    return default_green_name(blue.name)


def _existing_target_group(cloud: Cloud, key: str) -> TargetGroup | None:
    try:
        return cloud.elb.target_groups([key])[0]
    except MissingResourceError:
        return None


def _existing_service(cloud: Cloud, cluster: str, name: str) -> Service | None:
    try:
        return cloud.ecs.service(cluster, name)
    except MissingResourceError:
        return None


def _check_new_name(name: str) -> None:
    if name.startswith("arn:"):
        raise MissingResourceError(
            f"target group {name} not found",
            hint="pass --green-target-group NAME: init creates it as a copy of blue",
        )
    if not VALID_NAME.match(name) or name.lower().startswith("internal-"):
        raise ConfigError(
            f"{name!r} cannot name a target group: AWS allows up to 32 letters, digits and "
            "hyphens, not starting or ending with a hyphen, nor starting with internal-",
            hint="pass another --green-target-group",
        )


def _check_green_fits(blue: TargetGroup, green: TargetGroup) -> None:
    wrong = [
        f"{what} {theirs} (blue: {ours})"
        for what, theirs, ours in (
            ("VPC", green.vpc_id, blue.vpc_id),
            ("protocol", green.protocol, blue.protocol),
            ("port", green.port, blue.port),
            ("target type", green.target_type, blue.target_type),
        )
        if theirs != ours
    ]
    if wrong:
        raise PreflightError(
            f"target group {green.name} cannot be green for {blue.name}: {'; '.join(wrong)}",
            hint=f"pass --green-target-group with a new name: init creates it as a copy of "
            f"{blue.name} (in {blue.vpc_id}); or delete {green.name} and run init again",
        )


def _differences(cloud: Cloud, blue: TargetGroup, green: TargetGroup) -> list[str]:
    notes = []
    if green.health_check != blue.health_check:
        notes.append(
            f"{green.name}'s health check ({green.health_check.describe()}, every "
            f"{green.health_check.interval_seconds}s) differs from {blue.name}'s "
            f"({blue.health_check.describe()}, every {blue.health_check.interval_seconds}s)"
        )
    ours = cloud.elb.target_group_attributes(blue.arn).values
    theirs = cloud.elb.target_group_attributes(green.arn).values
    differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    if differ:
        notes.append(f"{green.name}'s attributes differ from {blue.name}'s: {', '.join(differ)}")
    return notes


def _check_green_service(service: Service, green: TargetGroup | None) -> None:
    if service.controller != "ECS":
        raise PreflightError(
            f"green service {service.name} uses the {service.controller} deployment "
            "controller; service-pair mode needs two services on the ECS controller",
            hint="pass --green-service with the name of an ECS-controller service, or of a "
            "new one for init to create",
        )
    refuse_classic_load_balancer(service)
    attached = {b.target_group_arn for b in service.load_balancers if b.target_group_arn}
    if attached and (green is None or attached != {green.arn}):
        raise PreflightError(
            f"green service {service.name} is attached to "
            f"{', '.join(short_name(a) for a in sorted(attached))}, not to the green target group "
            f"{green.name if green else ''}",
            hint="pass --green-target-group with the target group that service is attached to",
        )
