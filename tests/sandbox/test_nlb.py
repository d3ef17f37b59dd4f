"""Deployments behind a Network Load Balancer on the simulated AWS: weighted forward with
longer bakes, and an all-at-once swap for listeners that take no weights."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sim_helpers import elb

from bluegreen.engine.plan import NLB_SETTLE_SECONDS
from bluegreen.errors import DeploymentFailed, HealthCheckFailed, PreflightError
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.observe import Observer
from bluegreen.sandbox.stack import SandboxStack, build_stack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
REFUSAL = "You cannot specify a target group weight on load balancers of type 'network'"


@pytest.fixture
def stack(sandbox: Sandbox) -> SandboxStack:
    return build_stack(sandbox, load_balancer="network", test_listener=True)


def forwards(stack: SandboxStack) -> list[dict[str, int]]:
    """Each listener's forward as {target group: weight}; a plain forward is weight 1."""
    found = []
    for arn in (stack.http_listener_arn, stack.https_listener_arn):
        action = elb().describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"][0]
        groups = action.get("ForwardConfig", {}).get("TargetGroups")
        if groups:
            found.append({g["TargetGroupArn"]: g["Weight"] for g in groups})
        else:
            found.append({action["TargetGroupArn"]: 1})
    return found


def swapped(stack: SandboxStack) -> list[dict[str, Any]]:
    return [
        {"arn": stack.http_listener_arn, "shift": "swap"},
        {"arn": stack.https_listener_arn, "shift": "swap"},
    ]


def test_weighted_canary_on_an_nlb_bakes_each_stage_long_enough(
    make: Any, stack: SandboxStack
) -> None:
    deployer = make(strategy={"type": "linear", "step_percent": 50, "interval": "10s"})
    assert [s.bake for s in deployer.plan({"web": V2}).stages] == [NLB_SETTLE_SECONDS, 0]

    result = deployer.deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert forwards(stack) == [{stack.blue_tg_arn: 0, stack.green_tg_arn: 100}] * 2
    assert [s.bake for s in result.record.stages] == [NLB_SETTLE_SECONDS, 0]


def test_an_nlb_listener_keeps_each_weight_at_least_90_virtual_seconds(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    # Measured in AWS, in the sandbox's virtual time, against the literal 90 s an NLB needs
    # to settle a weight change — not against the product's constant. Kills
    # `NLB_SETTLE_SECONDS = 90.0` → `30.0` (or any value under 90).
    deployer = make(strategy={"type": "linear", "step_percent": 25, "interval": "10s"})
    with Observer(sandbox) as observer:
        assert deployer.deploy({"web": V2}).outcome == "succeeded"

    for listener in (stack.http_listener_arn, stack.https_listener_arn):
        changes = [c for c in observer.weight_changes if c.route == listener]
        assert [c.weights[stack.green_tg_arn] for c in changes] == [25, 50, 75, 100]
        held = [later.at - earlier.at for earlier, later in itertools.pairwise(changes)]
        assert all(seconds >= 90 for seconds in held), held


def test_listeners_that_take_no_weights_switch_all_at_once(make: Any, stack: SandboxStack) -> None:
    deployer = make(listeners=swapped(stack))  # the weighted test listener keeps both in use
    plan = deployer.plan({"web": V2})
    assert [s.weight for s in plan.stages] == [100]
    assert any("all at once" in s.detail for s in plan.steps)

    result = deployer.deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert forwards(stack) == [{stack.green_tg_arn: 1}] * 2


def test_a_swapped_deployment_rolls_back_to_a_plain_forward_to_blue(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[V2] = AppModel(crashes_after=60)  # healthy, switched to, then crashes

    with pytest.raises(DeploymentFailed):
        make(listeners=swapped(stack), gates={"bake_after_shift": "5m"}).deploy({"web": V2})

    assert forwards(stack) == [{stack.blue_tg_arn: 1}] * 2


def test_swapping_with_no_route_keeping_both_groups_in_use_is_refused(
    make: Any, stack: SandboxStack
) -> None:
    deployer = make(
        listeners=swapped(stack), test_listener={"arn": stack.test_listener_arn, "shift": "swap"}
    )

    with pytest.raises(PreflightError, match=r"Target\.NotInUse") as caught:
        deployer.plan({"web": V2})

    assert "[test_listener]" in str(caught.value)


def test_an_nlb_refusing_weights_says_to_swap_and_leaves_blue_serving(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.faults.fail("ModifyListener", status=400, code="ValidationError", message=REFUSAL)

    with pytest.raises(DeploymentFailed) as caught:
        make().deploy({"web": V2})

    assert REFUSAL in str(caught.value.result.reason)
    assert 'shift = "swap"' in str(caught.value)
    assert forwards(stack) == [{stack.blue_tg_arn: 100, stack.green_tg_arn: 0}] * 2


def test_green_never_healthy_behind_an_nlb_names_the_tcp_check(
    make: Any, sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[V2] = AppModel(hangs=True)

    with pytest.raises(HealthCheckFailed, match=r"Target\.Timeout.*TCP"):
        make().deploy({"web": V2})

    assert forwards(stack) == [{stack.blue_tg_arn: 100, stack.green_tg_arn: 0}] * 2
