"""`bluegreen init` on the simulated AWS: from a service with only a blue target group to a
configuration a real deployment accepts; idempotent; refusals that change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from bluegreen import Deployer, cli
from bluegreen.aws import AwsCloud, connect
from bluegreen.config import load_config
from bluegreen.errors import ConfigError, PreflightError
from bluegreen.onboarding.initialize import CREATED_BY_TAG, default_green_name, initialize
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
NOT_COPIED = {"TargetGroupArn", "TargetGroupName", "LoadBalancerArns"}


def elb() -> Any:
    return boto3.client("elbv2", region_name="us-east-1")


def ecs() -> Any:
    return boto3.client("ecs", region_name="us-east-1")


def cloud(sandbox: Sandbox) -> AwsCloud:
    return connect(clock=sandbox.clock)


def only_blue(stack: SandboxStack, *, delete_green: bool = True) -> None:
    """Every route forwards to blue alone — HTTP as a plain TargetGroupArn, HTTPS and the
    rule as a one-group ForwardConfig — and (by default) the green target group is gone."""
    client = elb()
    client.modify_listener(
        ListenerArn=stack.http_listener_arn,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.blue_tg_arn}],
    )
    client.modify_listener(
        ListenerArn=stack.https_listener_arn,
        DefaultActions=[_forward_blue(stack.blue_tg_arn)],
    )
    if stack.api_rule_arn:
        (rule,) = client.describe_rules(RuleArns=[stack.api_rule_arn])["Rules"]
        actions = [
            a if a["Type"] != "forward" else _forward_blue(stack.blue_tg_arn, a["Order"])
            for a in rule["Actions"]
        ]
        client.modify_rule(RuleArn=stack.api_rule_arn, Actions=actions)
    if delete_green:
        client.delete_target_group(TargetGroupArn=stack.green_tg_arn)


def _forward_blue(blue: str, order: int | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "Type": "forward",
        "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 100}]},
    }
    return action if order is None else {**action, "Order": order}


def customise_blue(stack: SandboxStack) -> None:
    """Settings a copy must carry over, none of them a default."""
    client = elb()
    client.modify_target_group(
        TargetGroupArn=stack.blue_tg_arn,
        HealthCheckTimeoutSeconds=4,
        UnhealthyThresholdCount=3,
        Matcher={"HttpCode": "200-299"},
    )
    client.modify_target_group_attributes(
        TargetGroupArn=stack.blue_tg_arn,
        Attributes=[
            {"Key": "slow_start.duration_seconds", "Value": "30"},
            {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"},
            {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "3600"},
        ],
    )
    client.add_tags(ResourceArns=[stack.blue_tg_arn], Tags=[{"Key": "team", "Value": "web"}])


def group(name: str) -> dict[str, Any]:
    found: dict[str, Any] = elb().describe_target_groups(Names=[name])["TargetGroups"][0]
    return found


def attributes(arn: str) -> dict[str, str]:
    answer = elb().describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    return {a["Key"]: a["Value"] for a in answer}


def tags(arn: str) -> dict[str, str]:
    (described,) = elb().describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return {t["Key"]: t["Value"] for t in described["Tags"]}


def split(arn: str, blue: str, green: str) -> tuple[int, int]:
    """(blue, green) weights of a listener's default action or a rule."""
    if ":listener-rule/" in arn:
        actions = elb().describe_rules(RuleArns=[arn])["Rules"][0]["Actions"]
    else:
        actions = elb().describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"]
    forward = next(a for a in actions if a["Type"] == "forward")
    weights = {g["TargetGroupArn"]: g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]}
    return weights.get(blue, 0), weights.get(green, 0)


@pytest.fixture
def blue_only(sandbox: Sandbox) -> SandboxStack:
    stack = build_stack(sandbox, api_rule=True)
    only_blue(stack)
    customise_blue(stack)
    return stack


def test_init_copies_blue_wires_green_and_a_deployment_accepts_it(
    sandbox: Sandbox, blue_only: SandboxStack, tmp_path: Path
) -> None:
    stack, path = blue_only, tmp_path / "bluegreen.toml"
    result = initialize(
        cloud(sandbox), cluster=stack.cluster, service=stack.service, config_path=path
    )

    assert result.green_target_group == "web-green" and result.created == (
        "target group web-green",
    )
    blue, green = group("web-blue"), group("web-green")
    for key in (blue.keys() | green.keys()) - NOT_COPIED:
        assert green.get(key) == blue.get(key), key
    blue_attributes, green_attributes = (
        attributes(blue["TargetGroupArn"]),
        attributes(green["TargetGroupArn"]),
    )
    for key in blue_attributes.keys() | green_attributes.keys():
        assert green_attributes.get(key) == blue_attributes.get(key), key
    assert tags(green["TargetGroupArn"]) == {
        "team": "web",
        CREATED_BY_TAG: "bluegreen init",
        "bluegreen:copied-from": "web-blue",
    }
    routes = (stack.http_listener_arn, stack.https_listener_arn, stack.api_rule_arn or "")
    assert [r.arn for r in result.routes] == list(routes)
    assert all(r.green_added for r in result.routes)
    # blue's weight kept: a plain TargetGroupArn forward counts as weight 1
    assert [split(arn, stack.blue_tg_arn, green["TargetGroupArn"]) for arn in routes] == [
        (1, 0),
        (100, 0),
        (100, 0),
    ]
    (rule,) = elb().describe_rules(RuleArns=[stack.api_rule_arn])["Rules"]
    assert [a["Type"] for a in rule["Actions"]] == ["authenticate-oidc", "forward"]

    config = load_config(path)
    assert (config.service.name, config.service.container, config.service.container_port) == (
        "web",
        "web",
        8080,
    )
    assert (config.target_groups.blue, config.target_groups.green) == ("web-blue", "web-green")
    assert [r.arn or r.rule for r in config.listeners] == list(routes)

    deployed = Deployer(config, clock=sandbox.clock).deploy(images={"web": V2})

    assert deployed.outcome == "succeeded"
    for arn in routes:
        assert split(arn, stack.blue_tg_arn, green["TargetGroupArn"]) == (0, 100)

    # green is live now: init finds the same pair the other way round and changes nothing
    written, again = path.read_bytes(), cloud(sandbox)
    rerun = initialize(again, cluster=stack.cluster, service=stack.service, config_path=path)
    assert (rerun.blue_target_group, rerun.green_target_group) == ("web-green", "web-blue")
    assert again.mutating_calls() == [] and path.read_bytes() == written


def test_a_second_run_changes_nothing(
    sandbox: Sandbox, blue_only: SandboxStack, tmp_path: Path
) -> None:
    path = tmp_path / "bluegreen.toml"
    first = initialize(cloud(sandbox), cluster="demo", service="web", config_path=path)
    written = path.read_bytes()
    assert first.changed and first.config_status == "written"

    again = cloud(sandbox)
    second = initialize(again, cluster="demo", service="web", config_path=path)

    assert again.calls and again.mutating_calls() == []
    assert path.read_bytes() == written
    assert not second.changed and second.config_status == "unchanged" and second.created == ()
    assert second.green_target_group == "web-green"
    assert not any(r.green_added for r in second.routes)


def test_an_existing_green_target_group_is_used_not_created(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = build_stack(sandbox)
    only_blue(stack, delete_green=False)
    aws = cloud(sandbox)
    result = initialize(aws, cluster="demo", service="web", config_path=tmp_path / "b.toml")

    assert result.created == () and result.green_target_group == "web-green"
    assert "CreateTargetGroup" not in aws.calls
    assert split(stack.https_listener_arn, stack.blue_tg_arn, stack.green_tg_arn) == (100, 0)


def test_a_green_target_group_in_another_vpc_is_refused_with_the_fix(
    sandbox: Sandbox, blue_only: SandboxStack, tmp_path: Path
) -> None:
    other_vpc = boto3.client("ec2", region_name="us-east-1").create_vpc(CidrBlock="10.9.0.0/16")
    elb().create_target_group(
        Name="web-green",
        Protocol="HTTP",
        Port=8080,
        VpcId=other_vpc["Vpc"]["VpcId"],
        TargetType="ip",
    )
    aws, path = cloud(sandbox), tmp_path / "bluegreen.toml"

    with pytest.raises(PreflightError, match="VPC") as refused:
        initialize(aws, cluster="demo", service="web", config_path=path)

    assert "--green-target-group" in (refused.value.hint or "")
    assert refused.value.exit_code == 2
    assert aws.mutating_calls() == [] and not path.exists()


def test_a_different_config_file_is_kept_unless_forced(
    sandbox: Sandbox, blue_only: SandboxStack, tmp_path: Path
) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_text('[service]\ncluster = "demo"\nname = "old"\n')
    aws = cloud(sandbox)

    with pytest.raises(ConfigError, match="exists and differs"):
        initialize(aws, cluster="demo", service="web", config_path=path)
    assert aws.mutating_calls() == []  # refused before any change
    assert "old" in path.read_text()

    forced = initialize(cloud(sandbox), cluster="demo", service="web", config_path=path, force=True)
    assert forced.config_status == "overwritten"
    assert "service.name: 'old' → 'web'" in forced.config_changes
    assert load_config(path).service.name == "web"


def test_the_cli_prints_what_it_did(
    sandbox: Sandbox, blue_only: SandboxStack, tmp_path: Path
) -> None:
    path = str(tmp_path / "bluegreen.toml")
    args = ["init", "--cluster", "demo", "--service", "web", "--config", path]
    first = CliRunner().invoke(cli.app, args)

    assert first.exit_code == 0, first.output
    assert "created target group web-green" in first.output
    assert "added web-green at weight 0" in first.output and f"wrote {path}" in first.output

    second = CliRunner().invoke(cli.app, [*args, "--output", "json"])
    assert second.exit_code == 0, second.output
    doc = json.loads(second.stdout)
    assert doc["changed"] is False and doc["green_target_group"] == "web-green"


def test_service_pair_uses_an_existing_green_service(sandbox: Sandbox, tmp_path: Path) -> None:
    stack = build_stack(sandbox, mode="service-pair")
    path = tmp_path / "bluegreen.toml"
    aws = cloud(sandbox)
    result = initialize(
        aws, cluster="demo", service="web-blue", green_service="web-green", config_path=path
    )

    assert result.mode == "service-pair" and result.created == ()
    assert result.green_target_group == "web-green"
    assert aws.mutating_calls() == []
    config = load_config(path)
    assert (config.service.blue_service, config.service.green_service) == ("web-blue", "web-green")
    assert split(stack.http_listener_arn, stack.blue_tg_arn, stack.green_tg_arn) == (100, 0)


def test_service_pair_creates_a_missing_green_service_as_a_copy(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = build_stack(sandbox, mode="service-pair")
    ecs().delete_service(cluster="demo", service="web-green", force=True)
    only_blue(stack)
    path = tmp_path / "bluegreen.toml"

    result = initialize(
        cloud(sandbox),
        cluster="demo",
        service="web-blue",
        green_service="web-green",
        config_path=path,
    )

    assert result.created == ("target group web-green", "service web-green")
    blue, green = ecs().describe_services(cluster="demo", services=["web-blue", "web-green"])[
        "services"
    ]
    green_tg = group("web-green")["TargetGroupArn"]
    assert green["desiredCount"] == 0
    assert green["loadBalancers"] == [
        {"targetGroupArn": green_tg, "containerName": "web", "containerPort": 8080}
    ]
    for key in ("taskDefinition", "launchType", "networkConfiguration"):
        assert green[key] == blue[key], key
    assert green["deploymentController"] == {"type": "ECS"}

    deployed = Deployer(load_config(path), clock=sandbox.clock).deploy(images={"web": V2})
    assert deployed.outcome == "succeeded"
    assert split(stack.http_listener_arn, stack.blue_tg_arn, green_tg) == (0, 100)


def test_refusals_say_why_and_what_to_do(sandbox: Sandbox, tmp_path: Path) -> None:
    stack = build_stack(sandbox, mode="service-pair")
    path = tmp_path / "bluegreen.toml"
    with pytest.raises(ConfigError, match="ECS deployment controller") as no_pair:
        initialize(cloud(sandbox), cluster="demo", service="web-blue", config_path=path)
    assert "--green-service" in (no_pair.value.hint or "")

    ecs().create_service(
        cluster="demo",
        serviceName="web-cd",
        taskDefinition=stack.task_definition_arn,
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[
            {"targetGroupArn": stack.blue_tg_arn, "containerName": "web", "containerPort": 8080}
        ],
    )
    with pytest.raises(ConfigError, match="cannot name a target group"):
        initialize(
            cloud(sandbox),
            cluster="demo",
            service="web-blue",
            green_service="web-green",
            green_target_group="web_green!",
            config_path=path,
        )
    with pytest.raises(PreflightError, match="CODE_DEPLOY"):
        initialize(cloud(sandbox), cluster="demo", service="web-cd", config_path=path)
    assert not path.exists()


@pytest.mark.parametrize(
    ("blue", "green"),
    [
        ("web-blue", "web-green"),
        ("Blue-web", "Green-web"),
        ("api", "api-green"),
        ("a" * 32, "a" * 26 + "-green"),
        ("x" * 28 + "blue", "x" * 26 + "-green"),
    ],
)
def test_default_green_name(blue: str, green: str) -> None:
    assert default_green_name(blue) == green
    assert len(default_green_name(blue)) <= 32
