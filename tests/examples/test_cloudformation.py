"""examples/cloudformation: cfn-lint finds nothing (informational checks included), the
template has the shape bluegreen expects, and examples/README.md's `bluegreen init` line,
run with the stack's outputs, sets up a world of the template's shape for a deployment.

The template is not created anywhere (the simulated AWS runs no CloudFormation): the world
is built by the sandbox in the template's shape — HTTP :80 redirecting, HTTPS :443 on
blue, the test listener on green, the alarm — and the outputs are the values the template
gives them with its default parameters.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer.main
import yaml
from example_files import EXAMPLES, TEMPLATES, run, tool
from typer.testing import CliRunner

from bluegreen import Deployer, cli, load_config
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

TEMPLATE = EXAMPLES / "cloudformation" / "alb-ecs-bluegreen.yaml"
INIT_OUTPUTS = {
    "Cluster": "--cluster",
    "Service": "--service",
    "GreenTargetGroup": "--green-target-group",
}
V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms: `!Ref X` reads as {"Ref": "X"}."""


def _function(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_Loader.add_multi_constructor("!", _function)
DOC: dict[str, Any] = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)
RESOURCES: dict[str, Any] = DOC["Resources"]


def props(name: str) -> dict[str, Any]:
    found: dict[str, Any] = RESOURCES[name]["Properties"]
    return found


# ---------------------------------------------------------------------------- cfn-lint


def cfn_lint(path: Path) -> Any:
    # An explicit region: cfn-lint checks against one region's resource specifications,
    # which ship with it (no network).
    return run(
        tool("cfn-lint"), "--regions", "us-east-1", "--include-checks", "I",
        "--format", "parseable", "--", str(path),
    )  # fmt: skip


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_cfn_lint_reports_nothing(path: Path) -> None:
    found = cfn_lint(path)
    assert (found.returncode, found.stdout) == (0, ""), found.stderr


def test_cfn_lint_catches_a_mistake(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        TEMPLATE.read_text(encoding="utf-8").replace("TargetType: ip", "TargetType: ipv4")
    )
    found = cfn_lint(broken)
    assert found.returncode != 0 and "E3030:'ipv4' is not one of" in found.stdout


# ----------------------------------------------------------------------------- shape


def test_the_service_is_on_the_external_controller_with_blue_primary() -> None:
    assert props("Service")["DeploymentController"] == {"Type": "EXTERNAL"}
    task_set = props("BlueTaskSet")
    assert task_set["LoadBalancers"][0]["TargetGroupArn"] == {"Ref": "BlueTargetGroup"}
    assert task_set["Scale"] == {"Unit": "PERCENT", "Value": 100}
    assert props("PrimaryTaskSet")["TaskSetId"] == {"Fn::GetAtt": ["BlueTaskSet", "Id"]}


@pytest.mark.parametrize("group", ["BlueTargetGroup", "GreenTargetGroup"])
def test_both_target_groups_take_ip_targets_and_health_check_the_parameter(group: str) -> None:
    found = props(group)
    assert (found["TargetType"], found["HealthCheckPath"]) == ("ip", {"Ref": "HealthCheckPath"})
    attributes = {a["Key"]: a["Value"] for a in found["TargetGroupAttributes"]}
    assert int(attributes["deregistration_delay.timeout_seconds"]) < 300
    description = DOC["Parameters"]["HealthCheckPath"]["Description"]
    assert "200" in description and "/api" in description  # the classic pitfall, named


def test_http_redirects_https_forwards_to_blue_and_the_test_listener_to_green() -> None:
    http, https, test = props("HttpListener"), props("HttpsListener"), props("TestListener")
    assert http["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]

    def weights(listener: dict[str, Any]) -> dict[str, int]:
        groups = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
        return {g["TargetGroupArn"]["Ref"]: g["Weight"] for g in groups}

    assert weights(https) == {"BlueTargetGroup": 100, "GreenTargetGroup": 0}
    assert weights(test) == {"BlueTargetGroup": 0, "GreenTargetGroup": 100}
    assert test["Port"] == {"Ref": "TestListenerPort"}


def test_the_tasks_admit_only_the_load_balancer_on_the_container_port() -> None:
    (rule,) = props("TasksSecurityGroup")["SecurityGroupIngress"]
    assert rule["SourceSecurityGroupId"] == {"Ref": "LoadBalancerSecurityGroup"}
    assert rule["FromPort"] == rule["ToPort"] == {"Ref": "ContainerPort"}
    assert "CidrIp" not in rule


def test_the_alarm_sums_both_target_groups_5xx() -> None:
    queries = props("TargetErrorsAlarm")["Metrics"]
    metrics = [m["MetricStat"]["Metric"] for m in queries if "MetricStat" in m]
    assert {m["MetricName"] for m in metrics} == {"HTTPCode_Target_5XX_Count"}
    dimensions = [d for m in metrics for d in m["Dimensions"] if d["Name"] == "TargetGroup"]
    groups = [d["Value"]["Fn::GetAtt"][0] for d in dimensions]
    assert sorted(groups) == ["BlueTargetGroup", "GreenTargetGroup"]


def test_the_outputs_are_named_after_inits_options() -> None:
    group = typer.main.get_command(cli.app)
    assert isinstance(group, typer.core.TyperGroup)
    options = {o for p in group.commands["init"].params for o in p.opts}
    for output, option in INIT_OUTPUTS.items():
        assert output in DOC["Outputs"] and option in options
    assert {p.opts[0] for p in group.commands["init"].params if p.required} <= set(
        INIT_OUTPUTS.values()
    )


# ----------------------------------------------- the README's init line, on the sandbox


NAME_PROPERTY = {
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ECS::Service": "ServiceName",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
}


def value(expression: Any) -> str:
    """An output's value with the default parameters: names only (what init takes)."""
    if isinstance(expression, str):
        return expression
    ((function, argument),) = expression.items()
    if function == "Fn::Sub":
        return re.sub(r"\$\{(\w+)\}", lambda m: value({"Ref": m.group(1)}), argument)
    name = argument if function == "Ref" else argument[0]
    if name in DOC["Parameters"]:
        return str(DOC["Parameters"][name]["Default"])
    resource = RESOURCES[name]
    return value(resource["Properties"][NAME_PROPERTY[resource["Type"]]])


def template_world(sandbox: Sandbox) -> SandboxStack:
    """The sandbox's stack in the template's shape, with its default names."""
    stack = build_stack(sandbox, cluster=value(DOC["Outputs"]["Cluster"]["Value"]),
                        service_name=value({"Ref": "ServiceName"}), test_listener=True)  # fmt: skip
    elb = boto3.client("elbv2", region_name=stack.region)
    redirect = {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
    elb.modify_listener(
        ListenerArn=stack.http_listener_arn,
        DefaultActions=[{"Type": "redirect", "RedirectConfig": redirect}],
    )
    green_only = [{"TargetGroupArn": stack.blue_tg_arn, "Weight": 0},
                  {"TargetGroupArn": stack.green_tg_arn, "Weight": 100}]  # fmt: skip
    elb.modify_listener(
        ListenerArn=stack.test_listener_arn,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": green_only}}],
    )
    stack.add_5xx_alarm(value(DOC["Outputs"]["Alarm"]["Value"]), stack.green_tg_arn)
    return stack


def readme_init_line() -> list[str]:
    (line,) = [
        line for line in (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("bluegreen init ")
    ]  # fmt: skip
    outputs = {k: value(v["Value"]) for k, v in DOC["Outputs"].items() if k in INIT_OUTPUTS}
    line = re.sub(r'"\$\(output (\w+)\)"', lambda m: shlex.quote(outputs[m.group(1)]), line)
    return shlex.split(line)


def test_the_readme_init_line_sets_up_a_deployable_service(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stack = template_world(sandbox)
    argv = readme_init_line()
    assert argv[:2] == ["bluegreen", "init"] and len(argv) == 8  # every init output used

    ran = CliRunner().invoke(cli.app, [*argv[1:], "--config", str(tmp_path / "bluegreen.toml")])

    assert ran.exit_code == 0, ran.output
    config = load_config(tmp_path / "bluegreen.toml")
    # Only the HTTPS listener is production: the redirect and the test listener are not.
    assert [r.arn for r in config.listeners] == [stack.https_listener_arn]
    # What README tells a user to add from the other outputs, then a deployment.
    text = (tmp_path / "bluegreen.toml").read_text(encoding="utf-8")
    text = text.replace("alarms = []", f'alarms = ["{value(DOC["Outputs"]["Alarm"]["Value"])}"]')
    text += f'\n[test_listener]\narn = "{stack.test_listener_arn}"\n'
    (tmp_path / "bluegreen.toml").write_text(text, encoding="utf-8")
    run_ = Deployer(load_config(tmp_path / "bluegreen.toml"), clock=sandbox.clock)
    assert run_.verify().ok
    assert run_.deploy({"web": V2}).outcome == "succeeded"
