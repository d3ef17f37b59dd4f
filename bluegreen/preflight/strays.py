"""The stray-target check: every target registered in blue's and green's target groups is
a task of what is attached to the group (its task sets, or its service).

A stray — an address someone registered by hand, a task of another service — is left out
when a deployment judges green, but it takes traffic like any target: a warning, with the
command that deregisters it. A group with no target registered is not asked about further
(no task read); tasks without an address (bridge or host networking) cannot be matched:
the check is skipped for that group.
"""

from __future__ import annotations

from collections.abc import Iterator

from bluegreen.membership import Members, members_of, sort_targets
from bluegreen.model import HealthState, Service, TargetGroup
from bluegreen.ports import Cloud
from bluegreen.preflight.report import Findings

NAME = "stray_targets"


def stray_targets(
    f: Findings,
    cloud: Cloud,
    cluster: str,
    mode: str,
    services: dict[str, Service],
    groups: dict[str, TargetGroup],
) -> None:
    if not services:
        f.skip(NAME, "no service found on the controller the mode drives")
        return
    for group in groups.values():
        health = f.read(NAME, cloud.elb.target_health, group.arn)
        if health is None:
            continue
        live = [t for t in health.targets if t.state is not HealthState.DRAINING]
        if not live:
            f.passed(NAME, f"{group.name}: no target registered")
            continue
        members = _members(f, cloud, cluster, mode, services, group)
        if members is None:
            continue  # the read failed its check
        if not members.known:
            f.skip(NAME, f"{group.name}: its tasks have no IP address to match targets by")
            continue
        strays = sort_targets(health, members).strays
        if not strays:
            f.passed(NAME, f"{group.name}: {len(live)} target(s), every one a task of its own")
            continue
        shown = ", ".join(f"{t.target_id}:{t.port}" for t in strays)
        verb = "is not a task" if len(strays) == 1 else "are not tasks"
        targets = " ".join(f"Id={t.target_id},Port={t.port}" for t in strays)
        f.warn(
            NAME,
            f"{shown} in target group {group.name} {verb} of what is attached to it: a "
            "deployment ignores it when judging health, but the load balancer sends it traffic",
            "deregister them: aws elbv2 deregister-targets "
            f"--target-group-arn {group.arn} --targets {targets}",
        )


def _members(
    f: Findings,
    cloud: Cloud,
    cluster: str,
    mode: str,
    services: dict[str, Service],
    group: TargetGroup,
) -> Members | None:
    running: set[tuple[str, int]] = set()
    starting: set[tuple[str, int]] = set()
    for started_by, service, port in _attached(mode, services, group):
        tasks = f.read(NAME, cloud.ecs.tasks, cluster, started_by=started_by, service=service)
        if tasks is None:
            return None
        found = members_of(tasks, port)
        if not found.known:
            return found
        running |= found.running
        starting |= found.starting
    return Members(frozenset(running), frozenset(starting))


def _attached(
    mode: str, services: dict[str, Service], group: TargetGroup
) -> Iterator[tuple[str | None, str | None, int]]:
    """(startedBy, service, container port) of each task set or service on `group`."""
    for service in services.values():
        if mode == "task-sets":
            for ts in service.task_sets:
                for binding in ts.load_balancers:
                    if binding.target_group_arn == group.arn:
                        yield ts.id, None, binding.container_port or 0
        else:
            for binding in service.load_balancers:
                if binding.target_group_arn == group.arn:
                    yield None, service.name, binding.container_port or 0
