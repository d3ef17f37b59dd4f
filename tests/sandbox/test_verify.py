"""`bluegreen verify` on the simulated AWS: the sandbox stack passes every check; then each
test breaks one thing with boto3, as a person would in the console, and asserts the check
that fails (or warns) by name, and that its fix says what to do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from sim_helpers import advance, ecs, elb, production_weights
from typer.testing import CliRunner

from bluegreen.aws import AwsCloud, connect
from bluegreen.cli import shared as cli
from bluegreen.config import parse_config
from bluegreen.deployer import Deployer
from bluegreen.errors import MissingResourceError, PreflightError
from bluegreen.preflight import Check, Report, Result, run_checks
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import CONTAINER, CONTAINER_PORT, SandboxStack, build_stack

EVERY_CHECK = {
    "service",
    "target_group",
    "listener",
    "alarms",
    "load_balancer_type",
    "deployment_controller",
    "live_colour",
    "listener_actions",
    "unconfigured_routes",
    "target_group_vpc",
    "blue_tasks",
    "container",
    "container_port",
    "target_type",
    "security_groups",
    "health_check",
    "stickiness",
    "deregistration_delay",
    "stray_targets",
}


class Verify:
    def __init__(self, sandbox: Sandbox, stack: SandboxStack) -> None:
        self.sandbox, self.stack = sandbox, stack
        self.cloud: AwsCloud | None = None

    def __call__(self, **overrides: Any) -> Report:
        self.cloud = connect(clock=self.sandbox.clock)
        config = parse_config(self.stack.config(**overrides))
        return run_checks(config, self.cloud, self.sandbox.clock.now())


@pytest.fixture
def verify(sandbox: Sandbox, stack: SandboxStack) -> Verify:
    return Verify(sandbox, stack)


def only(report: Report, name: str, result: Result = Result.FAIL) -> Check:
    """The one check of `name` with `result`; every other check did not fail."""
    found = [c for c in report.checks if c.name == name and c.result is result]
    assert len(found) == 1, report.to_dict()
    others = [c for c in report.failures if c is not found[0]]
    assert not others, others
    return found[0]


def test_the_sandbox_stack_passes_every_check_reading_only(verify: Verify) -> None:
    report = verify()

    assert report.ok and not report.warnings, report.to_dict()
    assert {c.name for c in report.checks} >= EVERY_CHECK
    assert verify.cloud is not None and verify.cloud.mutating_calls() == []


def test_a_service_pair_stack_passes_every_check(sandbox: Sandbox) -> None:
    stack = build_stack(sandbox, mode="service-pair")
    report = Verify(sandbox, stack)()

    assert report.ok and not report.warnings, report.to_dict()
    assert [c.detail for c in report.named("deployment_controller")] == [
        "web-blue: ECS, as mode service-pair needs",
        "web-green: ECS, as mode service-pair needs",
    ]
    assert [c.detail for c in report.named("blue_tasks")] == ["service web-blue runs web:1"]


def run_verify(sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, *args: str) -> Any:
    config = tmp_path / "bluegreen.toml"
    config.write_text(stack.config_toml(gates={"alarms": []}))

    def factory(path: Path, overrides: Any = None, **aws: Any) -> Deployer:
        return Deployer.from_config(path, overrides=overrides, clock=sandbox.clock, **aws)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "deployer_factory", factory)
        return CliRunner().invoke(cli.app, ["verify", "--config", str(config), *args])


def test_the_cli_exits_0_with_a_table_or_a_json_document(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    text = run_verify(sandbox, stack, tmp_path)
    assert text.exit_code == 0, text.output
    assert "security_groups" in text.stdout and "OK: 0 failed" in " ".join(text.stdout.split())

    doc = json.loads(run_verify(sandbox, stack, tmp_path, "--output", "json").stdout)
    assert doc["ok"] is True
    assert {"name", "result", "detail", "fix"} <= set(doc["checks"][0])


def test_the_cli_exits_2_and_prints_the_fix(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    elb().modify_target_group(TargetGroupArn=stack.green_tg_arn, Matcher={"HttpCode": "404"})

    result = run_verify(sandbox, stack, tmp_path, "--output", "json")

    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    (failed,) = [c for c in doc["checks"] if c["result"] == "fail"]
    assert failed["name"] == "health_check" and "--matcher HttpCode=200-299" in failed["fix"]
    text = run_verify(sandbox, stack, tmp_path)
    assert text.exit_code == 2 and "FAILED: 1 failed" in " ".join(text.stdout.split())


def test_failures_raise_one_preflight_error_listing_every_fix(verify: Verify) -> None:
    report = verify(service={"container": "api"}, gates={"alarms": ["web-5xx"]})

    with pytest.raises(PreflightError) as raised:
        report.raise_for_failures()
    message = raised.value.message
    assert "2 problem(s)" in message
    assert "container: task definition web:1 has no container api" in message
    assert "fix: set service.container" in message
    assert "alarms: gates.alarms names alarm(s) that do not exist: web-5xx" in message
    assert "fix: create them in CloudWatch" in message


# -- one misconfiguration per test ---------------------------------------------------------


def test_a_target_group_in_another_vpc(verify: Verify, stack: SandboxStack) -> None:
    other = boto3.client("ec2", region_name=stack.region).create_vpc(CidrBlock="10.9.0.0/16")
    vpc = other["Vpc"]["VpcId"]
    elb().create_target_group(
        Name="web-elsewhere", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
    )

    check = only(verify(target_groups={"green": "web-elsewhere"}), "target_group_vpc")

    assert f"web-elsewhere is in {vpc}" in check.detail
    assert check.fix and f"create the target group in {stack.vpc_id}" in check.fix


def test_instance_targets_for_awsvpc_tasks(verify: Verify, stack: SandboxStack) -> None:
    elb().create_target_group(
        Name="web-instances", Protocol="HTTP", Port=8080, VpcId=stack.vpc_id, TargetType="instance"
    )

    check = only(verify(target_groups={"green": "web-instances"}), "target_type")

    assert "instance targets can't be awsvpc tasks" in check.detail
    assert check.fix and "--target-type ip" in check.fix


def test_a_container_missing_from_the_task_definition(verify: Verify) -> None:
    check = only(verify(service={"container": "api"}), "container")

    assert "has no container api (it has web)" in check.detail
    assert check.fix and "set service.container" in check.fix


def test_a_container_port_missing_from_the_task_definition(verify: Verify) -> None:
    check = only(verify(service={"container_port": 9090}), "container_port")

    assert f"does not map port 9090 (it maps {CONTAINER_PORT})" in check.detail
    assert check.fix and "service.container_port" in check.fix


def test_task_sets_mode_on_an_ecs_controller_service(verify: Verify, stack: SandboxStack) -> None:
    ecs().create_service(cluster=stack.cluster, serviceName="rolling", desiredCount=1)

    check = only(verify(service={"name": "rolling"}), "deployment_controller")

    assert 'service rolling cannot be deployed in mode "task-sets"' in check.detail
    assert check.fix and 'mode = "service-pair"' in check.fix


def test_a_codedeploy_controller_service(verify: Verify, stack: SandboxStack) -> None:
    ecs().create_service(
        cluster=stack.cluster,
        serviceName="codedeployed",
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )

    report = verify(service={"name": "codedeployed"})

    (check,) = [c for c in report.failures if c.name == "deployment_controller"]
    assert "CodeDeploy, which rejects task-definition changes" in check.detail
    assert check.fix and "moved to the ECS or EXTERNAL controller" in check.fix


def test_a_service_pair_service_on_another_controller(sandbox: Sandbox) -> None:
    stack = build_stack(sandbox, mode="service-pair")
    ecs().create_service(
        cluster=stack.cluster,
        serviceName="web-external",
        desiredCount=0,
        deploymentController={"type": "EXTERNAL"},
    )

    report = Verify(sandbox, stack)(service={"green_service": "web-external"})

    (check,) = [c for c in report.failures if c.name == "deployment_controller"]
    assert 'service web-external cannot be deployed in mode "service-pair"' in check.detail
    assert check.fix and 'mode = "task-sets"' in check.fix


def test_tasks_not_admitting_the_load_balancer(verify: Verify, stack: SandboxStack) -> None:
    group = stack.security_group_id
    ec2 = boto3.client("ec2", region_name=stack.region)
    (rule,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[rule])

    check = only(verify(), "security_groups")

    assert f"do not admit load balancer web's ({group}) on tcp/{CONTAINER_PORT}" in check.detail
    assert check.fix == (
        f"aws ec2 authorize-security-group-ingress --group-id {group} --protocol tcp "
        f"--port {CONTAINER_PORT} --source-group {group}"
    )


@pytest.mark.parametrize(
    ("change", "detail", "fix"),
    [
        ({"Matcher": {"HttpCode": "404"}}, 'matcher "404" accepts only error', "--matcher"),
        (
            {"HealthCheckPath": "health"},
            'path "health" does not start with "/"',
            "--health-check-path",
        ),
    ],
)
def test_a_health_check_that_cannot_pass(
    verify: Verify, stack: SandboxStack, change: dict[str, Any], detail: str, fix: str
) -> None:
    elb().modify_target_group(TargetGroupArn=stack.green_tg_arn, **change)

    check = only(verify(), "health_check")

    assert check.detail.startswith("web-green: ") and detail in check.detail
    assert check.fix and check.fix.startswith(
        f"aws elbv2 modify-target-group --target-group-arn {stack.green_tg_arn} {fix}"
    )


def test_stickiness_on_a_weighted_target_group_warns(verify: Verify, stack: SandboxStack) -> None:
    elb().modify_target_group_attributes(
        TargetGroupArn=stack.blue_tg_arn,
        Attributes=[
            {"Key": "stickiness.enabled", "Value": "true"},
            {"Key": "stickiness.type", "Value": "lb_cookie"},
        ],
    )

    report = verify()

    assert report.ok
    check = only(report, "stickiness", Result.WARN)
    assert "web-blue: stickiness (lb_cookie) is enabled" in check.detail
    assert check.fix and "Key=stickiness.enabled,Value=false" in check.fix


def test_stickiness_on_the_forward_action_warns(verify: Verify, stack: SandboxStack) -> None:
    (listener,) = elb().describe_listeners(ListenerArns=[stack.http_listener_arn])["Listeners"]
    actions = listener["DefaultActions"]
    actions[0]["ForwardConfig"]["TargetGroupStickinessConfig"] = {
        "Enabled": True,
        "DurationSeconds": 3600,
    }
    elb().modify_listener(ListenerArn=stack.http_listener_arn, DefaultActions=actions)

    report = verify()

    assert report.ok
    check = only(report, "listener_actions", Result.WARN)
    assert "stickiness is on (3600s)" in check.detail
    assert check.fix and "disable TargetGroupStickinessConfig" in check.fix


def test_the_default_deregistration_delay_warns(verify: Verify, stack: SandboxStack) -> None:
    elb().modify_target_group_attributes(
        TargetGroupArn=stack.green_tg_arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}],
    )

    report = verify()

    assert report.ok
    check = only(report, "deregistration_delay", Result.WARN)
    assert check.detail.startswith("web-green: 300s")
    assert check.fix == (
        f"aws elbv2 modify-target-group-attributes --target-group-arn {stack.green_tg_arn} "
        "--attributes Key=deregistration_delay.timeout_seconds,Value=30"
    )


def test_a_missing_listener(verify: Verify, stack: SandboxStack) -> None:
    dead = stack.https_listener_arn[:-4] + "dead"

    report = verify(listeners=[{"arn": stack.http_listener_arn}, {"arn": dead}])

    check, left_out = report.failures
    assert check.name == "listener" and dead in check.detail and "not found" in check.detail
    assert check.fix and "aws elbv2 describe-listeners" in check.fix
    # the listener the misspelt ARN meant still forwards to blue, and is not configured
    assert left_out.name == "unconfigured_routes" and "HTTPS :443" in left_out.detail
    assert left_out.fix and stack.https_listener_arn in left_out.fix


def test_a_missing_alarm(verify: Verify, stack: SandboxStack) -> None:
    boto3.client("cloudwatch", region_name=stack.region).put_metric_alarm(
        AlarmName="web-5xx",
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )

    check = only(verify(gates={"alarms": ["web-5xx", "web-latency"]}), "alarms")

    assert check.detail.endswith("do not exist: web-latency")
    assert check.fix and "remove them from gates.alarms" in check.fix


def test_a_gateway_load_balancer_is_refused(verify: Verify, stack: SandboxStack) -> None:
    gateway = elb().create_load_balancer(
        Name="appliances", Subnets=list(stack.subnet_ids), Type="gateway"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    geneve = elb().create_target_group(
        Name="appliances", Protocol="GENEVE", Port=6081, VpcId=stack.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    listener = elb().create_listener(
        LoadBalancerArn=gateway, DefaultActions=[{"Type": "forward", "TargetGroupArn": geneve}]
    )["Listeners"][0]["ListenerArn"]

    report = verify(listeners=[{"arn": listener}])

    (check,) = [c for c in report.failures if c.name == "load_balancer_type"]
    assert "appliances is a Gateway Load Balancer" in check.detail
    assert check.fix and "Application Load Balancer" in check.fix


def test_a_classic_load_balancer_binding_is_refused(verify: Verify, stack: SandboxStack) -> None:
    ecs().create_service(
        cluster=stack.cluster,
        serviceName="legacy",
        desiredCount=1,
        deploymentController={"type": "EXTERNAL"},
        loadBalancers=[
            {"loadBalancerName": "legacy-elb", "containerName": CONTAINER, "containerPort": 8080}
        ],
    )

    report = verify(service={"name": "legacy"})

    (check,) = [c for c in report.failures if c.name == "load_balancer_type"]
    assert "behind Classic Load Balancer legacy-elb, which has no target groups" in check.detail
    assert check.fix and "migration wizard" in check.fix


def test_a_missing_target_group_skips_what_depends_on_it(verify: Verify) -> None:
    report = verify(target_groups={"green": "web-gone"})

    (missing,) = report.failures
    assert missing.name == "target_group" and "web-gone" in missing.detail
    assert [c.result for c in report.named("listener_actions")] == [Result.SKIP]
    assert all(c.result is not Result.SKIP for c in report.named("health_check"))


def test_the_ec2_adapter_names_a_missing_security_group(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    network = connect(clock=sandbox.clock).network
    (group,) = network.security_groups([stack.security_group_id])
    assert group.id == stack.security_group_id and group.vpc_id == stack.vpc_id
    assert network.vpc_cidr_blocks(stack.vpc_id) == ("10.0.0.0/16",)

    with pytest.raises(MissingResourceError, match="sg-0123456789abcdef0"):
        network.security_groups([stack.security_group_id, "sg-0123456789abcdef0"])


# -- the analysis: blue's metrics can be read and have data ------------------------------

ANALYSIS = {
    "metrics": [
        {"name": "error_rate", "max_increase": "25%"},
        {
            "name": "app_errors",
            "query": {
                "namespace": "MyAp",  # misspelt: the app publishes under "MyApp"
                "metric": "Errors",
                "statistic": "Sum",
                "dimensions": {"TargetGroup": "{target_group}"},
            },
            "max": 10,
        },
    ]
}


def test_analysis_checks_that_blue_has_data_for_each_metric(
    verify: Verify, sandbox: Sandbox
) -> None:
    advance(sandbox, 5 * 60)  # blue serves: the load balancer publishes its minutes

    report = verify(analysis=ANALYSIS)

    assert report.ok, report.to_dict()
    passed, warned = report.named("analysis")
    assert passed.result is Result.PASS
    assert passed.detail.startswith("error_rate: blue ") and "requests in the last hour" in (
        passed.detail
    )
    assert warned.result is Result.WARN
    assert warned.detail.startswith("app_errors: no data for blue in the last hour")
    assert warned.fix is not None and "namespace, metric name, dimensions" in warned.fix


def test_analysis_without_traffic_warns_that_it_would_wait(verify: Verify) -> None:
    report = verify(analysis={"metrics": [{"name": "error_rate", "max": 0.01}]})

    check = only(report, "analysis", Result.WARN)
    assert "no data for blue" in check.detail and check.fix and "send traffic" in check.fix


def test_analysis_refused_by_iam_fails_and_deploy_changes_nothing(
    verify: Verify, sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    sandbox.faults.fail("GetMetricData", status=400, code="AccessDenied")
    analysis = {"metrics": [{"name": "error_rate", "max": 0.01}]}

    check = only(verify(analysis=analysis), "analysis")
    assert "AccessDenied" in check.detail
    assert check.fix is not None and "cloudwatch:GetMetricData" in check.fix

    config = parse_config(stack.config(analysis=analysis), source=tmp_path / "bluegreen.toml")
    with pytest.raises(PreflightError, match="cloudwatch:GetMetricData"):
        Deployer(config, clock=sandbox.clock).deploy({"web": "web:2"})
    assert production_weights(stack) == {(100, 0)}
    assert (
        len(ecs().describe_task_sets(cluster=stack.cluster, service=stack.service)["taskSets"]) == 1
    )


def test_analysis_with_cloudwatch_throttling_only_warns(verify: Verify, sandbox: Sandbox) -> None:
    sandbox.faults.throttle("GetMetricData")

    check = only(
        verify(analysis={"metrics": [{"name": "error_rate", "max": 0.01}]}), "analysis", Result.WARN
    )
    assert "Throttling" in check.detail


def test_skip_analysis_deploys_though_cloudwatch_refuses_the_analysis(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    """The emergency path: the analysis is what is broken, and a person switched it off."""
    sandbox.faults.fail("GetMetricData", status=400, code="AccessDenied")
    config = parse_config(
        stack.config(analysis={"metrics": [{"name": "error_rate", "max": 0.01}]}),
        source=tmp_path / "bluegreen.toml",
    )

    result = Deployer(config, clock=sandbox.clock).deploy({"web": "web:2"}, skip_analysis=True)

    assert result.outcome == "succeeded" and production_weights(stack) == {(0, 100)}
    assert sandbox.faults.injected["GetMetricData", "AccessDenied"] == 0
