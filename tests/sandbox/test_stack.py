"""`build_stack` hands over a stack whose blue is already serving, and a configuration for it
that bluegreen accepts — as a dict and as TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path

from sim_helpers import describe_task_set, ecs, elb, health, states

from bluegreen.config import load_config, parse_config
from bluegreen.onboarding.toml_writer import to_toml
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack


def weights(listener_arn: str, stack: SandboxStack) -> dict[str, int]:
    action = elb().describe_listeners(ListenerArns=[listener_arn])["Listeners"][0][
        "DefaultActions"
    ][0]
    names = {stack.blue_tg_arn: "blue", stack.green_tg_arn: "green"}
    return {
        names[g["TargetGroupArn"]]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]
    }


def test_blue_is_serving_when_the_stack_is_handed_over(stack: SandboxStack) -> None:
    assert states(stack.blue_tg_arn) == [("healthy", None)] * 2
    assert health(stack.green_tg_arn) == {}
    for listener in (stack.http_listener_arn, stack.https_listener_arn):
        assert weights(listener, stack) == {"blue": 100, "green": 0}
    blue = describe_task_set(stack, stack.blue_task_set_id)
    assert (blue["status"], blue["runningCount"], blue["stabilityStatus"]) == (
        "PRIMARY",
        2,
        "STEADY_STATE",
    )
    listeners = elb().describe_listeners(LoadBalancerArn=stack.lb_arn)["Listeners"]
    assert sorted((x["Protocol"], x["Port"]) for x in listeners) == [("HTTP", 80), ("HTTPS", 443)]


def test_the_target_groups_carry_the_health_check_asked_for(sandbox: Sandbox) -> None:
    stack = build_stack(
        sandbox,
        health_check_path="/ready",
        interval_seconds=15,
        healthy_threshold=2,
        deregistration_delay=45,
        service_name="shop",
        cluster="prod",
        desired_count=3,
    )
    group = elb().describe_target_groups(TargetGroupArns=[stack.green_tg_arn])["TargetGroups"][0]
    assert (group["TargetGroupName"], group["TargetType"], group["Port"]) == (
        "shop-green",
        "ip",
        8080,
    )
    assert (group["HealthCheckPath"], group["HealthCheckIntervalSeconds"]) == ("/ready", 15)
    assert group["HealthyThresholdCount"] == 2
    attributes = elb().describe_target_group_attributes(TargetGroupArn=stack.green_tg_arn)
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "45"} in attributes[
        "Attributes"
    ]
    service = ecs().describe_services(cluster="prod", services=["shop"])["services"][0]
    assert (service["deploymentController"]["type"], service["runningCount"]) == ("EXTERNAL", 3)


def test_the_configuration_matches_the_stack(stack: SandboxStack, tmp_path: Path) -> None:
    config = parse_config(stack.config(), source=tmp_path / "bluegreen.toml")

    assert (config.service.cluster, config.service.name) == ("demo", "web")
    assert (config.service.container, config.service.container_port) == ("web", 8080)
    assert (config.target_groups.blue, config.target_groups.green) == ("web-blue", "web-green")
    assert [r.arn for r in config.listeners] == [stack.http_listener_arn, stack.https_listener_arn]
    assert (config.strategy.type, config.strategy.percent, config.strategy.bake) == (
        "canary",
        10,
        120,
    )
    assert (config.health.timeout, config.health.poll_interval) == (600, 5)
    assert (config.gates.bake_after_shift, config.gates.termination_wait) == (120, 60)


def test_overrides_merge_into_the_configuration(stack: SandboxStack) -> None:
    data = stack.config(strategy={"percent": 25}, health={"timeout": "3m"}, timeout="1h")

    assert data["strategy"] == {"type": "canary", "percent": 25, "bake": "2m"}
    assert data["health"] == {"timeout": "3m", "poll_interval": "5s"}
    assert parse_config(data).timeout == 3600
    assert stack.config()["strategy"]["percent"] == 10  # the stack's own is untouched


def test_the_toml_loads_back_to_the_same_configuration(stack: SandboxStack, tmp_path: Path) -> None:
    overrides = {
        "strategy": {"type": "steps", "steps": [{"weight": 10, "bake": "1m"}, {"weight": 100}]},
        "hooks": [{"event": "pre_shift", "command": ["echo", 'say "hi"'], "env": {"A": "1"}}],
    }
    text = stack.config_toml(**overrides)

    assert tomllib.loads(text) == stack.config(**overrides)
    path = tmp_path / "bluegreen.toml"
    path.write_text(text)
    assert load_config(path).strategy.steps[0].weight == 10


def test_toml_renders_keys_and_values_that_need_quoting() -> None:
    data = {
        "plain": 'a\\b\n"c" é',
        "numbers": [1, 2.5, True],
        "table": {"dotted.key": "x", "with space": {"deep": False}},
        "rows": [{"n": 1, "sub": {"x": 1}}, {"n": 2}],
        "none": None,
    }
    assert tomllib.loads(to_toml(data)) == {k: v for k, v in data.items() if v is not None}
