"""The stack builder's other topologies — a service pair, an NLB, an `/api*` rule and a test
listener — have the shape AWS would show; and a deployment over HTTP + HTTPS + the rule,
with a test listener, moves every production route together and keeps the rule's other
parts, to green on success and back to blue on rollback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sim_helpers import V2, advance, ecs, elb, green_task_set, health, states

from bluegreen import Deployer
from bluegreen.config import parse_config
from bluegreen.errors import GateFailed
from bluegreen.record import Event
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

STEPS = [{"weight": 10, "bake": "3m"}, {"weight": 50, "bake": "3m"}, {"weight": 100}]
Weights = tuple[int, int]  # (blue, green)


def split(actions: list[dict[str, Any]], stack: SandboxStack) -> Weights:
    (forward,) = [a for a in actions if a["Type"] == "forward"]
    found = {g["TargetGroupArn"]: g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]}
    return found.get(stack.blue_tg_arn, 0), found.get(stack.green_tg_arn, 0)


def listener(arn: str) -> dict[str, Any]:
    found: dict[str, Any] = elb().describe_listeners(ListenerArns=[arn])["Listeners"][0]
    return found


def rule(arn: str) -> dict[str, Any]:
    found: dict[str, Any] = elb().describe_rules(RuleArns=[arn])["Rules"][0]
    return found


def routes(stack: SandboxStack) -> dict[str, Weights]:
    """(blue, green) weights of every route of the stack, read through boto3."""
    found = {
        "http": split(listener(stack.http_listener_arn)["DefaultActions"], stack),
        "https": split(listener(stack.https_listener_arn)["DefaultActions"], stack),
    }
    if stack.api_rule_arn:
        found["rule"] = split(rule(stack.api_rule_arn)["Actions"], stack)
    if stack.test_listener_arn:
        found["test"] = split(listener(stack.test_listener_arn)["DefaultActions"], stack)
    return found


def production(found: dict[str, Weights]) -> set[Weights]:
    return {found[name] for name in ("http", "https", "rule")}


def all_but_forward(found: dict[str, Any]) -> dict[str, Any]:
    """A rule as described, without its forward action's target groups."""
    actions = [
        {k: v for k, v in a.items() if k != "ForwardConfig"} if a["Type"] == "forward" else a
        for a in found["Actions"]
    ]
    return {**found, "Actions": actions}


def services(stack: SandboxStack) -> dict[str, dict[str, Any]]:
    names = [stack.blue_service, stack.green_service]
    answer = ecs().describe_services(cluster=stack.cluster, services=names)["services"]
    return {s["serviceName"]: s for s in answer}


# -- shapes ------------------------------------------------------------------------------


def test_the_defaults_build_todays_stack(stack: SandboxStack) -> None:
    assert (stack.mode, stack.lb_type) == ("task-sets", "application")
    assert (stack.api_rule_arn, stack.test_listener_arn) == (None, None)
    assert (stack.blue_service, stack.green_service) == (None, None)
    assert stack.blue_task_set_id is not None
    assert "test_listener" not in stack.config()


def test_a_service_pair_serves_from_blue_with_green_at_zero(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = build_stack(sandbox, mode="service-pair", desired_count=3)

    assert (stack.mode, stack.blue_service, stack.green_service) == (
        "service-pair",
        "web-blue",
        "web-green",
    )
    assert stack.blue_task_set_id is None
    found = services(stack)
    for name, desired, group in (
        ("web-blue", 3, stack.blue_tg_arn),
        ("web-green", 0, stack.green_tg_arn),
    ):
        service = found[name]
        assert service["deploymentController"]["type"] == "ECS"
        assert (service["launchType"], service["taskDefinition"]) == (
            "FARGATE",
            stack.task_definition_arn,
        )
        assert service["loadBalancers"] == [
            {"targetGroupArn": group, "containerName": "web", "containerPort": 8080}
        ]
        awsvpc = service["networkConfiguration"]["awsvpcConfiguration"]
        assert (awsvpc["subnets"], awsvpc["securityGroups"]) == (
            list(stack.subnet_ids),
            [stack.security_group_id],
        )
        assert (service["desiredCount"], service["runningCount"]) == (desired, desired)
        assert [(d["status"], d["rolloutState"]) for d in service["deployments"]] == [
            ("PRIMARY", "COMPLETED")
        ]
    assert ecs().describe_services(cluster=stack.cluster, services=["web"])["services"] == []
    assert states(stack.blue_tg_arn) == [("healthy", None)] * 3
    assert health(stack.green_tg_arn) == {}
    assert routes(stack) == {"http": (100, 0), "https": (100, 0)}

    config = parse_config(stack.config(), source=tmp_path / "bluegreen.toml")
    assert (config.service.mode, config.service.name) == ("service-pair", None)
    assert (config.service.blue_service, config.service.green_service) == (
        "web-blue",
        "web-green",
    )
    assert (config.target_groups.blue, config.target_groups.green) == ("web-blue", "web-green")


def test_the_green_service_scaled_up_registers_into_the_green_group(sandbox: Sandbox) -> None:
    stack = build_stack(sandbox, mode="service-pair")

    ecs().update_service(cluster=stack.cluster, service="web-green", desiredCount=2)
    advance(sandbox, 15 + 30)  # task start delay, then 3 checks × 10 s

    assert states(stack.green_tg_arn) == [("healthy", None)] * 2
    assert states(stack.blue_tg_arn) == [("healthy", None)] * 2


def test_a_network_load_balancer_with_tcp_groups(sandbox: Sandbox, tmp_path: Path) -> None:
    stack = build_stack(sandbox, load_balancer="network", test_listener=True)

    assert stack.lb_type == "network"
    lb = elb().describe_load_balancers(LoadBalancerArns=[stack.lb_arn])["LoadBalancers"][0]
    assert lb["Type"] == "network"
    assert not lb.get("SecurityGroups")
    found = elb().describe_listeners(LoadBalancerArn=stack.lb_arn)["Listeners"]
    assert sorted((x["Protocol"], x["Port"]) for x in found) == [
        ("TCP", 80),
        ("TCP", 8080),
        ("TLS", 443),
    ]
    assert len(listener(stack.https_listener_arn)["Certificates"]) == 1
    assert routes(stack) == {"http": (100, 0), "https": (100, 0), "test": (100, 0)}
    groups = elb().describe_target_groups(TargetGroupArns=[stack.blue_tg_arn, stack.green_tg_arn])
    for group in groups["TargetGroups"]:
        assert (group["Protocol"], group["Port"], group["TargetType"]) == ("TCP", 8080, "ip")
        assert group["HealthCheckProtocol"] == "TCP"
        assert group["HealthCheckIntervalSeconds"] in (10, 30)
        assert "HealthCheckPath" not in group
        assert "Matcher" not in group
    assert states(stack.blue_tg_arn) == [("healthy", None)] * 2
    assert health(stack.green_tg_arn) == {}

    config = parse_config(stack.config(), source=tmp_path / "bluegreen.toml")
    assert [r.arn for r in config.listeners] == [stack.http_listener_arn, stack.https_listener_arn]
    assert config.test_listener is not None
    assert config.test_listener.arn == stack.test_listener_arn


TCP_CHECKS: list[tuple[AppModel, list[tuple[str, str | None]]]] = [
    # serves /api only: an HTTP check on /health would fail; a TCP check only connects
    (AppModel(serves=("/api",)), [("healthy", None)] * 2),
    (AppModel(hangs=True), [("unhealthy", "Target.Timeout")] * 2),
    (AppModel(crashes_after=35), [("unhealthy", "Target.FailedHealthChecks")] * 2),
]


@pytest.mark.parametrize(
    ("app", "expected"), TCP_CHECKS, ids=["any-path-is-fine", "hangs", "crashes"]
)
def test_tcp_health_checks_need_only_a_running_app(
    sandbox: Sandbox, app: AppModel, expected: list[tuple[str, str | None]]
) -> None:
    stack = build_stack(sandbox, load_balancer="network")
    sandbox.apps[V2] = app
    green_task_set(stack, V2, scale=100)
    registered = sandbox.clock.now() + sandbox.task_start_delay

    advance(sandbox, registered + 19 - sandbox.clock.now(), step=1)
    assert {h["State"] for h in health(stack.green_tg_arn).values()} == {"initial"}
    # healthy at 3 × 10 s; unhealthy 2 × 10 s after the checks start failing (at 0 or 35 s)
    advance(sandbox, registered + 30 - sandbox.clock.now(), step=1)
    if app.crashes_after:
        assert states(stack.green_tg_arn) == [("healthy", None)] * 2
        advance(sandbox, registered + 55 - sandbox.clock.now(), step=1)
    assert states(stack.green_tg_arn) == expected


def test_an_api_rule_and_a_test_listener_on_the_alb(sandbox: Sandbox, tmp_path: Path) -> None:
    stack = build_stack(sandbox, api_rule=True, test_listener=True)

    assert stack.api_rule_arn is not None and stack.test_listener_arn is not None
    found = rule(stack.api_rule_arn)
    assert found["Priority"] == "10"
    assert found["RuleArn"] in [
        r["RuleArn"] for r in elb().describe_rules(ListenerArn=stack.https_listener_arn)["Rules"]
    ]
    assert found["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api*"]}},
        {
            "Field": "http-header",
            "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["prod"]},
        },
    ]
    assert [(a["Type"], a["Order"]) for a in found["Actions"]] == [
        ("authenticate-oidc", 1),
        ("forward", 2),
    ]
    test = listener(stack.test_listener_arn)
    assert (test["Protocol"], test["Port"]) == ("HTTP", 8080)
    assert routes(stack) == {
        "http": (100, 0),
        "https": (100, 0),
        "rule": (100, 0),
        "test": (100, 0),
    }
    assert states(stack.blue_tg_arn) == [("healthy", None)] * 2

    config = parse_config(stack.config(), source=tmp_path / "bluegreen.toml")
    assert [(r.arn, r.rule) for r in config.listeners] == [
        (stack.http_listener_arn, None),
        (stack.https_listener_arn, None),
        (None, stack.api_rule_arn),
    ]
    assert config.test_listener is not None
    assert config.test_listener.arn == stack.test_listener_arn


def test_no_listener_rule_on_a_network_load_balancer(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="Application Load Balancers only"):
        build_stack(sandbox, load_balancer="network", api_rule=True)


# -- a deployment over every route -------------------------------------------------------


@pytest.fixture
def routed(sandbox: Sandbox) -> SandboxStack:
    return build_stack(sandbox, api_rule=True, test_listener=True)


def deploy(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, on_event: Callable[[Event], None]
) -> Any:
    config = parse_config(
        stack.config(strategy={"type": "steps", "steps": STEPS}),
        source=tmp_path / "bluegreen.toml",
    )
    return Deployer(config, clock=sandbox.clock).deploy(images={"web": V2}, on_event=on_event)


def test_every_production_route_moves_together_and_the_rule_keeps_its_parts(
    sandbox: Sandbox, routed: SandboxStack, tmp_path: Path
) -> None:
    assert routed.api_rule_arn is not None
    before = all_but_forward(rule(routed.api_rule_arn))
    seen: list[tuple[str, dict[str, Weights]]] = []

    def on_event(event: Event) -> None:
        if event.message.startswith(("step ", "test listener routed")):
            seen.append((event.message, routes(routed)))

    result = deploy(sandbox, routed, tmp_path, on_event)

    assert result.outcome == "succeeded"
    assert [message.split(":")[0] for message, _ in seen] == [
        "test listener routed to green",
        "step 1/3",
        "step 2/3",
        "step 3/3",
    ]
    # green took all the test traffic while production was still all blue…
    assert seen[0][1] == {"http": (100, 0), "https": (100, 0), "rule": (100, 0), "test": (0, 100)}
    assert seen[1][1]["test"] == (0, 100)  # …and kept it when production first moved
    for (_, found), weight in zip(seen[1:], (10, 50, 100), strict=True):
        assert production(found) == {(100 - weight, weight)}
    final = routes(routed)
    assert production(final) == {(0, 100)}
    assert final["test"] == (0, 100)  # the test listener follows the new live colour
    assert all_but_forward(rule(routed.api_rule_arn)) == before


def test_a_rollback_puts_every_route_back_on_blue_and_keeps_the_rule(
    sandbox: Sandbox, routed: SandboxStack, tmp_path: Path
) -> None:
    assert routed.api_rule_arn is not None
    before = all_but_forward(rule(routed.api_rule_arn))
    sandbox.apps[V2] = AppModel(crashes_after=120)  # healthy first, then crashes at step 1
    seen: list[dict[str, Weights]] = []

    def on_event(event: Event) -> None:
        if event.message.startswith("step "):
            seen.append(routes(routed))

    with pytest.raises(GateFailed, match="unhealthy"):
        deploy(sandbox, routed, tmp_path, on_event)

    assert seen and production(seen[0]) == {(90, 10)}  # it failed mid-shift
    final = routes(routed)
    assert final == {"http": (100, 0), "https": (100, 0), "rule": (100, 0), "test": (100, 0)}
    assert all_but_forward(rule(routed.api_rule_arn)) == before
