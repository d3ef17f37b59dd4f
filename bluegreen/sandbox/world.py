"""The world the sandbox's simulators share: a `Sandbox` — its VirtualClock, the application
model of each image, the targets and tasks the simulators keep beside moto's backends, the
simulators registered with `on_tick` to run, in order, each time the clock advances — and
what it records (AppModel, Target, Task). How the simulators move it: core.py.

Simulators work on moto's backends directly (no API calls), so they cost nothing in the
call counts and never see injected faults. State lives in moto's global backends: one
active Sandbox per process.

Rules: this module imports no simulator and not their installer (core.py). The simulators
import it for the world they move and core imports them to install them, so no simulator
imports the module that installs it. The exceptions are types: `Sandbox.faults` hands
out a Faults, `Sandbox.api_limits` an ApiLimits and `Sandbox.autoscaling` an
AutoScalingSimulator; none of faults.py, api_limits.py or autoscaling.py imports the world.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from moto.core.models import DEFAULT_ACCOUNT_ID

from bluegreen.clock import VirtualClock

if TYPE_CHECKING:
    from bluegreen.sandbox.api_limits import ApiLimits
    from bluegreen.sandbox.autoscaling import AutoScalingSimulator
    from bluegreen.sandbox.faults import Faults

# How many standard deviations of a normal distribution lie below its 99th percentile.
P99_Z = NormalDist().inv_cdf(0.99)


@dataclass(frozen=True)
class AppModel:
    """What health checks and traffic see of the tasks running one image.

    serves: path prefixes that answer 200; anything else answers 404 (so a health check on
        "/" of an app that serves only "/api" fails with Target.ResponseCodeMismatch).
        None serves every path.
    hangs: health checks time out (Target.Timeout) — e.g. wrong port or security group.
    crashes_after: seconds after a task starts that it crashes (its target turns unhealthy).
    exits_after: seconds after a task runs that its essential container exits with
        `exit_code`: ECS stops the task ("Essential container in task exited") and starts a
        replacement, which exits in turn.
    error_rate: fraction of requests answered 5xx (HTTPCode_Target_5XX_Count).
    latency: the median seconds a request takes (TargetResponseTime).
    latency_p99: the 99th percentile of those seconds. None: every request takes `latency`
        exactly. Otherwise request times are lognormal around the median `latency`, with
        the spread (`latency_sigma`, the sigma of their logarithm) that puts 99 % of them
        under `latency_p99`: a median of 0.05 and a p99 of 0.4 put the p90 near 0.16.
    """

    serves: tuple[str, ...] | None = None
    hangs: bool = False
    crashes_after: float | None = None
    exits_after: float | None = None
    exit_code: int = 1
    error_rate: float = 0.0
    latency: float = 0.05
    latency_p99: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate is a fraction between 0 and 1, not {self.error_rate}")
        if self.latency < 0:
            raise ValueError(f"latency is the median seconds a request takes, not {self.latency}")
        if self.latency_p99 is not None and not 0 < self.latency <= self.latency_p99:
            raise ValueError(
                f"latency_p99 ({self.latency_p99}) spreads request times around a median "
                f"latency above 0 and at most the p99, not {self.latency}"
            )

    @property
    def latency_sigma(self) -> float:
        """The sigma of the logarithm of request times: 0 when they do not vary."""
        if self.latency_p99 is None:
            return 0.0
        return math.log(self.latency_p99 / self.latency) / P99_Z

    def latency_quantile(self, fraction: float) -> float:
        """The request time under which `fraction` (strictly between 0 and 1) of requests
        finish: `latency` for 0.5."""
        if self.latency_sigma == 0.0:
            return self.latency
        return self.latency * math.exp(self.latency_sigma * NormalDist().inv_cdf(fraction))

    def answers(self, path: str) -> int:
        if self.serves is None or any(path.startswith(prefix) for prefix in self.serves):
            return 200
        return 404


HEALTHY = AppModel()

Tick = Callable[[float], None]


class Ticking(Protocol):
    def tick(self, now: float) -> None: ...


S = TypeVar("S", bound=Ticking)


@dataclass
class Target:
    """A target registered in a target group, as the simulators know it. moto keeps only
    {Id, Port}; health needs when it was registered and what runs behind it."""

    group_arn: str
    id: str
    port: int
    registered_at: float
    image: str | None = None  # None: registered by hand (RegisterTargets), a healthy app
    task_id: str | None = None
    deregistered_at: float | None = None  # draining from then…
    drained_at: float | None = None  # …and gone from DescribeTargetHealth from then


@dataclass
class Task:
    """A simulated ECS task. `owner` is the task set ARN, or "<service ARN>#<deployment id>"
    for a service using the ECS (rolling update) controller."""

    id: str
    owner: str
    image: str
    subnet_id: str
    ip: str
    bindings: tuple[tuple[str, int], ...]  # (target group ARN, container port)
    started_at: float  # PENDING from here
    running_at: float  # RUNNING (and registered) from here
    status: str = "PENDING"  # PENDING | RUNNING | STOPPED
    stopped_at: float | None = None
    stopped_reason: str | None = None
    stop_code: str | None = None  # as DescribeTasks reports it: EssentialContainerExited…
    exit_code: int | None = None  # its container's, once it exited
    task_definition: str = ""  # its ARN, as DescribeTasks reports it


@dataclass
class Sandbox:
    clock: VirtualClock = field(default_factory=VirtualClock)
    region: str = "us-east-1"
    account_id: str = DEFAULT_ACCOUNT_ID
    apps: dict[str, AppModel] = field(default_factory=dict)  # image → model; default HEALTHY
    task_start_delay: float = 15.0  # a task asked for → RUNNING and registered as a target
    request_rate: float = 50.0  # requests per second arriving at each production listener
    seed: int = 0
    # AWS's API request limits (api_limits.py): 1.0 AWS's own, 0.1 a tenth of each bucket
    # (a test of throttling), 0 none (calls are still counted).
    api_limit_scale: float = 1.0
    # The simulators run at every advance of the clock (0), or once the clock has moved
    # this many seconds since they last ran: a release of fifty services makes thousands
    # of sub-second waits for its API share (aws/pacer.py), and running the whole world at
    # each made its benchmark take half an hour. The world then lags by at most this much.
    tick_every: float = 0.0
    # The simulators' state: targets by (target group ARN, target id), tasks by id, and
    # each installed simulator by name.
    targets: dict[tuple[str, str], Target] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    simulators: dict[str, Any] = field(default_factory=dict)
    _ticks: list[Tick] = field(default_factory=list)
    _ticked_at: float = field(default=float("-inf"), init=False)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.clock.on_advance(self._tick)

    def app(self, image: str) -> AppModel:
        return self.apps.get(image, HEALTHY)

    @property
    def faults(self) -> Faults:
        """Fault injection for this sandbox's calls (installed by `in_process`)."""
        found: Faults = self.simulators["faults"]
        return found

    @property
    def api_limits(self) -> ApiLimits:
        """AWS's request limits on this sandbox's calls, and their count (installed by
        `in_process`, or a SandboxServer's start)."""
        found: ApiLimits = self.simulators["api_limits"]
        return found

    @property
    def autoscaling(self) -> AutoScalingSimulator:
        """Application Auto Scaling: what the services' scaling wants, when (`demand`)."""
        found: AutoScalingSimulator = self.simulators["autoscaling"]
        return found

    def ticking(self, name: str, make: Callable[[], S]) -> S:
        """The simulator called `name`, made and set ticking on this sandbox's clock the
        first time: installing it again never makes a second one, nor ticks it twice."""
        if name not in self.simulators:
            made = self.simulators[name] = make()
            self.on_tick(made.tick)
        found: S = self.simulators[name]
        return found

    def on_tick(self, simulator: Tick) -> Tick:
        self._ticks.append(simulator)
        return simulator

    def remove_tick(self, simulator: Tick) -> None:
        self._ticks.remove(simulator)

    def _tick(self, now: float) -> None:
        if now - self._ticked_at < self.tick_every:
            return
        self._ticked_at = now
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
