"""Every configuration under examples/configs: the product's loader takes it, `bluegreen
schema`'s JSON Schema accepts it, and it deploys, as written, on the simulated AWS.

For the deployment, the sandbox builds a world with the example's own names (cluster
"prod", service "web", target groups "web-blue"/"web-green", container "web" on 8080) and
the topology the example is for; only the placeholder ARNs and DNS name are replaced by
the sandbox's (example_files.substitute). Each test then reads AWS for the outcome the
example promises: the routes it lists on green, the pause it asks for, the services, the
smoke checks and the hook that ran. Virtual time: a 4-hour pause timeout costs nothing.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import boto3
import pytest
from example_files import CONFIGS, EXAMPLES, substitute
from jsonschema import Draft202012Validator
from lb_dns import dns_name

from bluegreen import Deployer, load_config
from bluegreen.config import config_json_schema
from bluegreen.errors import ConfigError
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.lb_http import LoadBalancerProxy
from bluegreen.sandbox.stack import SandboxStack, build_stack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
# The sandbox world each example is written for (build_stack's options).
WORLDS: dict[str, dict[str, Any]] = {
    "canary-task-sets.toml": {},
    "service-pair.toml": {"mode": "service-pair"},
    "path-rule-api.toml": {"api_rule": True},
    "nlb-weighted.toml": {"load_balancer": "network"},
    "nlb-swap.toml": {"load_balancer": "network", "test_listener": True},
    "test-listener-smoke.toml": {"test_listener": True},
}


def elb() -> Any:
    return boto3.client("elbv2", region_name="us-east-1")


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_the_loader_and_the_json_schema_accept_it(path: Path) -> None:
    load_config(path)  # raises ConfigError, naming the key, on anything wrong
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    problems = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in Draft202012Validator(config_json_schema()).iter_errors(data)
    ]
    assert problems == []


def test_the_schema_check_is_not_a_rubber_stamp(tmp_path: Path) -> None:
    # The check above must be able to fail: an example with a misspelt key is refused by both.
    broken = (EXAMPLES / "configs" / "service-pair.toml").read_text(encoding="utf-8")
    broken = broken.replace("step_percent = 25", "step_precent = 25")
    (tmp_path / "bluegreen.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match="step_precent"):
        load_config(tmp_path / "bluegreen.toml")
    validator = Draft202012Validator(config_json_schema())
    assert not validator.is_valid(tomllib.loads(broken))


def test_every_example_config_has_a_sandbox_world() -> None:
    assert sorted(WORLDS) == [p.name for p in CONFIGS]


# ------------------------------------------------------------------- on the sandbox


def world(sandbox: Sandbox, name: str) -> SandboxStack:
    return build_stack(sandbox, cluster="prod", service_name="web", **WORLDS[name])


def deployer(sandbox: Sandbox, stack: SandboxStack, name: str, folder: Path) -> Deployer:
    """The example, its placeholders replaced, as bluegreen.toml in `folder` — beside a
    hooks/ folder, as its comments tell a user to copy it."""
    text = (EXAMPLES / "configs" / name).read_text(encoding="utf-8")
    (folder / "bluegreen.toml").write_text(substitute(text, stack, dns_name(stack)), "utf-8")
    (folder / "hooks").symlink_to(EXAMPLES.parent / "hooks", target_is_directory=True)
    return Deployer(load_config(folder / "bluegreen.toml"), clock=sandbox.clock)


def split(actions: list[dict[str, Any]], stack: SandboxStack) -> tuple[int, int]:
    """(blue, green) of a forward action; a plain forward to one group counts as 100."""
    (forward,) = [a for a in actions if a["Type"] == "forward"]
    groups = forward.get("ForwardConfig", {}).get("TargetGroups") or [
        {"TargetGroupArn": forward["TargetGroupArn"], "Weight": 100}
    ]
    found = {g["TargetGroupArn"]: g["Weight"] for g in groups}
    return found.get(stack.blue_tg_arn, 0), found.get(stack.green_tg_arn, 0)


def listener_split(stack: SandboxStack, arn: str) -> tuple[int, int]:
    found = elb().describe_listeners(ListenerArns=[arn])["Listeners"][0]
    return split(found["DefaultActions"], stack)


def production(stack: SandboxStack) -> list[tuple[int, int]]:
    return [listener_split(stack, a) for a in (stack.http_listener_arn, stack.https_listener_arn)]


def test_canary_task_sets_pauses_at_half_then_promotes_to_green(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = world(sandbox, "canary-task-sets.toml")
    stack.add_5xx_alarm("web-5xx", stack.green_tg_arn)  # the template's alarm, by its name
    run = deployer(sandbox, stack, "canary-task-sets.toml", tmp_path)

    paused = run.deploy({"web": V2}, detach_at_pause=True)

    assert paused.outcome == "paused"
    assert production(stack) == [(50, 50), (50, 50)]
    result = run.promote()
    assert result.outcome == "succeeded"
    assert production(stack) == [(0, 100), (0, 100)]
    # Green was judged against blue all along (too little data at first: the bake went on),
    # and the last verdict, at 100 %, passed both checks.
    verdicts = result.record.analysis
    assert [c.status for v in verdicts for c in v.checks if c.status == "fail"] == []
    assert verdicts[-1].passed and verdicts[-1].stage == "bake at 100%"
    assert {c.check for c in verdicts[-1].checks} == {"error_rate", "latency"}
    # a 10m bake with a 10m lookback: blue, idle at 100 % green, is judged on its minutes
    # before the final shift, and no extension or pause was needed to get there
    until = result.record.blue_traffic_until
    assert until is not None
    assert not any("bake extended" in e.message for e in result.record.events if e.at > until)
    frozen = [until // 60 * 60 - 600, until // 60 * 60]
    assert verdicts[-1].baseline == frozen
    assert all(c.baseline_until == frozen[1] for c in verdicts[-1].checks)


def test_service_pair_moves_to_the_idle_service_and_scales_the_old_one_to_zero(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = world(sandbox, "service-pair.toml")

    result = deployer(sandbox, stack, "service-pair.toml", tmp_path).deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert production(stack) == [(0, 100), (0, 100)]
    ecs = boto3.client("ecs", region_name="us-east-1")
    found = ecs.describe_services(cluster="prod", services=["web-blue", "web-green"])
    assert {s["serviceName"]: s["desiredCount"] for s in found["services"]} == {
        "web-blue": 0,
        "web-green": 2,
    }
    assert [s.weight for s in result.record.stages] == [25, 50, 75, 100]


def test_path_rule_api_moves_only_the_rule_and_keeps_its_conditions(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = world(sandbox, "path-rule-api.toml")
    assert stack.api_rule_arn is not None
    # The world the example describes: only /api* reaches the API; the rest is not its own.
    # Left forwarding to web-blue, the listeners' defaults would stop the deployment
    # (unconfigured_routes: tests/sandbox/test_routes_left_out.py).
    not_found = {"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no"}
    for arn in (stack.http_listener_arn, stack.https_listener_arn):
        elb().modify_listener(
            ListenerArn=arn,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": not_found}],
        )
    before = elb().describe_rules(RuleArns=[stack.api_rule_arn])["Rules"][0]

    result = deployer(sandbox, stack, "path-rule-api.toml", tmp_path).deploy({"web": V2})

    assert result.outcome == "succeeded"
    after = elb().describe_rules(RuleArns=[stack.api_rule_arn])["Rules"][0]
    assert split(after["Actions"], stack) == (0, 100)
    assert after["Conditions"] == before["Conditions"]  # /api* and the header, kept
    assert [a["Type"] for a in after["Actions"]] == ["authenticate-oidc", "forward"]


def test_nlb_weighted_holds_every_stage_long_enough_for_an_nlb(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = world(sandbox, "nlb-weighted.toml")

    result = deployer(sandbox, stack, "nlb-weighted.toml", tmp_path).deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert production(stack) == [(0, 100), (0, 100)]
    assert [(s.weight, s.bake >= 90) for s in result.record.stages] == [(50, True), (100, False)]


def test_nlb_swap_switches_every_production_listener_to_green_at_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = world(sandbox, "nlb-swap.toml")

    result = deployer(sandbox, stack, "nlb-swap.toml", tmp_path).deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert [s.weight for s in result.record.stages] == [100]
    for arn in (stack.http_listener_arn, stack.https_listener_arn):
        action = elb().describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"]
        groups = action[0].get("ForwardConfig", {}).get("TargetGroups") or [action[0]]
        assert [g["TargetGroupArn"] for g in groups] == [stack.green_tg_arn]  # swapped, whole


def test_test_listener_smoke_runs_its_checks_and_hook_on_green_first(
    sandbox: Sandbox,
    tmp_path: Path,
    lb_proxy: LoadBalancerProxy,
    capfd: pytest.CaptureFixture[str],
) -> None:
    stack = world(sandbox, "test-listener-smoke.toml")
    assert stack.test_listener_arn is not None

    result = deployer(sandbox, stack, "test-listener-smoke.toml", tmp_path).deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert production(stack) == [(0, 100), (0, 100)]
    assert listener_split(stack, stack.test_listener_arn) == (0, 100)  # with the live colour
    smoke = result.to_dict()["smoke_checks"]
    assert [(s["check"], s["status"], s["passed"]) for s in smoke] == [
        ("health", "pass", 5),
        ("version", "pass", 2),
    ]
    # hooks/http_smoke.py ran as the example names it, and reached green's app.
    logged = capfd.readouterr().out
    assert f"PASS request 3/3: GET http://{dns_name(stack)}:8080/health" in logged
