"""`bluegreen iam-policy`'s document, built offline from a configuration: each feature
brings its statements and only those, every resource is one of the configuration's ARNs
in a form IAM takes for that action, PassRole is held to the task definition's roles and
to ECS tasks, and parliament finds nothing to object to."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import parliament
import pytest
from policy_sentry.querying.actions import get_action_data
from typer.testing import CliRunner

from bluegreen import Deployer
from bluegreen.cli import app
from bluegreen.config import merge_overrides, parse_config
from bluegreen.iam import Policy, TaskDefinitionFacts, build_policy
from bluegreen.iam.calls import actions_for
from bluegreen.iam.facts import facts_of
from bluegreen.iam.policy import features_of

ACCOUNT, REGION = "111122223333", "eu-west-1"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
LISTENER = f"{ELB}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
TEST_LISTENER = f"{ELB}:listener/app/web/50dc6c495c0c9188/0467ef3c8400ae65"
RULE = f"{ELB}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
NLB_LISTENER = f"{ELB}:listener/net/edge/5d7a2c0f7b8e1a11/7ab1a5cc0e1d3f22"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/web-task"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
FACTS = TaskDefinitionFacts(families=("web",), roles=(TASK_ROLE, EXECUTION_ROLE))
ECS = f"arn:aws:ecs:{REGION}:{ACCOUNT}"

BASE: dict[str, Any] = {
    "service": {"cluster": "prod", "name": "web", "container": "web", "container_port": 8080},
    "target_groups": {"blue": "web-blue", "green": "web-green"},
    "listeners": [{"arn": LISTENER}],
}
EVERYTHING: dict[str, Any] = {
    "listeners": [{"arn": LISTENER}, {"rule": RULE}],
    "test_listener": {"arn": TEST_LISTENER},
    "gates": {"alarms": ["web-5xx", "web-latency"]},
    "analysis": {"metrics": [{"name": "error_rate", "max": 0.01}]},
    "hooks": [
        {"event": "pre_shift", "lambda": "check-canary"},
        {"event": "post_shift", "lambda": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:gate:live"},
        {"event": "finally", "command": ["true"]},
    ],
    "state": {"backend": "s3://acme-deploys/bluegreen/prod"},
}


def policy_for(
    overrides: dict[str, Any] | None = None, facts: TaskDefinitionFacts = FACTS
) -> Policy:
    config = parse_config(merge_overrides(BASE, overrides or {}), source=Path("bluegreen.toml"))
    return build_policy(config, facts)


def by_sid(policy: Policy) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy.to_dict()["Statement"]}


def resources(statement: dict[str, Any]) -> list[str]:
    value = statement["Resource"]
    return [value] if isinstance(value, str) else value


# ------------------------------------------------------------------ features → statements


def test_the_least_configuration_gets_no_alarm_metric_lambda_modify_rule_or_s3_permission() -> None:
    actions = policy_for().actions
    assert not [a for a in actions if a.startswith(("cloudwatch:", "lambda:", "s3:"))]
    assert "elasticloadbalancing:ModifyRule" not in actions
    # …but it reads every rule: one it does not move must not forward to blue or green
    assert "elasticloadbalancing:DescribeRules" in actions
    assert "ecs:UpdateService" not in actions  # task sets never update the service
    assert not [a for a in actions if "Create" in a and a != "ecs:CreateTaskSet"]


def test_every_feature_brings_its_statements_scoped_to_the_configurations_arns() -> None:
    statements = by_sid(policy_for(EVERYTHING))
    assert resources(statements["ShiftListenerWeights"]) == [LISTENER, TEST_LISTENER]
    assert resources(statements["ShiftRuleWeights"]) == [RULE]
    assert resources(statements["ReadAlarms"]) == [
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:web-5xx",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:web-latency",
    ]
    assert statements["ReadMetrics"]["Action"] == ["cloudwatch:GetMetricData"]
    assert resources(statements["InvokeHookFunctions"]) == [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:check-canary",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:gate:live",  # its own region, qualifier
    ]
    assert statements["StateObjects"]["Resource"] == (
        "arn:aws:s3:::acme-deploys/bluegreen/prod/prod__web/*"
    )
    assert statements["StateListing"]["Resource"] == "arn:aws:s3:::acme-deploys"
    assert statements["StateListing"]["Condition"] == {
        "StringLike": {"s3:prefix": "bluegreen/prod/prod__web/*"}
    }


def test_task_sets_are_driven_within_the_service_and_tasks_listed_within_the_cluster() -> None:
    statements = by_sid(policy_for())
    assert statements["DriveServices"]["Action"] == [
        "ecs:DescribeServices",
        "ecs:UpdateServicePrimaryTaskSet",
    ]
    assert statements["DriveServices"]["Resource"] == f"{ECS}:service/prod/web"
    assert statements["DriveTaskSets"]["Resource"] == f"{ECS}:task-set/prod/web/*"
    assert statements["DriveTaskSets"]["Action"] == ["ecs:DescribeTaskSets", "ecs:DeleteTaskSet"]
    assert statements["CreateTaskSets"]["Condition"] == {
        "ArnEquals": {
            "ecs:cluster": f"{ECS}:cluster/prod",
            "ecs:service": [f"{ECS}:service/prod/web"],
        }
    }
    assert statements["ListTasks"]["Condition"] == {
        "ArnEquals": {"ecs:cluster": f"{ECS}:cluster/prod"}
    }
    assert statements["DescribeTasks"]["Resource"] == f"{ECS}:task/prod/*"
    assert statements["RegisterTaskDefinitions"]["Resource"] == f"{ECS}:task-definition/web:*"


def test_a_service_pair_updates_both_services_and_has_no_task_set_permission() -> None:
    pair = {
        "service": {
            "cluster": f"{ECS}:cluster/prod",  # an ARN works as well as a name
            "name": None,
            "mode": "service-pair",
            "blue_service": "web-blue",
            "green_service": "web-green",
        }
    }
    policy = policy_for(pair)
    statements = by_sid(policy)
    assert statements["DriveServices"]["Action"] == ["ecs:DescribeServices", "ecs:UpdateService"]
    assert resources(statements["DriveServices"]) == [
        f"{ECS}:service/prod/web-blue",
        f"{ECS}:service/prod/web-green",
    ]
    assert not [a for a in policy.actions if "TaskSet" in a]


def test_routes_that_are_only_rules_need_no_modify_listener() -> None:
    actions = policy_for({"listeners": [{"rule": RULE}]}).actions
    assert "elasticloadbalancing:ModifyRule" in actions
    assert "elasticloadbalancing:DescribeRules" in actions
    assert "elasticloadbalancing:ModifyListener" not in actions


def test_pass_role_names_only_the_task_definitions_roles_and_only_for_ecs_tasks() -> None:
    statement = by_sid(policy_for())["PassTaskRoles"]
    assert statement["Action"] == ["iam:PassRole"]
    assert statement["Resource"] == [TASK_ROLE, EXECUTION_ROLE]
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }


def test_no_role_no_pass_role() -> None:
    policy = policy_for(facts=TaskDefinitionFacts(families=("web",)))
    assert "iam:PassRole" not in policy.actions


def test_new_revisions_may_be_tagged_only_while_being_registered() -> None:
    statement = by_sid(policy_for())["TagNewTaskDefinitions"]
    assert statement["Resource"] == f"{ECS}:task-definition/web:*"
    assert statement["Condition"] == {
        "StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}
    }


@pytest.mark.parametrize("overrides", [{}, EVERYTHING], ids=["least", "everything"])
def test_the_policy_grants_what_the_table_says_the_features_need_and_nothing_else(
    overrides: dict[str, Any],
) -> None:
    config = parse_config(merge_overrides(BASE, overrides), source=Path("bluegreen.toml"))
    needed = set(actions_for(features_of(config))) | {"ecs:TagResource", "iam:PassRole"}
    assert set(build_policy(config, FACTS).actions) == needed


def test_the_same_configuration_always_prints_the_same_document() -> None:
    assert policy_for(EVERYTHING).to_dict() == policy_for(EVERYTHING).to_dict()
    assert [s["Sid"] for s in policy_for(EVERYTHING).to_dict()["Statement"]] == [
        "ReadLoadBalancing",
        "ShiftListenerWeights",
        "ShiftRuleWeights",
        "ReadTaskDefinitions",
        "RegisterTaskDefinitions",
        "TagNewTaskDefinitions",
        "PassTaskRoles",
        "DriveServices",
        "CreateTaskSets",
        "DriveTaskSets",
        "ListTasks",
        "DescribeTasks",
        "ReadAlarms",
        "ReadMetrics",
        "InvokeHookFunctions",
        "ReadScalableTargets",
        "HoldAutoScaling",
        "StateObjects",
        "StateListing",
    ]


def test_auto_scaling_is_held_on_ecs_services_only_and_not_at_all_with_hold_none() -> None:
    statements = by_sid(policy_for())
    assert statements["ReadScalableTargets"]["Action"] == [
        "application-autoscaling:DescribeScalableTargets"
    ]
    hold = statements["HoldAutoScaling"]
    assert hold["Action"] == ["application-autoscaling:RegisterScalableTarget"]
    assert hold["Condition"] == {
        "StringEquals": {
            "application-autoscaling:service-namespace": "ecs",
            "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount",
        }
    }
    # only an existing target is updated, without a role: no PassRole for it, no new role
    assert not [a for a in policy_for().actions if a.startswith("iam:") and a != "iam:PassRole"]
    actions = policy_for({"autoscaling": {"hold": "none"}}).actions
    assert not [a for a in actions if a.startswith("application-autoscaling:")]


# ------------------------------------------------------------------ IAM's own rules


def _arn_pattern(arn_format: str) -> re.Pattern[str]:
    """An ARN format of IAM's reference (…:listener/app/${LoadBalancerName}/…) as a regex
    matching the ARNs, or wildcarded ARNs, it describes. A Lambda function's ARN may end in
    a qualifier (a version or an alias): IAM authorizes Invoke on the qualified ARN."""
    parts = re.split(r"\$\{[^}]+\}", arn_format)
    pattern = "[^:]+".join(re.escape(p) for p in parts)
    return re.compile(pattern + ("(?::[^:]+)?" if ":function:" in arn_format else ""))


@pytest.mark.parametrize("overrides", [EVERYTHING, {"listeners": [{"arn": NLB_LISTENER}]}])
def test_every_resource_has_a_form_iam_takes_for_each_of_its_actions(
    overrides: dict[str, Any],
) -> None:
    for statement in policy_for(overrides).to_dict()["Statement"]:
        for action in statement["Action"]:
            prefix, name = action.split(":")
            formats = [r["resource_arn_format"] for r in get_action_data(prefix, name)[prefix]]
            for resource in resources(statement):
                if resource == "*":
                    continue
                assert any(_arn_pattern(f).fullmatch(resource) for f in formats if f != "*"), (
                    f"{action} does not take {resource} (IAM takes {formats})"
                )


def _findings(policy: Policy) -> list[Any]:
    analyzed = parliament.analyze_policy_string(
        json.dumps(policy.to_dict()), include_community_auditors=True
    )
    return [f for f in analyzed.findings if not _explained(f)]


def _explained(finding: Any) -> bool:
    """The findings parliament makes that are wrong for this policy, each for its reason."""
    # Its copy of IAM's reference marks both listener kinds (app and net) as required
    # resources of ModifyListener/ModifyRule; a listener is one kind or the other, so the
    # other kind is always "missing".
    if finding.issue == "RESOURCE_MISMATCH":
        return all(
            d["action"]
            in ("elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule")
            for d in finding.detail
        )
    # Granted on "*" on purpose, each held by a condition: ListTasks's one resource is a
    # container instance (never how bluegreen lists), CreateTaskSet's older reference
    # gives it none, RegisterScalableTarget's (tests/unit/test_iam_calls.py checks the
    # condition keys exist).
    if finding.issue == "RESOURCE_STAR":
        return set(finding.detail) <= {
            "ecs:ListTasks",
            "ecs:CreateTaskSet",
            # a scalable target's ARN ends in an id AWS makes up: held to ECS services by
            # its conditions (service namespace, scalable dimension)
            "application-autoscaling:RegisterScalableTarget",
        }
    # iam:PassRole is a permissions-management action by nature; it is held to the task
    # definition's own roles and to ECS tasks (see the PassRole test above).
    if finding.issue == "PERMISSIONS_MANAGEMENT_ACTIONS":
        return [a.lower() for a in finding.location["actions"]] == ["iam:passrole"]
    return False


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        EVERYTHING,
        {"listeners": [{"arn": NLB_LISTENER, "shift": "swap"}]},
        {
            "service": {
                "name": None,
                "mode": "service-pair",
                "blue_service": "web-blue",
                "green_service": "web-green",
            }
        },
    ],
    ids=["least", "everything", "nlb", "service-pair"],
)
def test_parliament_finds_nothing_to_object_to(overrides: dict[str, Any]) -> None:
    assert _findings(policy_for(overrides)) == []


def test_parliament_would_object_to_a_policy_on_star() -> None:
    """The audit has teeth: the same actions on "*" are findings."""
    loose = policy_for(EVERYTHING).to_dict()
    for statement in loose["Statement"]:
        statement["Resource"] = "*"
        statement.pop("Condition", None)
    analyzed = parliament.analyze_policy_string(json.dumps(loose), include_community_auditors=True)
    assert {f.issue for f in analyzed.findings} >= {"RESOURCE_STAR"}


# ------------------------------------------------------------------ task definitions


def test_facts_are_the_families_and_roles_of_the_task_definitions() -> None:
    facts = facts_of(
        [
            {"family": "web", "taskRoleArn": TASK_ROLE, "executionRoleArn": EXECUTION_ROLE},
            {"family": "web", "executionRoleArn": EXECUTION_ROLE},
            {"family": "worker"},
        ]
    )
    assert facts == TaskDefinitionFacts(("web", "worker"), (TASK_ROLE, EXECUTION_ROLE))


def _write(folder: Path, overrides: dict[str, Any] | None = None) -> Path:
    from bluegreen.onboarding.toml_writer import to_toml

    path = folder / "bluegreen.toml"
    path.write_text(to_toml(merge_overrides(BASE, overrides or {})))
    (folder / "web.json").write_text(
        json.dumps(
            {
                "family": "web-next",
                "taskRoleArn": TASK_ROLE,
                "containerDefinitions": [{"name": "web", "image": "web:2"}],
            }
        )
    )
    return path


def test_a_task_definition_file_is_read_without_aws(tmp_path: Path) -> None:
    def no_cloud() -> Any:
        raise AssertionError("a file needs no AWS")

    deployer = Deployer.from_config(_write(tmp_path), cloud=no_cloud)
    statements = by_sid(deployer.iam_policy("web.json"))
    assert statements["RegisterTaskDefinitions"]["Resource"] == f"{ECS}:task-definition/web-next:*"
    assert statements["PassTaskRoles"]["Resource"] == TASK_ROLE


def test_the_command_prints_the_json_policy_and_says_what_each_statement_is_for(
    tmp_path: Path,
) -> None:
    config = _write(tmp_path)
    runner = CliRunner()
    text = runner.invoke(app, ["iam-policy", "-c", str(config), "--task-definition", "web.json"])
    assert text.exit_code == 0, text.output
    assert json.loads(text.stdout)["Version"] == "2012-10-17"
    assert "# PassTaskRoles: " in text.stderr
    as_json = runner.invoke(
        app, ["iam-policy", "-c", str(config), "--task-definition", "web.json", "-o", "json"]
    )
    assert json.loads(as_json.stdout) == json.loads(text.stdout)
    assert as_json.stderr == ""


def test_a_configuration_error_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = _write(tmp_path, {"strategy": {"type": "sometimes"}})
    done = CliRunner().invoke(
        app, ["iam-policy", "-c", str(config), "--task-definition", "web.json"]
    )
    assert done.exit_code == 2
    assert "strategy" in done.stderr and done.stdout == ""
