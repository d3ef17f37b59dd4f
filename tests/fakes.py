"""An in-memory AWS for engine tests, moving on a VirtualClock.

It implements bluegreen.ports with just enough behaviour: ECS starts a task set's tasks
after `start_delay`, registers them into the task set's target group, and each target turns
healthy (or unhealthy, per `behaviour[image]`) after `health_delay`. It records every
weight write, and flags any write that sends weight to a group with no healthy target of
a running task (a stray registered by hand does not count) — the invariant tests read
`violations`. A task's address is its target's id.

CloudWatch's load-balancer metrics come from `traffic`: every minute that has ended,
`traffic.per_minute` production requests split by the HTTP listener's weights (as they
stood mid-minute), errors and latency per target group as `traffic` says; a colour with
no requests in a minute has no data points, as on AWS.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bluegreen.clock import VirtualClock
from bluegreen.errors import AwsError, MissingResourceError
from bluegreen.model import (
    AlarmState,
    ContainerExit,
    ContainerImage,
    EcsTask,
    HealthCheck,
    HealthState,
    IngressRule,
    LoadBalancer,
    LoadBalancerBinding,
    MetricQuery,
    MetricSeries,
    Route,
    RouteKind,
    RouteRef,
    SecurityGroup,
    Service,
    TargetGroup,
    TargetGroupAttributes,
    TargetGroupHealth,
    TargetHealth,
    TaskDefinition,
    TaskSet,
    TaskSetStatus,
)
from bluegreen.scaling import ScalableTarget, SuspendedState

HEALTH_CHECK = HealthCheck("HTTP", "traffic-port", "/health", "200", 10, 5, 3, 2)
BLUE, GREEN = "arn:tg/web-blue", "arn:tg/web-green"
TEST = RouteRef(RouteKind.LISTENER, "arn:listener/test")
HTTP, HTTPS = (
    RouteRef(RouteKind.LISTENER, "arn:listener/http"),
    RouteRef(RouteKind.LISTENER, "arn:listener/https"),
)


@dataclass
class FakeTaskSet:
    id: str
    task_definition: str
    target_group: str
    external_id: str | None
    created_at: float
    status: TaskSetStatus = TaskSetStatus.ACTIVE
    running: int = 0
    # Tasks that exited (behaviour "exits") are replaced by a new generation of tasks.
    generation: int = 0
    generation_at: float | None = None  # when the current generation was asked for
    stopped: list[EcsTask] = field(default_factory=list)

    def task_ids(self, count: int) -> list[str]:
        """The running generation's task ids (= target ids)."""
        if self.generation == 0:
            return [f"{self.id}-{n}" for n in range(count)]
        return [f"{self.id}-g{self.generation}-{n}" for n in range(count)]

    @property
    def started(self) -> float:
        return self.created_at if self.generation_at is None else self.generation_at

    def value(self, desired: int) -> TaskSet:
        return TaskSet(
            self.id,
            f"arn:ts/{self.id}",
            self.status,
            self.task_definition,
            (self.target_group,),
            self.external_id,
            100.0,
            self.running,
            0,
            desired,
            True,
            {"awsvpcConfiguration": {"subnets": ["s-1"]}},
            "FARGATE",
        )


@dataclass
class Traffic:
    """What the load balancer's metrics say, per target group ARN."""

    per_minute: float | Callable[[float], float] = 6000.0  # or minute (its start) → number
    # fraction of requests: a number, or minute (its start) → number
    error_rate: dict[str, float | Callable[[float], float]] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)  # seconds, before jitter

    def latency_at(self, group: str, minute: float) -> float:
        # a deterministic wobble of a few per cent, so minutes are never all tied
        wobble = 0.04 * math.sin(minute / 60 * 1.3 + len(group))
        return self.latency.get(group, 0.1) * (1 + wobble)


@dataclass
class World:
    clock: VirtualClock
    start_delay: float = 20.0
    health_delay: float = 30.0
    desired: int = 2
    controller: str = "EXTERNAL"
    lb_type: str = "application"  # of every route's load balancer
    dns_name: str | None = None  # of every route's load balancer (smoke checks go there)
    listener_port: int = 80  # of every route's listener
    # image → "healthy" | "unhealthy" | ("unhealthy_after", seconds) |
    # ("exits", seconds, exit code, generations): the first `generations` generations of
    # tasks (None: all) exit that long after they run, and ECS starts replacements at once
    behaviour: dict[str, Any] = field(default_factory=dict)
    routes: dict[RouteRef, dict[str, int]] = field(default_factory=dict)
    # Routes that `listener_routes` does not list, as if on a load balancer of their own
    # that no target group reports: by default the test listener, which most tests do not
    # configure (listed, it would fail the unconfigured-route check, as on AWS).
    unlisted: set[RouteRef] = field(default_factory=lambda: {TEST})
    # Routes on another load balancer than "arn:lb" (route → its ARN); a target group
    # reports every load balancer with a route naming it, as DescribeTargetGroups does.
    elsewhere: dict[RouteRef, str] = field(default_factory=dict)
    targets: dict[str, dict[str, TargetHealth]] = field(default_factory=dict)
    task_sets: dict[str, FakeTaskSet] = field(default_factory=dict)
    task_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    alarms: dict[str, AlarmState] = field(default_factory=dict)
    writes: list[tuple[float, RouteRef, dict[str, int]]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    fail: dict[str, Callable[[], Exception | None]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    traffic: Traffic = field(default_factory=Traffic)
    metric_reads: list[tuple[float, int]] = field(default_factory=list)  # (when, queries)
    stopped_reads: list[float] = field(default_factory=list)  # when stopped tasks were listed

    def call(self, operation: str) -> None:
        self.calls.append(operation)
        make = self.fail.get(operation)
        error = make() if make else None
        if error:
            raise error

    def tick(self, now: float) -> None:
        for ts in self.task_sets.values():
            if ts.status is TaskSetStatus.DRAINING:
                continue
            image = self.task_definitions[ts.task_definition]["containerDefinitions"][0]["image"]
            self._exit(ts, self.behaviour.get(image), now)
            if now - ts.started >= self.start_delay and ts.running < self.desired:
                ts.running = self.desired
                group = self.targets.setdefault(ts.target_group, {})
                for tid in [t for t, h in group.items() if h.state is HealthState.DRAINING]:
                    if tid.startswith(ts.id):
                        del group[tid]  # an exited generation's targets: drained
                for tid in ts.task_ids(self.desired):
                    group[tid] = TargetHealth(
                        tid, 8080, HealthState.INITIAL, "Elb.InitialHealthChecking"
                    )
            self._judge(ts, image, now)

    def _exit(self, ts: FakeTaskSet, mode: Any, now: float) -> None:
        """Behaviour "exits": the running generation stops, its targets drain, and the
        next generation is asked for when it stopped."""
        if not (isinstance(mode, tuple) and mode[0] == "exits"):
            return
        _, after, code, generations = mode
        at = ts.started + self.start_delay + after
        if not ts.running or at > now or (generations is not None and ts.generation >= generations):
            return
        group = self.targets.setdefault(ts.target_group, {})
        for tid in ts.task_ids(ts.running):
            group[tid] = TargetHealth(
                tid, 8080, HealthState.DRAINING, "Target.DeregistrationInProgress"
            )
            ts.stopped.append(
                EcsTask(
                    f"arn:task/{tid}",
                    "STOPPED",
                    ts.task_definition,
                    ts.id,
                    "service:web",
                    tid,
                    stopped_reason="Essential container in task exited",
                    stop_code="EssentialContainerExited",
                    exits=(ContainerExit("web", code, None),),
                    created_at=ts.started,
                    stopped_at=at,
                )
            )
        ts.running, ts.generation, ts.generation_at = 0, ts.generation + 1, at

    def _judge(self, ts: FakeTaskSet, image: str, now: float) -> None:
        mode = self.behaviour.get(image, "healthy")
        age = now - ts.started - self.start_delay
        for tid, found in list(self.targets.get(ts.target_group, {}).items()):
            if not tid.startswith(ts.id) or age < self.health_delay:
                continue
            if found.state is HealthState.DRAINING:
                continue
            bad = mode == "unhealthy" or (
                isinstance(mode, tuple) and mode[0] == "unhealthy_after" and age >= mode[1]
            )
            self.targets[ts.target_group][tid] = (
                TargetHealth(
                    tid,
                    8080,
                    HealthState.UNHEALTHY,
                    "Target.ResponseCodeMismatch",
                    "Health checks failed with these codes: [404]",
                )
                if bad
                else TargetHealth(tid, 8080, HealthState.HEALTHY)
            )

    def weights(self, ref: RouteRef) -> dict[str, int]:
        return dict(self.routes[ref])

    def owns(self, target_id: str) -> bool:
        """The target is one of a task set's running tasks (not a stray)."""
        return any(target_id in ts.task_ids(ts.running) for ts in self.task_sets.values())


class FakeElb:
    def __init__(self, world: World) -> None:
        self.w = world

    def target_groups(self, names_or_arns: Sequence[str]) -> list[TargetGroup]:
        self.w.call("DescribeTargetGroups")
        found = []
        for key in names_or_arns:
            arn = key if key.startswith("arn:") else f"arn:tg/{key}"
            if arn not in (BLUE, GREEN):
                raise MissingResourceError(f"target group {key} not found")
            found.append(
                TargetGroup(
                    arn,
                    arn.rsplit("/", 1)[-1],
                    "HTTP",
                    8080,
                    "vpc-1",
                    "ip",
                    HEALTH_CHECK,
                    self._load_balancers_of(arn),
                )
            )
        return found

    def _load_balancers_of(self, group: str) -> tuple[str, ...]:
        others = [lb for ref, lb in self.w.elsewhere.items() if group in self.w.routes.get(ref, {})]
        return tuple(dict.fromkeys(["arn:lb", *others]))

    def target_health(self, target_group_arn: str) -> TargetGroupHealth:
        self.w.call("DescribeTargetHealth")
        return TargetGroupHealth(
            target_group_arn, tuple(self.w.targets.get(target_group_arn, {}).values())
        )

    def target_group_attributes(self, target_group_arn: str) -> TargetGroupAttributes:
        self.w.call("DescribeTargetGroupAttributes")
        return TargetGroupAttributes({"deregistration_delay.timeout_seconds": "30"})

    def load_balancer(self, arn: str) -> LoadBalancer:
        self.w.call("DescribeLoadBalancers")
        return LoadBalancer(arn, "web", self.w.lb_type, "vpc-1", self.w.dns_name)

    def listener_routes(self, load_balancer_arn: str) -> list[Route]:
        """Every route of `world.routes` on that load balancer but the unlisted ones; a
        rule has priority 10 and a path-pattern condition."""
        self.w.call("DescribeListeners")
        self.w.call("DescribeRules")
        found = []
        for ref in self.w.routes:
            if ref in self.w.unlisted or self.w.elsewhere.get(ref, "arn:lb") != load_balancer_arn:
                continue
            route = self._route(ref)
            if ref.kind is RouteKind.RULE:
                path = {"Field": "path-pattern", "Values": ["/api*"]}
                route = replace(route, priority="10", conditions=(path,))
            found.append(route)
        return found

    def route(self, ref: RouteRef) -> Route:
        self.w.call("DescribeListeners")
        return self._route(ref)

    def routes(self, refs: Sequence[RouteRef]) -> list[Route]:
        self.w.call("DescribeListeners")
        return [self._route(ref) for ref in refs]

    def _route(self, ref: RouteRef) -> Route:
        if _key(ref) not in self.w.routes:
            raise MissingResourceError(f"{ref} not found")
        weights = self.w.routes[_key(ref)]
        actions = (
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [{"TargetGroupArn": a, "Weight": v} for a, v in weights.items()]
                },
            },
        )
        lb = self.w.elsewhere.get(_key(ref), "arn:lb")
        return Route(ref, actions, dict(weights), lb, "HTTP", self.w.listener_port)

    def set_weights(
        self, ref: RouteRef, weights: Mapping[str, int], current: Route | None = None
    ) -> Route:
        self.w.call("ModifyListener")
        for arn, weight in weights.items():
            healthy = sum(
                1
                for t in self.w.targets.get(arn, {}).values()
                if t.state is HealthState.HEALTHY and self.w.owns(t.target_id)
            )
            if weight > 0 and healthy == 0:
                self.w.violations.append(f"{ref}: weight {weight} to {arn} with no healthy target")
        self.w.routes[_key(ref)] = dict(weights)
        self.w.writes.append((self.w.clock.now(), _key(ref), dict(weights)))
        return self.route(ref)


def _key(ref: RouteRef) -> RouteRef:
    """Routes are known by kind and ARN; how one is shifted (swap) is the caller's."""
    return RouteRef(ref.kind, ref.arn)


class FakeEcs:
    def __init__(self, world: World) -> None:
        self.w = world

    def service(self, cluster: str, name: str) -> Service:
        self.w.call("DescribeServices")
        if name != "web":
            raise MissingResourceError(f"service {name} not found in cluster {cluster}")
        task_sets = tuple(self.task_sets(cluster, name))
        return Service(
            "arn:svc/web",
            "web",
            "arn:cluster",
            "ACTIVE",
            self.w.controller,
            self.w.desired,
            self.w.desired,
            None,
            None,
            (),
            None,
            None,
            (LoadBalancerBinding(BLUE, "web", 8080),),
            task_sets,
        )

    def task_definition(self, arn_or_family: str) -> TaskDefinition:
        registration = self.w.task_definitions.get(arn_or_family)
        if registration is None:
            raise MissingResourceError(f"task definition {arn_or_family} not found")
        containers = registration["containerDefinitions"]
        secrets = frozenset(e["value"] for c in containers for e in c.get("environment", []))
        return TaskDefinition(
            arn_or_family,
            "web",
            int(arn_or_family.rsplit(":", 1)[-1]),
            tuple(ContainerImage(c["name"], c["image"]) for c in containers),
            {c["name"]: (8080,) for c in containers},
            secrets,
            registration,
        )

    def register_task_definition(self, registration: Mapping[str, Any]) -> TaskDefinition:
        self.w.call("RegisterTaskDefinition")
        arn = f"arn:td/web:{len(self.w.task_definitions) + 1}"
        self.w.task_definitions[arn] = dict(registration)
        return self.task_definition(arn)

    def create_task_set(self, **kwargs: Any) -> TaskSet:
        self.w.call("CreateTaskSet")
        ts_id = f"ecs-svc/{next(self.w.ids)}"
        self.w.task_sets[ts_id] = FakeTaskSet(
            ts_id,
            kwargs["task_definition"],
            kwargs["target_group_arn"],
            kwargs["external_id"],
            self.w.clock.now(),
        )
        return self.w.task_sets[ts_id].value(self.w.desired)

    def task_sets(self, cluster: str, service: str) -> list[TaskSet]:
        self.w.call("DescribeTaskSets")
        return [ts.value(self.w.desired) for ts in self.w.task_sets.values()]

    def tasks(
        self,
        cluster: str,
        *,
        started_by: str | None = None,
        service: str | None = None,
        stopped: bool = False,
    ) -> list[EcsTask]:
        """A task set's tasks run at the addresses its targets are registered at."""
        self.w.call("ListTasks")
        sets = [ts for ts in self.w.task_sets.values() if started_by in (None, ts.id)]
        found = [
            EcsTask(f"arn:task/{tid}", "RUNNING", ts.task_definition, ts.id, "service:web", tid)
            for ts in sets
            for tid in ts.task_ids(ts.running)
        ]
        if stopped:
            self.w.stopped_reads.append(self.w.clock.now())
            found = [task for ts in sets for task in ts.stopped]
        if found:
            self.w.call("DescribeTasks")
        return found

    def set_primary_task_set(self, cluster: str, service: str, task_set_id: str) -> None:
        self.w.call("UpdateServicePrimaryTaskSet")
        for ts in self.w.task_sets.values():
            ts.status = TaskSetStatus.PRIMARY if ts.id == task_set_id else TaskSetStatus.ACTIVE

    def delete_task_set(self, cluster: str, service: str, task_set_id: str) -> None:
        self.w.call("DeleteTaskSet")
        ts = self.w.task_sets.pop(task_set_id, None)
        if ts:
            self.w.targets[ts.target_group] = {
                k: v
                for k, v in self.w.targets.get(ts.target_group, {}).items()
                if not k.startswith(ts.id)
            }


class FakeAlarms:
    def __init__(self, world: World) -> None:
        self.w = world

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        self.w.call("DescribeAlarms")
        return {n: self.w.alarms.get(n, AlarmState.MISSING) for n in names}


class FakeMetrics:
    """GetMetricData over `world.traffic`: AWS/ApplicationELB per target group only."""

    def __init__(self, world: World) -> None:
        self.w = world

    def metric_data(
        self, queries: Sequence[MetricQuery], start: float, end: float
    ) -> dict[str, MetricSeries]:
        self.w.call("GetMetricData")
        self.w.metric_reads.append((self.w.clock.now(), len(queries)))
        answer = {}
        for query in queries:
            if not query.returned:
                continue
            points = []
            minute = start
            while minute < end and minute + 60 <= self.w.clock.now():
                value = self._value(query, minute)
                if value is not None:
                    points.append((minute, value))
                minute += 60
            answer[query.id] = MetricSeries(query.id, tuple(points))
        return answer

    def _value(self, query: MetricQuery, minute: float) -> float | None:
        if query.stat is None:
            return None
        dimensions = dict(query.stat.dimensions)
        group = f"arn:{dimensions.get('TargetGroup', '')}"
        weights = self._weights_at(minute + 30)
        total = sum(weights.values())
        per_minute = self.w.traffic.per_minute
        offered = per_minute(minute) if callable(per_minute) else per_minute
        requests = round(offered * weights.get(group, 0) / total) if total else 0
        if requests == 0:
            return None
        if query.stat.metric == "RequestCount":
            return float(requests)
        if query.stat.metric == "HTTPCode_Target_5XX_Count":
            rate = self.w.traffic.error_rate.get(group, 0.0)
            errors = round(requests * (rate(minute) if callable(rate) else rate))
            return float(errors) if errors else None
        if query.stat.metric == "TargetResponseTime":
            return self.w.traffic.latency_at(group, minute)
        return None

    def _weights_at(self, when: float) -> dict[str, int]:
        weights = {BLUE: 100, GREEN: 0}
        for at, ref, written in self.w.writes:
            if ref == HTTP and at <= when:
                weights = written
        return weights


class FakeFunctions:
    def invoke(self, function: str, payload: bytes, timeout_seconds: float) -> tuple[bool, str]:
        return (not function.endswith("fail"), payload.decode())


class FakeNetwork:
    """Security groups by id (the tasks' `sg-tasks` admits the load balancer's `sg-lb` on
    8080) and one VPC range; a test may replace `groups`."""

    def __init__(self) -> None:
        self.groups: dict[str, SecurityGroup] = {
            "sg-lb": SecurityGroup("sg-lb", "lb", "vpc-1"),
            "sg-tasks": SecurityGroup(
                "sg-tasks", "tasks", "vpc-1", (IngressRule("tcp", 8080, 8080, ("sg-lb",)),)
            ),
        }
        self.cidrs: dict[str, tuple[str, ...]] = {"vpc-1": ("10.0.0.0/16",)}

    def security_groups(self, ids: Sequence[str]) -> list[SecurityGroup]:
        missing = [i for i in ids if i not in self.groups]
        if missing:
            raise MissingResourceError(f"security group {', '.join(missing)} not found")
        return [self.groups[i] for i in ids]

    def vpc_cidr_blocks(self, vpc_id: str) -> tuple[str, ...]:
        if vpc_id not in self.cidrs:
            raise MissingResourceError(f"VPC {vpc_id} not found")
        return self.cidrs[vpc_id]


class FakeAutoScaling:
    """Application Auto Scaling: scalable targets by service name (none unless a test adds
    one); `fail` makes every call raise that AwsError's message."""

    def __init__(self) -> None:
        self.targets: dict[str, ScalableTarget] = {}
        self.writes: list[tuple[str, SuspendedState]] = []
        self.fail: str | None = None  # the message of an AccessDeniedException

    def scalable_target(self, cluster: str, service: str) -> ScalableTarget | None:
        self._maybe_fail()
        return self.targets.get(service)

    def suspend(self, cluster: str, service: str, state: SuspendedState) -> None:
        self._maybe_fail()
        self.targets[service] = replace(self.targets[service], suspended=state)
        self.writes.append((service, state))

    def _maybe_fail(self) -> None:
        if self.fail:
            raise AwsError("RegisterScalableTarget", "AccessDeniedException", self.fail)


class FakeCloud:
    def __init__(self, world: World) -> None:
        self.world = world
        self.elb = FakeElb(world)
        self.ecs = FakeEcs(world)
        self.alarms = FakeAlarms(world)
        self.metrics = FakeMetrics(world)
        self.functions = FakeFunctions()
        self.network = FakeNetwork()
        self.autoscaling = FakeAutoScaling()


def build_world(clock: VirtualClock, **kwargs: Any) -> World:
    """Blue serving v1 on two listeners, green idle; ECS and health move with the clock."""
    world = World(clock, **kwargs)
    world.task_definitions["arn:td/web:1"] = {
        "family": "web",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "repo/web:v1",
                "memory": 256,
                "environment": [{"name": "DB_PASSWORD", "value": "hunter2-secret"}],
            }
        ],
    }
    blue = FakeTaskSet(
        "ecs-svc/blue",
        "arn:td/web:1",
        BLUE,
        None,
        clock.now() - 3600,
        TaskSetStatus.PRIMARY,
        world.desired,
    )
    world.task_sets[blue.id] = blue
    world.targets[BLUE] = {
        f"{blue.id}-{n}": TargetHealth(f"{blue.id}-{n}", 8080, HealthState.HEALTHY)
        for n in range(world.desired)
    }
    world.routes = {
        HTTP: {BLUE: 100, GREEN: 0},
        HTTPS: {BLUE: 100, GREEN: 0},
        TEST: {BLUE: 100, GREEN: 0},
    }
    clock.on_advance(world.tick)
    return world


def replace_health(world: World, group: str, state: HealthState, reason: str | None) -> None:
    world.targets[group] = {
        k: replace(v, state=state, reason=reason) for k, v in world.targets.get(group, {}).items()
    }
