"""What is true now, from AWS (and the record when there is one): the live colour, weights
on every route, health per target group, task sets, the deployment in flight. A split with
no deployment in flight is flagged, and so is a success that could not retire blue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bluegreen.config import DeploymentConfig, route_refs
from bluegreen.errors import BluegreenError
from bluegreen.model import HealthState
from bluegreen.ports import Cloud
from bluegreen.record import DeploymentRecord
from bluegreen.topology import topology_for


@dataclass
class Status:
    service: str
    live: str | None
    routes: list[dict[str, Any]] = field(default_factory=list)
    target_groups: list[dict[str, Any]] = field(default_factory=list)
    task_sets: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)  # service-pair mode
    deployment: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "live_target_group": self.live,
            "routes": self.routes,
            "target_groups": self.target_groups,
            "task_sets": self.task_sets,
            "services": self.services,
            "deployment": self.deployment,
            "warnings": self.warnings,
        }


def read_status(config: DeploymentConfig, cloud: Cloud, latest: DeploymentRecord | None) -> Status:
    groups = cloud.elb.target_groups([config.target_groups.blue, config.target_groups.green])
    names = {g.arn: g.name for g in groups}
    status = Status(service=config.service_label, live=None)
    live = set()
    for ref in route_refs(config):
        route = cloud.elb.route(ref)
        live.add(route.live_target_group())
        status.routes.append(
            {
                "route": str(ref),
                "weights": {names.get(a, a): w for a, w in route.weights.items()},
            }
        )
    for group in groups:
        health = cloud.elb.target_health(group.arn)
        # every state, zeros included: `healthy: 0` is the one a reader most needs to see
        counts = {s.value: health.count(s) for s in HealthState}
        status.target_groups.append(
            {"name": group.name, "arn": group.arn, **counts, "reasons": health.reasons()}
        )
    topology = topology_for(config, cloud.ecs)
    try:
        units = topology.units(names)
        if topology.mode == "service-pair":
            status.services = units
        else:
            status.task_sets = units
    except BluegreenError as exc:
        status.warnings.append(f"could not read the service: {exc.message}")
    in_flight = latest is not None and not latest.state.terminal
    if len(live) == 1 and None not in live:
        status.live = names.get(next(iter(live)) or "")
    elif not in_flight:
        status.warnings.append(
            "traffic is split or the listeners disagree, and no deployment is in flight: "
            "put every listener back on one colour (aws elbv2 modify-listener); "
            "`bluegreen rollback` needs a deployment record to act on"
        )
    if latest is not None and latest.cleanup_left is not None:
        status.warnings.append(
            f"{latest.id} succeeded, but blue could not be retired: "
            f"{latest.cleanup_left.error}; retire it with `{latest.cleanup_left.command}`, "
            "or fix that and run `bluegreen resume`"
        )
    if latest is not None:
        latest_analysis = latest.analysis[-1].model_dump() if latest.analysis else None
        status.deployment = {
            **latest.summary(),
            "in_flight": in_flight,
            "analysis": latest_analysis,  # the latest evaluation of the metric checks
        }
    return status
