"""End to end through the CLI on moto, with the test playing ECS's part: as virtual time
passes, each task set's tasks are registered into its target group as IP targets, and
deleted task sets' targets are deregistered. Target health comes from moto, wrapped so a
test can mark a target group's targets `initial` for a while or `unhealthy` with a reason.

(The simulated AWS of issue 3 takes this over.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup
from stack import Stack
from typer.testing import CliRunner

from bluegreen import cli
from bluegreen.clock import VirtualClock
from bluegreen.deployer import Deployer

START_DELAY = 20.0  # ECS: task set created → tasks running and registered
HEALTHY_AFTER = 20.0  # ELB: registered → healthy (2 × 10 s in the stack's target groups)


@dataclass
class EcsPlayer:
    stack: Stack
    clock: VirtualClock
    desired: int = 2
    unhealthy: dict[str, tuple[str, str]] = field(default_factory=dict)  # tg arn → reason
    seen: dict[str, float] = field(default_factory=dict)
    registered: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    registered_at: dict[str, float] = field(default_factory=dict)
    addresses: Any = field(default_factory=lambda: itertools.count(10))

    def __post_init__(self) -> None:
        self.ecs = boto3.client("ecs", region_name=self.stack.region)
        self.elb = boto3.client("elbv2", region_name=self.stack.region)
        self.clock.on_advance(self.tick)

    def tick(self, now: float) -> None:
        task_sets = self.ecs.describe_task_sets(
            cluster=self.stack.cluster, service=self.stack.service
        )["taskSets"]
        alive = {ts["id"] for ts in task_sets}
        for ts in task_sets:
            self.seen.setdefault(ts["id"], now)
            if ts["id"] not in self.registered and now - self.seen[ts["id"]] >= START_DELAY:
                self._register(ts, now)
        for task_set_id in set(self.registered) - alive:
            group, ips = self.registered.pop(task_set_id)
            self.elb.deregister_targets(TargetGroupArn=group, Targets=[{"Id": ip} for ip in ips])

    def _register(self, ts: dict[str, Any], now: float) -> None:
        group = ts["loadBalancers"][0]["targetGroupArn"]
        ips = [f"10.0.1.{next(self.addresses)}" for _ in range(self.desired)]
        self.elb.register_targets(
            TargetGroupArn=group, Targets=[{"Id": ip, "Port": 8080} for ip in ips]
        )
        self.registered[ts["id"]] = (group, ips)
        for ip in ips:
            self.registered_at[ip] = now

    def health(
        self, group: FakeTargetGroup, target: dict[str, Any], status: FakeHealthStatus
    ) -> FakeHealthStatus:
        if status.status != "healthy":
            return status
        since = self.registered_at.get(target["Id"])
        if since is not None and self.clock.now() - since < HEALTHY_AFTER:
            return FakeHealthStatus(
                status.instance_id,
                status.port,
                status.health_check_port,
                "initial",
                "Elb.InitialHealthChecking",
                "Initial health checks in progress",
            )
        if group.arn in self.unhealthy:
            reason, description = self.unhealthy[group.arn]
            return FakeHealthStatus(
                status.instance_id,
                status.port,
                status.health_check_port,
                "unhealthy",
                reason,
                description,
            )
        return status


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def ecs_player(stack: Stack, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> EcsPlayer:
    player = EcsPlayer(stack, clock)
    # The blue task set is already serving: register its tasks as healthy long ago.
    for ts in player.ecs.describe_task_sets(cluster=stack.cluster, service=stack.service)[
        "taskSets"
    ]:
        player.seen[ts["id"]] = clock.now() - 3600
        player._register(ts, clock.now() - 3600)
    original = FakeTargetGroup.health_for

    def health_for(
        self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any
    ) -> FakeHealthStatus:
        return player.health(self, target, original(self, target, ec2_backend))

    monkeypatch.setattr(FakeTargetGroup, "health_for", health_for)
    return player


CONFIG = """
[service]
cluster = "prod"
name = "web"

[target_groups]
blue = "web-blue"
green = "web-green"

[[listeners]]
arn = "{http}"
[[listeners]]
arn = "{https}"

[strategy]
type = "steps"
steps = [{{weight = 10, bake = "1m"}}, {{weight = 50, bake = "1m"}}, {{weight = 100}}]

[health]
timeout = "5m"
poll_interval = "5s"

[gates]
bake_after_shift = "2m"
termination_wait = "1m"
"""


@dataclass
class Cli:
    config: Path
    clock: VirtualClock
    player: EcsPlayer
    deployers: list[Deployer] = field(default_factory=list)

    def __call__(self, *args: str) -> Any:
        yes = ["--yes"] if args[0] == "deploy" else []
        self.player.tick(self.clock.now())  # ECS acts between two commands too
        return CliRunner().invoke(cli.app, [*args, "--config", str(self.config), *yes])


@pytest.fixture
def run_cli(
    stack: Stack,
    ecs_player: EcsPlayer,
    clock: VirtualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Cli]:
    config = tmp_path / "bluegreen.toml"
    config.write_text(CONFIG.format(http=stack.http_listener_arn, https=stack.https_listener_arn))
    harness = Cli(config, clock, ecs_player)

    def factory(path: Path, overrides: Any = None, **aws: Any) -> Deployer:
        deployer = Deployer.from_config(path, overrides=overrides, clock=clock, **aws)
        harness.deployers.append(deployer)
        return deployer

    monkeypatch.setattr(cli, "deployer_factory", factory)
    yield harness


def weights(stack: Stack, listener: str) -> dict[str, int]:
    elb = boto3.client("elbv2", region_name=stack.region)
    action = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]
    names = {stack.blue_tg_arn: "blue", stack.green_tg_arn: "green"}
    return {
        names[t["TargetGroupArn"]]: t["Weight"] for t in action["ForwardConfig"]["TargetGroups"]
    }


def task_sets(stack: Stack) -> list[dict[str, Any]]:
    ecs = boto3.client("ecs", region_name=stack.region)
    return ecs.describe_task_sets(cluster=stack.cluster, service=stack.service)["taskSets"]


Call = Callable[..., Any]
