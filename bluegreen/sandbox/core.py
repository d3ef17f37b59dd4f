"""The simulated AWS: moto, plus the behaviour moto lacks, moving on a virtual clock.

moto answers the APIs but nothing happens over time (AWS-NOTES.md). A Sandbox owns a
VirtualClock; every time the clock advances (the engine sleeping on it), each simulator
registered with `on_tick` runs in order and moves the world the way AWS would: ECS starts
tasks and registers them as targets, target health follows the health-check settings and
the application model of the image, CloudWatch gets metrics and evaluates alarms.

Simulators work on moto's backends directly (no API calls), so they cost nothing in the
call counts and never see injected faults. State lives in moto's global backends: one
active Sandbox per process.

Rules for simulators: behave as AWS documents (cite it in a comment where it is not
obvious); be deterministic for a given seed; do nothing when nothing is due.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from bluegreen.clock import VirtualClock


@dataclass(frozen=True)
class AppModel:
    """What health checks and traffic see of the tasks running one image.

    serves: path prefixes that answer 200; anything else answers 404 (so a health check on
        "/" of an app that serves only "/api" fails with Target.ResponseCodeMismatch).
        None serves every path.
    hangs: health checks time out (Target.Timeout) — e.g. wrong port or security group.
    crashes_after: seconds after a task starts that it crashes (its target turns unhealthy).
    error_rate: fraction of requests answered 5xx (HTTPCode_Target_5XX_Count).
    latency: seconds per request (TargetResponseTime).
    """

    serves: tuple[str, ...] | None = None
    hangs: bool = False
    crashes_after: float | None = None
    error_rate: float = 0.0
    latency: float = 0.05

    def answers(self, path: str) -> int:
        if self.serves is None or any(path.startswith(prefix) for prefix in self.serves):
            return 200
        return 404


HEALTHY = AppModel()

Tick = Callable[[float], None]


@dataclass
class Sandbox:
    clock: VirtualClock = field(default_factory=VirtualClock)
    region: str = "us-east-1"
    account_id: str = DEFAULT_ACCOUNT_ID
    apps: dict[str, AppModel] = field(default_factory=dict)  # image → model; default HEALTHY
    task_start_delay: float = 15.0  # CreateTaskSet → tasks RUNNING and registered
    request_rate: float = 50.0  # requests per second arriving at each production listener
    seed: int = 0
    _ticks: list[Tick] = field(default_factory=list)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.clock.on_advance(self._tick)

    def app(self, image: str) -> AppModel:
        return self.apps.get(image, HEALTHY)

    def on_tick(self, simulator: Tick) -> None:
        self._ticks.append(simulator)

    def _tick(self, now: float) -> None:
        for simulator in self._ticks:
            simulator(now)

    # -- moto's backends, for the simulators -----------------------------------------

    def elbv2(self) -> Any:
        from moto.elbv2.models import elbv2_backends

        return elbv2_backends[self.account_id][self.region]

    def ecs(self) -> Any:
        from moto.ecs.models import ecs_backends

        return ecs_backends[self.account_id][self.region]

    def cloudwatch(self) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        return cloudwatch_backends[self.account_id][self.region]

    def ec2(self) -> Any:
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.account_id][self.region]


@contextmanager
def in_process(sandbox: Sandbox) -> Iterator[Sandbox]:
    """moto in this process, with the sandbox's simulators installed."""
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield sandbox
