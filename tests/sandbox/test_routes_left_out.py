"""A route forwarding to blue's or green's target group that the configuration does not
name, on the simulated AWS: `deploy` stops with exit 2 before anything changes, `verify`
fails it naming the route and the TOML that fixes it, and `init` refuses to write a
configuration that would leave one out.

The bug this reproduces: the /api* rule configured alone, the listeners' default actions
still forwarding to web-blue; the deployment succeeded and retired blue's task set, and both
listeners went on sending all their traffic to a target group with no target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sim_helpers import V2, ecs, elb

from bluegreen import Deployer
from bluegreen.aws import connect
from bluegreen.config import load_config, parse_config
from bluegreen.errors import PreflightError
from bluegreen.onboarding.initialize import initialize
from bluegreen.preflight import Result, run_checks
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

NAME = "unconfigured_routes"


def forward(actions: list[dict[str, Any]]) -> dict[str, Any]:
    return next(a for a in actions if a["Type"] == "forward")


def routes(stack: SandboxStack) -> list[dict[str, Any]]:
    """Every listener's default action and every rule's actions, as AWS holds them."""
    found = []
    for listener in elb().describe_listeners(LoadBalancerArn=stack.lb_arn)["Listeners"]:
        found.append(forward(listener["DefaultActions"]))
        for rule in elb().describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
            found += [a for a in rule["Actions"] if a["Type"] == "forward"]
    return found


def task_sets(stack: SandboxStack) -> list[tuple[str, str, float]]:
    (service,) = ecs().describe_services(cluster=stack.cluster, services=[stack.service])[
        "services"
    ]
    return sorted((t["id"], t["status"], t["scale"]["value"]) for t in service["taskSets"])


def test_listener_defaults_on_blue_with_only_the_api_rule_configured_stop_the_deploy(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = build_stack(sandbox, api_rule=True)
    assert stack.api_rule_arn is not None
    config = parse_config(
        stack.config(listeners=[{"rule": stack.api_rule_arn}]),
        source=tmp_path / "bluegreen.toml",
    )
    before_routes, before_task_sets = routes(stack), task_sets(stack)
    families = ecs().list_task_definitions()["taskDefinitionArns"]

    with pytest.raises(PreflightError) as raised:
        Deployer(config, clock=sandbox.clock).deploy(images={"web": V2})

    assert raised.value.exit_code == 2
    message = raised.value.message
    assert "2 problem(s)" in message
    assert "the default action of listener web HTTP :80 forwards to web-blue" in message
    assert "the default action of listener web HTTPS :443 forwards to web-blue" in message
    assert f'arn = "{stack.http_listener_arn}"' in message
    # nothing changed in AWS: every weight, the task sets, no new task definition
    assert routes(stack) == before_routes
    assert task_sets(stack) == before_task_sets
    assert ecs().list_task_definitions()["taskDefinitionArns"] == families

    # verify says the same, one FAIL row per route, and passes once they are configured
    cloud = connect(clock=sandbox.clock)
    report = run_checks(config, cloud, sandbox.clock.now(), analysis=False)
    assert [c.name for c in report.failures] == [NAME, NAME]
    fixed = parse_config(stack.config())  # HTTP, HTTPS and the rule
    rows = run_checks(fixed, cloud, sandbox.clock.now(), analysis=False).named(NAME)
    assert [c.result for c in rows] == [Result.PASS]
    assert cloud.mutating_calls() == []


def test_a_second_load_balancer_forwarding_to_green_fails(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    intra = elb().create_load_balancer(
        Name="intra",
        Subnets=list(stack.subnet_ids),
        SecurityGroups=[stack.security_group_id],
        Scheme="internal",
        Type="application",
    )["LoadBalancers"][0]["LoadBalancerArn"]
    elb().create_listener(
        LoadBalancerArn=intra,
        Protocol="HTTP",
        Port=8081,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.green_tg_arn}],
    )

    report = run_checks(parse_config(stack.config()), connect(clock=sandbox.clock), 0.0)

    (check,) = report.failures
    assert check.name == NAME
    assert "the default action of listener intra HTTP :8081 forwards to web-green" in (check.detail)


def test_init_refuses_a_route_it_would_not_take_as_production(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    # a rule sending /admin* to green alone: init would not list it in [[listeners]]
    elb().create_rule(
        ListenerArn=stack.https_listener_arn,
        Priority=20,
        Conditions=[{"Field": "path-pattern", "Values": ["/admin*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": stack.green_tg_arn}],
    )
    path = tmp_path / "bluegreen.toml"
    cloud = connect(clock=sandbox.clock)

    with pytest.raises(PreflightError) as raised:
        initialize(cloud, cluster=stack.cluster, service=stack.service, config_path=path)

    assert "web HTTPS :443 rule 20 (path-pattern /admin*) → web-green 1" in raised.value.message
    assert cloud.mutating_calls() == [] and not path.exists()


def test_init_warns_about_what_looks_like_a_test_listener_and_writes_the_rest(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # before its first deployment, a test listener may send to green alone: init cannot
    # tell it from a stray route, so it says how to name it instead of refusing
    stack = build_stack(sandbox, test_listener=True)
    assert stack.test_listener_arn is not None
    on_green = [
        {"TargetGroupArn": stack.blue_tg_arn, "Weight": 0},
        {"TargetGroupArn": stack.green_tg_arn, "Weight": 100},
    ]
    elb().modify_listener(
        ListenerArn=stack.test_listener_arn,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": on_green}}],
    )
    path = tmp_path / "bluegreen.toml"

    result = initialize(
        connect(clock=sandbox.clock), cluster=stack.cluster, service=stack.service, config_path=path
    )

    (warning,) = [w for w in result.warnings if "test listener" in w]
    assert f'[test_listener] arn = "{stack.test_listener_arn}"' in warning
    assert "web HTTP :8080 forwards to web-blue 0, web-green 100" in warning
    # named as the warning says, the configuration init wrote passes the check
    text = (
        path.read_text(encoding="utf-8") + f'\n[test_listener]\narn = "{stack.test_listener_arn}"\n'
    )
    path.write_text(text, encoding="utf-8")
    report = run_checks(load_config(path), connect(clock=sandbox.clock), 0.0, analysis=False)
    assert [c.result for c in report.named(NAME)] == [Result.PASS], report.to_dict()
