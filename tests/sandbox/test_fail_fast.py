"""A release that can never become healthy is rolled back as soon as ELB's verdict is
definitive, not when `health.timeout` runs out; a slow but good one is left to start.

The classic mistake: the app serves only /api, the target group checks /health, every
target answers 404 (Target.ResponseCodeMismatch) for ever. A watcher on the sandbox's clock
reads DescribeTargetHealth through boto3 after every advance, as a person would, and notes
when ELB first reported every green target so; from then the deployment must be rolled back
within the target group's unhealthy threshold × interval, plus two polls — and not before
that window has passed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sim_helpers import ecs, elb, health, production_weights

from bluegreen import Deployer
from bluegreen.config import parse_config
from bluegreen.errors import HealthCheckFailed
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

WRONG_PATH = "public.ecr.aws/bluegreen/demo-web:3.0.0"  # serves /api only: /health is a 404
GOOD = "public.ecr.aws/bluegreen/demo-web:2.0.0"
DEFINITIVE = {"Target.ResponseCodeMismatch", "Target.Timeout", "Target.FailedHealthChecks"}


@dataclass(frozen=True)
class Settings:
    """bluegreen's [health] (None: the section left out, its defaults) and green's check."""

    health: dict[str, str] | None
    interval: int
    unhealthy_threshold: int
    healthy_threshold: int
    mode: str = "task-sets"

    @property
    def poll(self) -> float:
        return float((self.health or {}).get("poll_interval", "5s").rstrip("s"))

    @property
    def window(self) -> float:
        return float(self.unhealthy_threshold * self.interval)


README = {"timeout": "15m", "poll_interval": "5s"}  # the README's example configuration
SETTINGS = {
    # bluegreen's defaults (timeout 15m, poll 5s) and ELB's (interval 30s, thresholds 5/2)
    "defaults": Settings(None, 30, 2, 5),
    # the README's [health] on the stack's check (interval 10s): 900s before this change
    "readme": Settings(README, 10, 2, 3),
    "readme, service pair": Settings(README, 10, 2, 3, mode="service-pair"),
    # another threshold and interval, polled every 10s: the window is the group's own
    "slower check": Settings({"timeout": "15m", "poll_interval": "10s"}, 15, 3, 5),
}


def deployer(sandbox: Sandbox, stack: SandboxStack, folder: Path, settings: Settings) -> Deployer:
    data = stack.config()
    if settings.health is None:
        del data["health"]
    else:
        data["health"] = settings.health
    return Deployer(parse_config(data, source=folder / "bluegreen.toml"), clock=sandbox.clock)


def set_check(stack: SandboxStack, settings: Settings) -> None:
    elb().modify_target_group(
        TargetGroupArn=stack.green_tg_arn,
        HealthCheckIntervalSeconds=settings.interval,
        UnhealthyThresholdCount=settings.unhealthy_threshold,
        HealthyThresholdCount=settings.healthy_threshold,
    )


def watch_green(sandbox: Sandbox, stack: SandboxStack) -> list[float]:
    """When ELB first reported every live green target unhealthy for a definitive reason
    (filled in as the clock moves; empty until then)."""
    seen: list[float] = []

    def look(now: float) -> None:
        live = [h for h in health(stack.green_tg_arn).values() if h["State"] != "draining"]
        failing = [h for h in live if h["State"] == "unhealthy" and h.get("Reason") in DEFINITIVE]
        if not seen and live and len(failing) == len(live):
            seen.append(now)

    sandbox.clock.on_advance(look)
    return seen


def green_runs(stack: SandboxStack) -> int:
    """Tasks asked of green: its task sets' (task-sets mode), its service's (service pair)."""
    if stack.mode == "service-pair":
        service = ecs().describe_services(cluster=stack.cluster, services=[stack.green_service])
        return int(service["services"][0]["desiredCount"])
    task_sets = ecs().describe_task_sets(cluster=stack.cluster, service=stack.service)
    return sum(
        int(ts["computedDesiredCount"])
        for ts in task_sets["taskSets"]
        if ts["loadBalancers"][0]["targetGroupArn"] == stack.green_tg_arn
    )


def record(deployer: Deployer) -> DeploymentRecord:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return rec


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
def test_a_wrong_health_check_path_is_rolled_back_one_window_after_elb_says_so(
    sandbox: Sandbox, tmp_path: Path, settings: Settings
) -> None:
    stack = build_stack(sandbox, mode=settings.mode)  # type: ignore[arg-type]
    set_check(stack, settings)
    sandbox.apps[WRONG_PATH] = AppModel(serves=("/api",))
    first_report = watch_green(sandbox, stack)
    bluegreen = deployer(sandbox, stack, tmp_path, settings)

    with pytest.raises(HealthCheckFailed):
        bluegreen.deploy({"web": WRONG_PATH})

    rec = record(bluegreen)
    assert rec.state is State.ROLLED_BACK and rec.failed_in is State.WAITING_HEALTHY
    assert rec.ended_at is not None and first_report
    took = rec.ended_at - first_report[0]
    assert settings.window <= took <= settings.window + 2 * settings.poll
    reason = rec.reason or ""
    assert reason.startswith("green will not become healthy")
    assert "Target.ResponseCodeMismatch" in reason and "path /health expecting 200" in reason
    assert f"unhealthy threshold {settings.unhealthy_threshold} × interval" in reason
    assert production_weights(stack) == {(100, 0)}
    assert green_runs(stack) == 0
    assert {h["State"] for h in health(stack.green_tg_arn).values()} <= {"draining"}


def test_a_slow_but_good_release_is_given_its_time(
    sandbox: Sandbox, sandbox_stack: SandboxStack, tmp_path: Path
) -> None:
    """Ten checks 30 s apart before a target is healthy: five minutes `initial`, five times
    the failure window (2 × 30 s). Nothing definitive: nothing fails early."""
    slow = Settings(README, 30, 2, 10)
    set_check(sandbox_stack, slow)
    bluegreen = deployer(sandbox, sandbox_stack, tmp_path, slow)

    result = bluegreen.deploy({"web": GOOD})

    assert result.outcome == "succeeded"
    assert production_weights(sandbox_stack) == {(0, 100)}
    waited = [e for e in record(bluegreen).events if e.state is State.WAITING_HEALTHY]
    assert waited[-1].message == "green is healthy"
    assert waited[-1].at - waited[0].at >= 10 * 30
    narrated = [e.message for e in waited if e.message.startswith("green 0/2")]
    assert narrated == [
        "green 0/2 healthy: no target registered yet",
        "green 0/2 healthy: 2 initial",
    ]
