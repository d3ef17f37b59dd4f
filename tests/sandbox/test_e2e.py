"""The engine end to end on the simulated AWS: every strategy, every way green can fail,
alarms, hooks, throttling. Each test asserts what AWS shows at the end: both listeners'
weights, the service's task sets, the record."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from sim_helpers import ecs
from sim_helpers import production_weights as weights

from bluegreen.errors import DeploymentStopped, GateFailed, HealthCheckFailed, HookFailed
from bluegreen.machine import State
from bluegreen.record import Event
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
STEPS = [{"weight": 10, "bake": "3m"}, {"weight": 50, "bake": "3m"}, {"weight": 100}]


def serving(stack: SandboxStack) -> list[tuple[str, str]]:
    """(target group, status) of every task set of the service."""
    task_sets = ecs().describe_task_sets(cluster=stack.cluster, service=stack.service)["taskSets"]
    return [(ts["loadBalancers"][0]["targetGroupArn"], ts["status"]) for ts in task_sets]


def assert_blue_serves(stack: SandboxStack) -> None:
    assert weights(stack) == {(100, 0)}
    assert serving(stack) == [(stack.blue_tg_arn, "PRIMARY")]


STRATEGIES = [
    {"type": "all-at-once"},
    {"type": "canary", "percent": 20, "bake": "2m"},
    {"type": "linear", "step_percent": 25, "interval": "1m"},
    {"type": "steps", "steps": STEPS},
]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=[s["type"] for s in STRATEGIES])
def test_every_strategy_ends_on_green(
    make: Any, stack: SandboxStack, strategy: dict[str, Any]
) -> None:
    result = make(strategy=strategy).deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert weights(stack) == {(0, 100)}
    assert serving(stack) == [(stack.green_tg_arn, "PRIMARY")]


def test_green_never_healthy_rolls_back(make: Any, sandbox: Sandbox, stack: SandboxStack) -> None:
    sandbox.apps[V2] = AppModel(hangs=True)
    with pytest.raises(HealthCheckFailed, match=r"Target\.Timeout"):
        make().deploy({"web": V2})
    assert_blue_serves(stack)


def test_green_turning_unhealthy_mid_shift_rolls_back(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[V2] = AppModel(crashes_after=120)  # healthy first, then crashes while baking
    with pytest.raises(GateFailed, match="unhealthy"):
        make(strategy={"type": "steps", "steps": STEPS}).deploy({"web": V2})
    assert_blue_serves(stack)


def test_an_alarm_firing_at_step_two_rolls_back(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    # 50 req/s per listener, two listeners: 600 requests a minute reach green at 10 %,
    # 3000 at 50 %. With 5 % errors that is 30, then 150 a minute: the alarm (> 100) fires
    # only once step 2 carries traffic.
    sandbox.apps[V2] = AppModel(error_rate=0.05)
    stack.add_5xx_alarm("web-green-5xx", stack.green_tg_arn)
    deployer = make(strategy={"type": "steps", "steps": STEPS}, gates={"alarms": ["web-green-5xx"]})

    with pytest.raises(GateFailed, match="web-green-5xx") as caught:
        deployer.deploy({"web": V2})

    assert "at 50% green" in str(caught.value)
    assert_blue_serves(stack)


def test_an_alarm_deleted_mid_deployment_rolls_back_naming_it(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    # Fail closed: a gate on an alarm that no longer exists must not pass. Kills, in
    # gates.alarms_ok, the `if missing:` verdict dropped, and in aws/cloudwatch.py
    # `found.get(name, AlarmState.MISSING)` → `found.get(name, AlarmState.OK)`.
    cloudwatch = boto3.client("cloudwatch", region_name=sandbox.region)
    stack.add_5xx_alarm("web-green-5xx", stack.green_tg_arn)

    def delete_the_alarm_at_step_two(event: Event) -> None:
        if event.message.startswith("step 2/3"):  # 50 % on green, its bake about to start
            cloudwatch.delete_alarms(AlarmNames=["web-green-5xx"])

    deployer = make(strategy={"type": "steps", "steps": STEPS}, gates={"alarms": ["web-green-5xx"]})
    with pytest.raises(GateFailed) as caught:
        deployer.deploy({"web": V2}, on_event=delete_the_alarm_at_step_two)

    record = caught.value.result.record  # type: ignore[attr-defined]
    assert record.state is State.ROLLED_BACK
    assert record.reason == "gate failed at 50% green: alarm(s) no longer exist: web-green-5xx"
    assert_blue_serves(stack)


FATAL = ["post_provision", "pre_shift", "post_shift", "pre_cleanup"]


@pytest.mark.parametrize("event", FATAL)
def test_a_hook_failing_rolls_back(make: Any, stack: SandboxStack, event: str) -> None:
    with pytest.raises(HookFailed, match=event):
        make(hooks=[{"event": event, "command": ["false"]}]).deploy({"web": V2})
    assert_blue_serves(stack)


def test_a_failing_pre_provision_hook_changes_nothing(make: Any, stack: SandboxStack) -> None:
    with pytest.raises(DeploymentStopped):
        make(hooks=[{"event": "pre_provision", "command": ["false"]}]).deploy({"web": V2})
    assert_blue_serves(stack)
    families = ecs().list_task_definitions(familyPrefix=stack.service)["taskDefinitionArns"]
    assert len(families) == 1  # no revision registered


def test_twenty_percent_of_calls_throttled_still_succeeds(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.faults.throttle(None, 0.2)
    result = make().deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert sum(sandbox.faults.injected.values()) > 10
    assert weights(stack) == {(0, 100)}
    assert serving(stack) == [(stack.green_tg_arn, "PRIMARY")]
