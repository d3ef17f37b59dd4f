"""Configuration + observed AWS → a plan, as plain data. Read-only: no mutating AWS call.

`resolve()` reads AWS and decides colours (the target group holding all the weight on every
production route is blue); `build_plan()` turns that into the ordered steps `deploy` will
take. `plan` and `deploy --dry-run` print the same Plan; the engine's PREFLIGHT uses the
same `resolve()`, so what is shown is what runs. A plan is shown as the logs are: redacted
(a hook's command line may carry a secret), so `build_plan` returns it masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bluegreen.analysis import describe_analysis, describe_check
from bluegreen.config import DeploymentConfig, describe_http_check, route_ref, route_refs
from bluegreen.engine.analysis import check_readable
from bluegreen.engine.taskdef import is_task_definition_arn
from bluegreen.errors import ConflictError, PreflightError, UsageError
from bluegreen.model import AlarmState, LoadBalancer, Route, TargetGroup
from bluegreen.ports import Cloud
from bluegreen.redact import Redactor
from bluegreen.refusals import forwards_elsewhere, gateway_refusal, listeners_disagree
from bluegreen.scaling import describe_hold
from bluegreen.smoke import listener_url
from bluegreen.strategies import Stage, stages_for
from bluegreen.topology import Fleet, Topology, topology_for


@dataclass(frozen=True)
class NewVersion:
    """What to deploy: new images for the running task definition, or a whole one."""

    images: dict[str, str] = field(default_factory=dict)
    task_definition: str | None = None  # an ARN or a JSON file path

    def describe(self) -> str:
        if self.task_definition:
            return f"task definition {self.task_definition}"
        return ", ".join(f"{c}={uri}" for c, uri in sorted(self.images.items()))

    def check(self) -> None:
        """Exactly one of the two, or a UsageError (exit 2) saying what to give."""
        if not self.images and not self.task_definition:
            raise UsageError(
                "nothing to deploy", hint="give --image CONTAINER=URI or --task-definition FILE|ARN"
            )
        if self.images and self.task_definition:
            raise UsageError("give either --image or --task-definition, not both")


@dataclass(frozen=True)
class Resolved:
    fleet: Fleet
    blue: TargetGroup
    green: TargetGroup
    routes: tuple[Route, ...]
    test_route: Route | None
    container: str
    container_port: int
    alarms: dict[str, AlarmState]
    topology: Topology
    load_balancers: tuple[LoadBalancer, ...] = ()

    @property
    def test_url(self) -> str | None:
        """The test listener's address (scheme, the load balancer's DNS name, port), or None
        without a test listener or a DNS name."""
        route = self.test_route
        balancer = next(
            (lb for lb in self.load_balancers if route and lb.arn == route.load_balancer_arn),
            None,
        )
        if route is None or balancer is None or not balancer.dns_name:
            return None
        return listener_url(route.protocol, balancer.dns_name, route.port)

    @property
    def on_network_load_balancer(self) -> bool:
        return any(lb.type == "network" for lb in self.load_balancers)

    @property
    def swaps(self) -> bool:
        """Some route takes no weights: the whole deployment switches all at once."""
        return any(r.ref.swap for r in (*self.routes, *filter(None, [self.test_route])))


def resolve(config: DeploymentConfig, cloud: Cloud, *, analysis: bool = True) -> Resolved:
    """`analysis=False` (--skip-analysis): the metric checks are not looked at, so an
    analysis that cannot be read does not stop a deployment that will not run it."""
    topology = topology_for(config, cloud.ecs)
    groups = cloud.elb.target_groups([config.target_groups.blue, config.target_groups.green])
    routes = tuple(cloud.elb.routes(route_refs(config)))  # as the preflight read them: once
    blue, green = _colours(routes, groups)
    test_route = None
    if config.test_listener:
        test_route = cloud.elb.route(route_ref(config.test_listener))
        _check_forwards_only_to(test_route, groups)
    load_balancers = _load_balancers(cloud, (*routes, *filter(None, [test_route])))
    _check_swaps_keep_both_groups_in_use((*routes, *filter(None, [test_route])))
    if analysis:
        check_readable(config, (blue.arn, green.arn), load_balancers)
    fleet = topology.resolve(blue, green)
    binding = next((b for b in fleet.bindings if b.container_name), None)
    container = config.service.container or (binding.container_name if binding else None)
    port = config.service.container_port or (binding.container_port if binding else None)
    if not container or not port:
        raise PreflightError(
            "cannot tell which container and port sit behind the load balancer",
            hint="set service.container and service.container_port in bluegreen.toml",
        )
    if fleet.desired_count < 1:
        raise PreflightError(
            f"service {fleet.blue} has a desired count of 0: green would have no tasks",
            hint="scale the service up first (aws ecs update-service --desired-count N)",
        )
    alarms = cloud.alarms.alarm_states(config.gates.alarms) if config.gates.alarms else {}
    missing = [name for name, state in alarms.items() if state is AlarmState.MISSING]
    if missing:
        raise PreflightError(
            f"gates.alarms names alarm(s) that do not exist: {', '.join(missing)}",
            hint="create them in CloudWatch or remove them from gates.alarms",
        )
    return Resolved(
        fleet, blue, green, routes, test_route, container, port, alarms, topology, load_balancers
    )


def _check_swaps_keep_both_groups_in_use(routes: tuple[Route, ...]) -> None:
    """A swapped route forwards to one group only. A group no listener or rule forwards to
    is not health-checked (Target.NotInUse): green could not turn healthy, and blue could
    not be rolled back to. A weighted route (weight 0 still counts) keeps both in use."""
    swapped = [r for r in routes if r.ref.swap]
    if swapped and all(r.ref.swap for r in routes):
        raise PreflightError(
            f'{", ".join(str(r.ref) for r in swapped)} switch all at once (shift = "swap") '
            "and no other route forwards to both target groups: the idle one would not be "
            "health-checked (Target.NotInUse), so green could not turn healthy before the "
            "switch, nor blue be rolled back to after it",
            hint="add a route that takes weights and forwards to both groups, e.g. a "
            "[test_listener] whose forward names blue and green (weight 0 counts), or drop "
            'shift = "swap" where the listener accepts weights',
        )


def _load_balancers(cloud: Cloud, routes: tuple[Route, ...]) -> tuple[LoadBalancer, ...]:
    """The load balancers of the routes; refused when their type has no weighted target
    groups to shift (Gateway Load Balancer)."""
    arns = dict.fromkeys(r.load_balancer_arn for r in routes if r.load_balancer_arn)
    found = tuple(cloud.elb.load_balancer(arn) for arn in arns)
    for lb in found:
        if lb.type == "gateway":
            message, hint = gateway_refusal(lb)
            raise PreflightError(message, hint=hint)
    return found


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
        message, hint = listeners_disagree(detail)
        raise ConflictError(message, hint=hint)
    blue = by_arn[next(iter(live.values())) or ""]
    green = next(g for g in groups if g.arn != blue.arn)
    return blue, green


def _check_forwards_only_to(route: Route, groups: list[TargetGroup]) -> None:
    others = route.forwards_elsewhere({g.arn for g in groups})
    if others:
        message, hint = forwards_elsewhere(str(route.ref), others)
        raise ConflictError(message, hint=hint)


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

    def redacted(self, redactor: Redactor) -> Plan:
        """This plan with every text masked by `redactor`, as the logs are."""
        mask = redactor.redact
        return replace(
            self,
            service=mask(self.service),
            cluster=mask(self.cluster),
            blue=mask(self.blue),
            green=mask(self.green),
            from_task_definition=mask(self.from_task_definition),
            release=mask(self.release),
            steps=tuple(PlanStep(mask(s.action), mask(s.detail)) for s in self.steps),
        )


# An NLB keeps sending new connections to old targets for about 75 s after a listener
# change: a stage judged sooner is judged on traffic it has not had yet.
NLB_SETTLE_SECONDS = 90.0


def stages_of(config: DeploymentConfig, resolved: Resolved) -> list[Stage]:
    """The strategy's stages, fitted to the load balancers: one all-at-once switch when a
    route takes no weights; bakes of at least NLB_SETTLE_SECONDS on a Network LB."""
    stages = stages_for(config.strategy)
    if resolved.swaps:
        return [Stage(100)]
    if resolved.on_network_load_balancer:
        stages = [
            s if s.weight == 100 else replace(s, bake=max(s.bake, NLB_SETTLE_SECONDS))
            for s in stages
        ]
    return stages


def build_plan(
    config: DeploymentConfig,
    resolved: Resolved,
    version: NewVersion,
    *,
    skip_analysis: bool = False,
) -> Plan:
    topology = resolved.topology
    fleet = resolved.fleet
    stages = tuple(stages_of(config, resolved))
    blue, green = resolved.blue.name, resolved.green.name
    steps = [PlanStep("preflight", f"{blue} is live (blue); {green} is idle (green)")]
    steps += _hook_steps(config, "pre_provision")
    held = describe_hold(config.autoscaling.hold, fleet.service.split("+"))  # web-blue+web-green
    steps += [PlanStep("hold auto scaling", held)] if held else []
    steps.append(PlanStep("register task definition", _version_detail(resolved, version)))
    steps += [PlanStep(*s) for s in topology.plan_provision(fleet, resolved.green)]
    steps.append(
        PlanStep(
            "wait for green healthy",
            f"within {config.health.timeout:g}s, {resolved.container}:"
            f"{resolved.container_port}, health check {resolved.green.health_check.describe()}",
        )
    )
    steps += _hook_steps(config, "post_provision")
    if resolved.test_route:
        steps.append(PlanStep("route test listener to green", str(resolved.test_route.ref)))
        steps += _smoke_steps(config, resolved)
        steps += _hook_steps(config, "post_test_traffic")
    else:
        steps += _smoke_steps(config, resolved)
    steps += _shift_steps(resolved, stages)
    steps.append(PlanStep("bake", f"{config.gates.bake_after_shift:g}s at 100% green, blue kept"))
    steps += _hook_steps(config, "pre_cleanup")
    steps += [PlanStep(*s) for s in topology.plan_retire(fleet, config.gates.termination_wait)]
    gates = ["green target health"] + [f"alarm {a}" for a in config.gates.alarms]
    steps.append(PlanStep("gates watched", ", ".join(gates)))
    if config.analysis and config.analysis.metrics and skip_analysis:
        skipped = "skipped (--skip-analysis): no metric check is run; the gates above are"
        steps.append(PlanStep("metric analysis", skipped))
    elif config.analysis and config.analysis.metrics:  # judged during every bake and pause
        steps.append(PlanStep("metric analysis", describe_analysis(config.analysis)))
        steps += [PlanStep("metric check", describe_check(c)) for c in config.analysis.metrics]
    minimum = sum(s.bake for s in stages) + config.gates.bake_after_shift
    plan = Plan(
        fleet.service,
        config.service.cluster,
        blue,
        green,
        fleet.task_definition,
        version.describe(),
        stages,
        tuple(steps),
        minimum + config.gates.termination_wait,
    )
    return plan.redacted(config.redactor)


def _shift_steps(resolved: Resolved, stages: tuple[Stage, ...]) -> list[PlanStep]:
    routes = ", ".join(str(r.ref) for r in resolved.routes)
    steps = []
    if resolved.swaps:
        swapped = ", ".join(str(r.ref) for r in resolved.routes if r.ref.swap)
        steps.append(
            PlanStep("note", f"{swapped} take no weights: every route switches all at once")
        )
    elif resolved.on_network_load_balancer:
        steps.append(
            PlanStep(
                "note",
                f"Network Load Balancer: each stage bakes at least {NLB_SETTLE_SECONDS:g}s "
                "(it keeps sending to old targets for about 75 s after a change)",
            )
        )
    for number, stage in enumerate(stages, 1):
        detail = f"{stage.weight}% green on {routes}"
        if stage.bake:
            detail += f"; bake {stage.bake:g}s"
        if stage.pause:
            detail += "; pause for promote"
        steps.append(PlanStep(f"shift step {number}/{len(stages)}", detail))
    return steps


def _version_detail(resolved: Resolved, version: NewVersion) -> str:
    if version.task_definition and is_task_definition_arn(version.task_definition):
        return f"use {version.task_definition} as is"
    if version.task_definition:
        return f"from file {Path(version.task_definition)}"
    return f"copy of {resolved.fleet.task_definition} with {version.describe()}"


def _smoke_steps(config: DeploymentConfig, resolved: Resolved) -> list[PlanStep]:
    """The smoke checks, with the test listener's address when they go through it."""
    checks = config.analysis.http if config.analysis else []
    return [PlanStep("smoke check", describe_http_check(c, resolved.test_url)) for c in checks]


def _hook_steps(config: DeploymentConfig, event: str) -> list[PlanStep]:
    return [PlanStep(f"hook {event}", h.display_name) for h in config.hooks if h.event == event]
