"""`bluegreen demo`: three deployments rehearsed on the simulated AWS, no account needed.

1. v2 through a canary — succeeds: both listeners end on green, blue's task set retired.
2. v3 whose app serves only under /api, so the health check on /health answers 404 —
   green never turns healthy and the deployment rolls back by itself, one unhealthy
   window after the load balancer says so.
3. v4, healthy, but answering 3 % of requests with 500 where blue answers 0.1 % — the
   metric analysis compares the two colours over the canary's first minute and rolls back.

Every release is judged by the same `[analysis]`: green's error rate against blue's.

The view is not here: `on_frame` receives a Frame (plain data) whenever something
happened, and the CLI draws it. `speed` paces virtual time against real time for a
watchable run (60 = one virtual minute per real second); 0 runs as fast as it can.
"""

from __future__ import annotations

import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluegreen.config import parse_config
from bluegreen.deployer import Deployer, DeploymentResult
from bluegreen.errors import DeploymentFailed
from bluegreen.record import Event
from bluegreen.sandbox.core import in_process
from bluegreen.sandbox.stack import SandboxStack, build_stack
from bluegreen.sandbox.world import AppModel, Sandbox

IMAGE = "public.ecr.aws/bluegreen/demo-web"


@dataclass(frozen=True)
class Scenario:
    title: str
    image: str
    app: AppModel
    expect: str  # the outcome the demo shows


BASELINE = AppModel(error_rate=0.001)  # every app errs a little: blue's 0.1 % is the bar
SCENARIOS = (
    Scenario("v2 through a 10% canary", f"{IMAGE}:2.0.0", BASELINE, "succeeded"),
    Scenario(
        "v3 serving only /api: the health check on /health gets 404",
        f"{IMAGE}:3.0.0",
        AppModel(serves=("/api",)),
        "rolled_back",
    ),
    Scenario(
        "v4 answering 3% of requests with 500",
        f"{IMAGE}:4.0.0",
        AppModel(error_rate=0.03),
        "rolled_back",
    ),
)
# What the demo's configuration adds to the stack's: one check, green's error rate
# against blue's over the same minutes.
ANALYSIS = {"metrics": [{"name": "error_rate", "max_increase": "50%"}]}


@dataclass
class Frame:
    """What the live view shows."""

    scenario: str
    state: str = "PENDING"
    step: str = ""
    weights: dict[str, dict[str, int]] = field(default_factory=dict)  # listener → colour → w
    health: dict[str, dict[str, int]] = field(default_factory=dict)  # colour → state → count
    events: deque[str] = field(default_factory=lambda: deque(maxlen=8))
    virtual_seconds: float = 0.0


@dataclass(frozen=True)
class RunReport:
    scenario: str
    outcome: str
    expected: str
    deployment_id: str
    reason: str | None
    virtual_seconds: float
    real_seconds: float
    final_weights: dict[str, dict[str, int]]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_demo(
    on_frame: Callable[[Frame], None] | None = None, speed: float = 0.0
) -> list[RunReport]:
    sandbox = Sandbox()
    reports: list[RunReport] = []
    with in_process(sandbox), tempfile.TemporaryDirectory(prefix="bluegreen-demo-") as tmp:
        stack = build_stack(sandbox, image=f"{IMAGE}:1.0.0")
        sandbox.apps[f"{IMAGE}:1.0.0"] = BASELINE
        _pace(sandbox, speed)
        for scenario in SCENARIOS:
            sandbox.apps[scenario.image] = scenario.app
            reports.append(_run(sandbox, stack, scenario, Path(tmp), on_frame))
    return reports


def _run(
    sandbox: Sandbox,
    stack: SandboxStack,
    scenario: Scenario,
    folder: Path,
    on_frame: Callable[[Frame], None] | None,
) -> RunReport:
    config = parse_config(stack.config(analysis=ANALYSIS), source=folder / "bluegreen.toml")
    deployer = Deployer(config, clock=sandbox.clock)
    frame = Frame(scenario.title)
    colours = _colours(sandbox, stack)
    started_virtual, started_real = sandbox.clock.now(), time.monotonic()

    def show(event: Event | None = None) -> None:
        if on_frame is None:
            return
        if event is not None:
            frame.state = event.state.value
            frame.events.append(event.message)
        _observe(sandbox, stack, colours, frame)
        frame.virtual_seconds = sandbox.clock.now() - started_virtual
        on_frame(frame)

    ticker = sandbox.on_tick(lambda _now: show())
    try:
        result = deployer.deploy({"web": scenario.image}, on_event=show)
    except DeploymentFailed as failure:
        result = failure.result  # type: ignore[attr-defined]  # set by the Deployer
    finally:
        sandbox.remove_tick(ticker)
    return _report(
        scenario, result, sandbox.clock.now() - started_virtual, time.monotonic() - started_real
    )


def _report(scenario: Scenario, result: DeploymentResult, virtual: float, real: float) -> RunReport:
    return RunReport(
        scenario.title,
        result.outcome,
        scenario.expect,
        result.deployment_id,
        result.reason,
        virtual,
        real,
        result.final_weights,
    )


def _colours(sandbox: Sandbox, stack: SandboxStack) -> dict[str, str]:
    """Blue is whichever group holds the traffic now: colours alternate every deployment."""
    (listener,) = sandbox.elbv2().describe_listeners(None, [stack.http_listener_arn])
    weights = _weights(listener.default_actions, {stack.blue_tg_arn: "a", stack.green_tg_arn: "b"})
    live, idle = (
        (stack.green_tg_arn, stack.blue_tg_arn)
        if weights.get("b", 0) > weights.get("a", 0)
        else (stack.blue_tg_arn, stack.green_tg_arn)
    )
    return {live: "blue", idle: "green"}


def _observe(sandbox: Sandbox, stack: SandboxStack, colours: dict[str, str], frame: Frame) -> None:
    """Read the world straight from the simulated AWS: no API call, nothing counted."""
    elbv2 = sandbox.elbv2()
    listeners = (("HTTP :80", stack.http_listener_arn), ("HTTPS :443", stack.https_listener_arn))
    for name, arn in listeners:
        (listener,) = elbv2.describe_listeners(None, [arn])
        frame.weights[name] = _weights(listener.default_actions, colours)
    for arn, colour in colours.items():
        group = elbv2.target_groups[arn]
        counts: dict[str, int] = {}
        for target in group.targets.values():
            state = group.health_for(target, sandbox.ec2()).status
            counts[state] = counts.get(state, 0) + 1
        frame.health[colour] = counts


def _weights(actions: list[Any], colours: dict[str, str]) -> dict[str, int]:
    for action in actions:
        data = action.data  # moto's FakeAction keeps the action as AWS describes it
        groups = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            return {colours.get(g["TargetGroupArn"], "?"): int(g.get("Weight", 1)) for g in groups}
    return {}


def _pace(sandbox: Sandbox, speed: float) -> None:
    """Make virtual time pass no faster than `speed` × real time, for a watchable run."""
    if speed <= 0:
        return
    last = [sandbox.clock.now()]

    def sleep_real(now: float) -> None:
        time.sleep(max(now - last[0], 0.0) / speed)
        last[0] = now

    sandbox.on_tick(sleep_real)
