"""Configuration + observed AWS → a plan, as plain data. Read-only: no mutating AWS call.

`resolve()` reads AWS and decides colours (the target group holding all the weight on every
production route is blue); `build_plan()` turns that into the ordered steps `deploy` will
take. `plan` and `deploy --dry-run` print the same Plan; the engine's PREFLIGHT uses the
same `resolve()`, so what is shown is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluegreen.config import DeploymentConfig
from bluegreen.errors import ConflictError, PreflightError
from bluegreen.model import (
    AlarmState,
    Route,
    RouteKind,
    RouteRef,
    Service,
    TargetGroup,
    TaskSet,
)
from bluegreen.ports import Cloud
from bluegreen.strategies import Stage, stages_for
from bluegreen.taskdef import is_task_definition_arn


@dataclass(frozen=True)
class Release:
    """What to deploy: new images for the running task definition, or a whole one."""

    images: dict[str, str] = field(default_factory=dict)
    task_definition: str | None = None  # an ARN or a JSON file path

    def describe(self) -> str:
        if self.task_definition:
            return f"task definition {self.task_definition}"
        return ", ".join(f"{c}={uri}" for c, uri in sorted(self.images.items()))


@dataclass(frozen=True)
class Resolved:
    service: Service
    blue: TargetGroup
    green: TargetGroup
    routes: tuple[Route, ...]
    test_route: Route | None
    blue_task_set: TaskSet
    leftover_task_sets: tuple[TaskSet, ...]  # on the green target group: deleted first
    container: str
    container_port: int
    alarms: dict[str, AlarmState]


def route_refs(config: DeploymentConfig) -> list[RouteRef]:
    return [_ref(r.arn, r.rule) for r in config.listeners]


def _ref(arn: str | None, rule: str | None) -> RouteRef:
    return RouteRef(RouteKind.RULE, rule) if rule else RouteRef(RouteKind.LISTENER, arn or "")


def resolve(config: DeploymentConfig, cloud: Cloud) -> Resolved:
    service = cloud.ecs.service(config.service.cluster, config.service.name or "")
    _check_controller(service)
    groups = cloud.elb.target_groups([config.target_groups.blue, config.target_groups.green])
    routes = tuple(cloud.elb.route(ref) for ref in route_refs(config))
    blue, green = _colours(routes, groups)
    test_route = None
    if config.test_listener:
        test_route = cloud.elb.route(_ref(config.test_listener.arn, config.test_listener.rule))
        _check_forwards_only_to(test_route, groups)
    blue_task_set = _blue_task_set(service, blue)
    binding = next((b for b in service.load_balancers if b.container_name), None)
    container = config.service.container or (binding.container_name if binding else None)
    port = config.service.container_port or (binding.container_port if binding else None)
    if not container or not port:
        raise PreflightError(
            "cannot tell which container and port sit behind the load balancer",
            hint="set service.container and service.container_port in bluegreen.toml",
        )
    if service.desired_count < 1:
        raise PreflightError(
            f"service {service.name} has a desired count of 0: green would have no tasks",
            hint="scale the service up first (aws ecs update-service --desired-count N)",
        )
    alarms = cloud.alarms.alarm_states(config.gates.alarms) if config.gates.alarms else {}
    missing = [name for name, state in alarms.items() if state is AlarmState.MISSING]
    if missing:
        raise PreflightError(
            f"gates.alarms names alarm(s) that do not exist: {', '.join(missing)}",
            hint="create them in CloudWatch or remove them from gates.alarms",
        )
    leftovers = tuple(ts for ts in service.task_sets if green.arn in ts.target_group_arns)
    return Resolved(
        service,
        blue,
        green,
        routes,
        test_route,
        blue_task_set,
        leftovers,
        container,
        port,
        alarms,
    )


def _check_controller(service: Service) -> None:
    if service.controller == "EXTERNAL":
        return
    why = {
        "CODE_DEPLOY": "it is driven by CodeDeploy, which rejects task-definition changes "
        "from anyone else",
        "ECS": "its rolling deployments are driven by ECS itself",
    }.get(service.controller, f"its deployment controller is {service.controller}")
    raise PreflightError(
        f'service {service.name} cannot be deployed in mode "task-sets": {why}',
        hint='task-sets mode needs a service created with deploymentController type "EXTERNAL"; '
        'for two ECS-controller services use mode = "service-pair"',
    )


def _colours(
    routes: tuple[Route, ...], groups: list[TargetGroup]
) -> tuple[TargetGroup, TargetGroup]:
    by_arn = {g.arn: g for g in groups}
    for route in routes:
        _check_forwards_only_to(route, groups)
    live = {route.ref: route.live_target_group() for route in routes}
    split = [str(ref) for ref, arn in live.items() if arn is None]
    if split:
        raise ConflictError(
            f"traffic is split between blue and green on {', '.join(split)} "
            "and no deployment is in flight",
            hint="see it with `bluegreen status`, then put it back with `bluegreen rollback`",
        )
    if len(set(live.values())) > 1:
        detail = "; ".join(f"{ref} → {by_arn[arn or ''].name}" for ref, arn in live.items())
        raise ConflictError(
            f"the production listeners disagree on which colour is live: {detail}",
            hint="every production listener must send all traffic to the same target group; "
            "see `bluegreen status` and fix the listeners, or run `bluegreen rollback`",
        )
    blue = by_arn[next(iter(live.values())) or ""]
    green = next(g for g in groups if g.arn != blue.arn)
    return blue, green


def _check_forwards_only_to(route: Route, groups: list[TargetGroup]) -> None:
    ours = {g.arn for g in groups}
    others = [arn for arn, weight in route.weights.items() if arn not in ours and weight > 0]
    if others:
        raise ConflictError(
            f"{route.ref} forwards to target group(s) that are neither blue nor green: "
            f"{', '.join(others)}",
            hint="point it at the target groups named in [target_groups], or remove it "
            "from [[listeners]]",
        )


def _blue_task_set(service: Service, blue: TargetGroup) -> TaskSet:
    for task_set in service.task_sets:
        if blue.arn in task_set.target_group_arns:
            return task_set
    raise PreflightError(
        f"no task set of service {service.name} is attached to the live target group {blue.name}",
        hint="the live colour must be served by a task set of the service; see `bluegreen status`",
    )


# ---------------------------------------------------------------- the plan, as data


@dataclass(frozen=True)
class PlanStep:
    action: str
    detail: str = ""


@dataclass(frozen=True)
class Plan:
    service: str
    cluster: str
    blue: str
    green: str
    from_task_definition: str
    release: str
    stages: tuple[Stage, ...]
    steps: tuple[PlanStep, ...]
    minimum_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "cluster": self.cluster,
            "blue_target_group": self.blue,
            "green_target_group": self.green,
            "from_task_definition": self.from_task_definition,
            "release": self.release,
            "stages": [s.to_dict() for s in self.stages],
            "steps": [{"action": s.action, "detail": s.detail} for s in self.steps],
            "minimum_seconds": self.minimum_seconds,
        }


def build_plan(config: DeploymentConfig, resolved: Resolved, release: Release) -> Plan:
    stages = tuple(stages_for(config.strategy))
    blue, green = resolved.blue.name, resolved.green.name
    steps = [PlanStep("preflight", f"{blue} is live (blue); {green} is idle (green)")]
    steps += [
        PlanStep("delete leftover task set", f"{ts.id} on {green} (no traffic)")
        for ts in resolved.leftover_task_sets
    ]
    steps += _hook_steps(config, "pre_provision")
    steps.append(PlanStep("register task definition", _release_detail(resolved, release)))
    steps.append(
        PlanStep(
            "create green task set",
            f"on {green}, {resolved.container}:{resolved.container_port}, scale 100% "
            f"({resolved.service.desired_count} tasks)",
        )
    )
    steps.append(
        PlanStep(
            "wait for green healthy",
            f"within {config.health.timeout:g}s, "
            f"health check {resolved.green.health_check.describe()}",
        )
    )
    steps += _hook_steps(config, "post_provision")
    if resolved.test_route:
        steps.append(PlanStep("route test listener to green", str(resolved.test_route.ref)))
        steps += _hook_steps(config, "post_test_traffic")
    routes = ", ".join(str(r.ref) for r in resolved.routes)
    for number, stage in enumerate(stages, 1):
        detail = f"{stage.weight}% green on {routes}"
        if stage.bake:
            detail += f"; bake {stage.bake:g}s"
        if stage.pause:
            detail += "; pause for promote"
        steps.append(PlanStep(f"shift step {number}/{len(stages)}", detail))
    steps.append(PlanStep("bake", f"{config.gates.bake_after_shift:g}s at 100% green, blue kept"))
    steps += _hook_steps(config, "pre_cleanup")
    steps.append(PlanStep("make green primary", "green's task set becomes PRIMARY"))
    steps.append(
        PlanStep(
            "retire blue",
            f"after {config.gates.termination_wait:g}s, delete "
            f"task set {resolved.blue_task_set.id}",
        )
    )
    gates = ["green target health"] + [f"alarm {a}" for a in config.gates.alarms]
    steps.append(PlanStep("gates watched", ", ".join(gates)))
    minimum = sum(s.bake for s in stages) + config.gates.bake_after_shift
    return Plan(
        resolved.service.name,
        config.service.cluster,
        blue,
        green,
        resolved.blue_task_set.task_definition,
        release.describe(),
        stages,
        tuple(steps),
        minimum + config.gates.termination_wait,
    )


def _release_detail(resolved: Resolved, release: Release) -> str:
    if release.task_definition and is_task_definition_arn(release.task_definition):
        return f"use {release.task_definition} as is"
    if release.task_definition:
        return f"from file {Path(release.task_definition)}"
    return f"copy of {resolved.blue_task_set.task_definition} with {release.describe()}"


def _hook_steps(config: DeploymentConfig, event: str) -> list[PlanStep]:
    return [PlanStep(f"hook {event}", h.display_name) for h in config.hooks if h.event == event]
