"""End to end on the simulated AWS: bluegreen's Deployer, unchanged, deploys onto a stack
built by `build_stack`; ECS starts green's tasks, ELB health-checks them, and the outcome
follows from the app each image runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sim_helpers import ecs, elb, health

from bluegreen import Deployer
from bluegreen.config import parse_config
from bluegreen.errors import HealthCheckFailed
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack

IMAGE = "public.ecr.aws/bluegreen/demo-web"


def deployer(sandbox: Sandbox, stack: SandboxStack, folder: Path, **overrides: Any) -> Deployer:
    config = parse_config(stack.config(**overrides), source=folder / "bluegreen.toml")
    return Deployer(config, clock=sandbox.clock)


def weights(stack: SandboxStack) -> list[tuple[int, int]]:
    """(blue, green) weights of both listeners."""
    found = []
    for arn in (stack.http_listener_arn, stack.https_listener_arn):
        listener = elb().describe_listeners(ListenerArns=[arn])["Listeners"][0]
        split = {
            g["TargetGroupArn"]: g["Weight"]
            for g in listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
        }
        found.append((split[stack.blue_tg_arn], split[stack.green_tg_arn]))
    return found


def task_sets(stack: SandboxStack) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ecs().describe_task_sets(
        cluster=stack.cluster, service=stack.service
    )["taskSets"]
    return found


def test_a_healthy_release_goes_through_the_canary_to_green(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    result = deployer(sandbox, stack, tmp_path).deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert result.outcome == "succeeded"
    assert weights(stack) == [(0, 100), (0, 100)]
    (green,) = task_sets(stack)
    assert green["loadBalancers"][0]["targetGroupArn"] == stack.green_tg_arn
    assert (green["status"], green["runningCount"], green["stabilityStatus"]) == (
        "PRIMARY",
        2,
        "STEADY_STATE",
    )
    assert {h["State"] for h in health(stack.green_tg_arn).values()} == {"healthy"}
    assert {h["State"] for h in health(stack.blue_tg_arn).values()} <= {"draining"}
    service = ecs().describe_services(cluster=stack.cluster, services=[stack.service])
    assert service["services"][0]["runningCount"] == 2
    assert list(tmp_path.iterdir()), "the deployment record is kept next to the configuration"


def test_a_release_failing_its_health_check_rolls_back_and_says_why(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    sandbox.apps[f"{IMAGE}:3.0.0"] = AppModel(serves=("/api",))

    with pytest.raises(HealthCheckFailed) as failure:
        deployer(sandbox, stack, tmp_path).deploy(images={"web": f"{IMAGE}:3.0.0"})

    message = str(failure.value)
    assert "Target.ResponseCodeMismatch" in message and "/health" in message
    assert weights(stack) == [(100, 0), (100, 0)]
    assert [ts["id"] for ts in task_sets(stack)] == [stack.blue_task_set_id]
    assert {h["State"] for h in health(stack.blue_tg_arn).values()} == {"healthy"}
    assert {h["State"] for h in health(stack.green_tg_arn).values()} <= {"draining"}


def test_promote_full_while_the_canary_bakes_puts_every_listener_on_green(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    """The process running the deployment died mid-bake (an hour's canary); `promote
    --full` takes it over and goes straight to 100% on both listeners, no more bakes."""
    from bluegreen.machine import State

    class Killed(BaseException):
        pass

    overrides: dict[str, Any] = {
        "strategy": {"type": "canary", "percent": 10, "bake": "1h"},
        "gates": {"bake_after_shift": "1h", "termination_wait": "0s"},
    }
    run = deployer(sandbox, stack, tmp_path, **overrides)

    def kill_mid_bake(now: float) -> None:
        rec = run.store.latest(run.config.service_key)
        baking = rec is not None and rec.state is State.SHIFTING and rec.green_percent == 10
        if baking and rec is not None and now - rec.updated_at > 300:
            raise Killed

    sandbox.clock.on_advance(kill_mid_bake)
    with pytest.raises(Killed):
        run.deploy(images={"web": f"{IMAGE}:2.0.0"})
    sandbox.clock._listeners.remove(kill_mid_bake)
    assert weights(stack) == [(90, 10), (90, 10)]
    killed_at = sandbox.clock.now()

    result = deployer(sandbox, stack, tmp_path, **overrides).promote(full=True)

    assert result.outcome == "succeeded"
    assert weights(stack) == [(0, 100), (0, 100)]
    (green,) = task_sets(stack)
    assert green["loadBalancers"][0]["targetGroupArn"] == stack.green_tg_arn
    rec = result.record
    assert rec.promoted_full and rec.promotions[0].full
    assert sandbox.clock.now() - killed_at < 3600  # neither the canary's nor the last bake ran
