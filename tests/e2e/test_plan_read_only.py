"""`plan` and `deploy --dry-run` change nothing, judged by AWS itself: every resource a
deployment could touch is described through boto3 before and after, and must not differ.
The product's own call log is not consulted: a call it does not log is still caught."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_harness import Cli

from bluegreen.deployer import Deployer
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
ALARM = "web-green-5xx"


@pytest.fixture
def stack(sandbox: Sandbox) -> SandboxStack:
    """Every kind of route a plan reads: two listeners, a rule, a test listener."""
    built = build_stack(sandbox, api_rule=True, test_listener=True)
    built.add_5xx_alarm(ALARM, built.green_tg_arn)
    return built


def _plain(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def aws_state(stack: SandboxStack) -> dict[str, Any]:
    """What ECS, ELB, CloudWatch and S3 show now, as boto3 describes it."""
    ecs = boto3.client("ecs", region_name=stack.region)
    elb = boto3.client("elbv2", region_name=stack.region)
    cloudwatch = boto3.client("cloudwatch", region_name=stack.region)
    s3 = boto3.client("s3", region_name=stack.region)
    balancers = elb.describe_load_balancers()["LoadBalancers"]
    listeners = [
        listener
        for lb in balancers
        for listener in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    ]
    groups = elb.describe_target_groups()["TargetGroups"]
    return {
        "task definitions": [
            _plain(ecs.describe_task_definition(taskDefinition=arn))
            for status in ("ACTIVE", "INACTIVE")
            for arn in ecs.list_task_definitions(status=status)["taskDefinitionArns"]
        ],
        "services": _plain(ecs.describe_services(cluster=stack.cluster, services=[stack.service])),
        "task sets": _plain(ecs.describe_task_sets(cluster=stack.cluster, service=stack.service)),
        "tasks": ecs.list_tasks(cluster=stack.cluster)["taskArns"],
        "load balancers": balancers,
        "listeners": listeners,
        "rules": [elb.describe_rules(ListenerArn=x["ListenerArn"])["Rules"] for x in listeners],
        "target groups": groups,
        "target health": [
            _plain(elb.describe_target_health(TargetGroupArn=g["TargetGroupArn"])) for g in groups
        ],
        "target group attributes": [
            _plain(elb.describe_target_group_attributes(TargetGroupArn=g["TargetGroupArn"]))
            for g in groups
        ],
        "alarms": _plain(cloudwatch.describe_alarms()),
        "objects": {
            bucket["Name"]: _plain(s3.list_objects_v2(Bucket=bucket["Name"]))
            for bucket in s3.list_buckets()["Buckets"]
        },
    }


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _api(run_cli: Cli, sandbox: Sandbox) -> None:
    deployer = Deployer.from_config(run_cli.config, clock=sandbox.clock)
    assert [s.action for s in deployer.plan({"web": V2}).steps]


def _cli_plan(run_cli: Cli, sandbox: Sandbox) -> None:
    result = run_cli("plan", "--image", f"web={V2}", "--output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)


def _cli_dry_run(run_cli: Cli, sandbox: Sandbox) -> None:
    result = run_cli("deploy", "--image", f"web={V2}", "--dry-run", "--output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)


PLANNERS: dict[str, Callable[[Cli, Sandbox], None]] = {
    "Deployer.plan": _api,
    "bluegreen plan": _cli_plan,
    "bluegreen deploy --dry-run": _cli_dry_run,
}


@pytest.mark.parametrize("planner", list(PLANNERS))
def test_planning_changes_nothing_in_aws(
    run_cli: Cli, sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, planner: str
) -> None:
    # Kills, in Deployer.plan (or anything it calls): a register_task_definition (a new
    # revision), create_task_set, modify_listener / modify_rule, put_metric_alarm, or a
    # record written to the state store.
    run_cli.configure(gates={"alarms": [ALARM]})
    before = aws_state(stack)
    files_before = files(tmp_path)

    PLANNERS[planner](run_cli, sandbox)

    assert aws_state(stack) == before
    assert files(tmp_path) == files_before  # no record, lock or request in the file store
