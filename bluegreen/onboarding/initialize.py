"""`bluegreen init`: read a service's load-balancer wiring, make the green side exist, and
write a starter `bluegreen.toml` (docs/configuration.md).

In order — everything is read and checked first, so an error (exit 2) changes nothing:
1. the service: EXTERNAL controller → its PRIMARY task set's target group (task-sets mode);
   ECS controller → the service's own, plus a second service named by `green_service`
   (service-pair mode). CODE_DEPLOY, Classic and Gateway Load Balancers are refused.
2. blue = that target group; the production routes = every listener default action and
   rule of blue's load balancers that forwards to blue with a weight above 0.
3. green = `green_target_group`, else the green service's target group, else the one other
   group those routes already forward to, else blue's name with blue → green. An existing
   one must fit (VPC, protocol, port, target type); a missing one is created as a copy of
   blue (settings, attributes, tags, plus CREATED_BY_TAG).
4. green is added at weight 0 to every production route that lacks it (all else kept);
   a missing green service is created as a copy of blue's at 0 tasks on green.
5. the configuration is written unless an identical file is there; a different one only
   with `force` (and the result says which keys changed).
A second run finds everything in place: no mutating AWS call, the file left alone.

Reading and checking (steps 1–3, every refusal included) is `discover`, in
bluegreen.onboarding.discovery; every change (green's creation in step 3, steps 4–5) is here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bluegreen.errors import ConfigError
from bluegreen.model import LoadBalancerBinding, TargetGroup
from bluegreen.onboarding.discovery import Found, discover
from bluegreen.onboarding.init_config import (
    config_changes,
    default_green_name,
    file_has_swapped_pair,
    render_config,
    route_label,
    short_name,
)
from bluegreen.ports import Cloud

# default_green_name lives in init_config; callers that name init's choices import it here.
__all__ = ["CREATED_BY_TAG", "InitResult", "RouteFound", "default_green_name", "initialize"]

CREATED_BY_TAG = "bluegreen:created-by"
COPIED_FROM_TAG = "bluegreen:copied-from"
CREATED_BY = "bluegreen init"


@dataclass(frozen=True)
class RouteFound:
    """A production route: what it forwarded to when found, and whether init added green."""

    kind: str  # listener | rule
    arn: str
    label: str  # e.g. "web HTTPS :443" or "web HTTPS :443 rule 10 (path-pattern /api*)"
    weights: dict[str, int]  # target group name → weight, as found
    green_added: bool


@dataclass(frozen=True)
class InitResult:
    cluster: str
    mode: str  # task-sets | service-pair
    service: str  # the service init was pointed at (blue's)
    green_service: str | None
    container: str
    container_port: int
    load_balancers: tuple[str, ...]
    blue_target_group: str
    green_target_group: str
    routes: tuple[RouteFound, ...]
    config_path: str
    config_status: str  # written | unchanged | overwritten
    created: tuple[str, ...] = ()  # resources made in AWS
    changes: tuple[str, ...] = ()  # every change, in AWS and on disk, in order
    config_changes: tuple[str, ...] = ()  # keys that differ from the file overwritten
    warnings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "changed": self.changed}


def initialize(
    cloud: Cloud,
    *,
    cluster: str,
    service: str,
    green_target_group: str | None = None,
    green_service: str | None = None,
    config_path: Path = Path("bluegreen.toml"),
    force: bool = False,
) -> InitResult:
    found = discover(cloud, cluster, service, green_target_group, green_service)
    text = render_config(
        cluster=cluster,
        mode=found.mode,
        service=service,
        green_service=found.green_service,
        container=found.binding.container_name or "",
        container_port=found.binding.container_port or 0,
        blue=found.blue,
        green_name=found.green_name,
        routes=[(r, route_label(r, found.load_balancers)) for r in found.routes],
        network=any(lb.type == "network" for lb in found.load_balancers),
        swapped=file_has_swapped_pair(config_path, found.blue.name, found.green_name),
    )
    old_text = config_path.read_text(encoding="utf-8") if config_path.exists() else None
    if old_text is not None and old_text != text and not force:
        raise ConfigError(
            f"{config_path} exists and differs from the configuration init would write; "
            "nothing was changed",
            hint="pass --force to overwrite it, or --config PATH to write another file",
        )
    changes: list[str] = []
    created: list[str] = []
    green = found.green or _create_green(cloud, found.blue, found.green_name, changes, created)
    routes = _add_green(cloud, found, green, changes)
    if found.mode == "service-pair":
        _green_service(cloud, cluster, found, green, changes, created)
    status = "unchanged"
    if old_text != text:
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(text, encoding="utf-8")
        status = "written" if old_text is None else "overwritten"
        changes.append(f"{'wrote' if old_text is None else 'overwrote'} {config_path}")
    return InitResult(
        cluster=cluster,
        mode=found.mode,
        service=service,
        green_service=found.green_service,
        container=found.binding.container_name or "",
        container_port=found.binding.container_port or 0,
        load_balancers=tuple(lb.name for lb in found.load_balancers),
        blue_target_group=found.blue.name,
        green_target_group=green.name,
        routes=routes,
        config_path=str(config_path),
        config_status=status,
        created=tuple(created),
        changes=tuple(changes),
        config_changes=tuple(config_changes(old_text, text)) if status == "overwritten" else (),
        warnings=tuple(found.warnings),
    )


# -- changing --------------------------------------------------------------------------------


def _create_green(
    cloud: Cloud, blue: TargetGroup, name: str, changes: list[str], created: list[str]
) -> TargetGroup:
    tags = {
        k: v for k, v in cloud.elb.target_group_tags(blue.arn).items() if not k.startswith("aws:")
    }
    tags |= {CREATED_BY_TAG: CREATED_BY, COPIED_FROM_TAG: blue.name}
    green = cloud.elb.create_target_group(name, like=blue, tags=tags)
    wanted = cloud.elb.target_group_attributes(blue.arn).values
    has = cloud.elb.target_group_attributes(green.arn).values
    # Only what differs from a new group's defaults: echoing every default back can be
    # refused (empty values, keys of another stickiness type).
    differ = {k: v for k, v in wanted.items() if has.get(k) != v}
    if differ:
        cloud.elb.set_target_group_attributes(green.arn, differ)
    created.append(f"target group {green.name}")
    changes.append(
        f"created target group {green.name} as a copy of {blue.name}"
        + (f" (attributes {', '.join(sorted(differ))})" if differ else "")
    )
    return green


def _add_green(
    cloud: Cloud, found: Found, green: TargetGroup, changes: list[str]
) -> tuple[RouteFound, ...]:
    names = {found.blue.arn: found.blue.name, green.arn: green.name}
    result = []
    for route in found.routes:
        label = route_label(route, found.load_balancers)
        missing = green.arn not in route.weights
        if missing:
            cloud.elb.set_weights(route.ref, {**route.weights, green.arn: 0}, current=route)
            changes.append(f"added {green.name} at weight 0 to {label}")
        result.append(
            RouteFound(
                kind=route.ref.kind.value,
                arn=route.ref.arn,
                label=label,
                weights={names.get(a, short_name(a)): w for a, w in route.weights.items()},
                green_added=missing,
            )
        )
    return tuple(result)


def _green_service(
    cloud: Cloud,
    cluster: str,
    found: Found,
    green: TargetGroup,
    changes: list[str],
    created: list[str],
) -> None:
    name = found.green_service or ""
    binding = LoadBalancerBinding(
        green.arn, found.binding.container_name, found.binding.container_port
    )
    existing = found.green_service_found
    if existing is not None:
        if not any(b.target_group_arn for b in existing.load_balancers):
            cloud.ecs.attach_service(cluster, name, binding)
            changes.append(f"attached service {name} to {green.name}")
        return
    blue = found.service
    cloud.ecs.create_service(
        cluster=cluster,
        name=name,
        task_definition=blue.task_definition or "",
        desired_count=0,
        binding=binding,
        network_configuration=blue.network_configuration,
        launch_type=blue.launch_type,
        capacity_provider_strategy=blue.capacity_provider_strategy,
        platform_version=blue.platform_version,
        tags={CREATED_BY_TAG: CREATED_BY, COPIED_FROM_TAG: blue.name},
    )
    created.append(f"service {name}")
    changes.append(f"created service {name} as a copy of {blue.name} at 0 tasks on {green.name}")
