"""The least-privilege IAM policy one configuration needs: `build_policy(config, facts)`,
pure (no AWS call). Which statements it holds follows from the features the configuration
uses (bluegreen.iam.calls); which resources each names follows from its ARNs.

Rules:
- Account, region and partition are read from the listener ARNs of the configuration
  (every route is named by ARN); ECS, CloudWatch and Lambda resources are built in them.
- A statement names the configuration's resources wherever IAM takes a resource for its
  actions, and "*" only for actions IAM authorizes on "*" alone (Describe* of Elastic Load
  Balancing, GetMetricData, DescribeTaskDefinition, ListTasks, the EC2 reads).
- iam:PassRole names only the roles the task definitions pass (`TaskDefinitionFacts`),
  and only to ECS tasks; no role, no PassRole statement.
- Statements come in a fixed order with fixed Sids: the same configuration always prints
  the same document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bluegreen.config import DeploymentConfig
from bluegreen.errors import ConfigError
from bluegreen.iam.calls import Feature, actions_for

POLICY_VERSION = "2012-10-17"
ANY = "*"
# The actions of a statement that the configuration's features need (the others dropped).
Having = Callable[..., tuple[str, ...]]
# arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
_ARN = re.compile(r"arn:(?P<partition>[^:]+):[^:]*:(?P<region>[^:]*):(?P<account>\d{12}):.+")
_LAMBDA = re.compile(
    r"(?:arn:[^:]+:lambda:)?(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[A-Za-z0-9_.-]+)(?::(?P<qualifier>.+))?"
)


@dataclass(frozen=True)
class Where:
    """The account, region and partition the configuration's resources live in."""

    partition: str
    region: str
    account: str

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"


@dataclass(frozen=True)
class TaskDefinitionFacts:
    """What the task definitions bluegreen registers hold that IAM cares about: their
    families (RegisterTaskDefinition is scoped to them) and the roles they pass."""

    families: tuple[str, ...]
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    purpose: str  # one line for `--output text` and the docs
    condition: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": self.resources[0] if len(self.resources) == 1 else list(self.resources),
        }
        if self.condition:
            doc["Condition"] = self.condition
        return doc


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"Version": POLICY_VERSION, "Statement": [s.to_dict() for s in self.statements]}

    @property
    def actions(self) -> list[str]:
        return sorted({a for s in self.statements for a in s.actions})


def features_of(config: DeploymentConfig) -> set[Feature]:
    """The features this configuration uses."""
    routes = [*config.listeners, *filter(None, [config.test_listener])]
    found = {Feature.DEPLOY}
    found |= {Feature.LISTENERS} if any(r.arn for r in routes) else set()
    found |= {Feature.RULES} if any(r.rule for r in routes) else set()
    found.add(Feature.TASK_SETS if config.service.mode == "task-sets" else Feature.SERVICE_PAIR)
    found |= {Feature.ALARMS} if config.gates.alarms else set()
    found |= {Feature.METRICS} if config.analysis and config.analysis.metrics else set()
    found |= {Feature.LAMBDA_HOOKS} if any(h.lambda_function for h in config.hooks) else set()
    found |= {Feature.S3_STATE} if config.state.backend.startswith("s3://") else set()
    found |= {Feature.AUTOSCALING} if config.autoscaling.hold != "none" else set()
    return found


def where_of(config: DeploymentConfig) -> Where:
    """From the first route's ARN (every route is one)."""
    route = config.listeners[0]
    arn = route.arn or route.rule or ""
    match = _ARN.fullmatch(arn)
    if not match:
        raise ConfigError(
            f"{arn} does not name its account and region",
            hint="give the listener as its full ARN "
            "(arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/…)",
        )
    return Where(match["partition"], match["region"], match["account"])


def build_policy(config: DeploymentConfig, facts: TaskDefinitionFacts) -> Policy:
    where = where_of(config)
    features = features_of(config)
    wanted = set(actions_for(features))

    def having(*actions: str) -> tuple[str, ...]:
        return tuple(a for a in actions if a in wanted)

    statements = [
        *_load_balancing(config, having),
        *_ecs(config, where, facts, having),
        *_monitoring(config, where, having),
        *_autoscaling(having),
        *_state(config, where, having),
    ]
    if not facts.families:  # the reader always finds one: a bug, not a user's mistake
        raise ValueError("no task definition family to scope RegisterTaskDefinition to")
    kept = tuple(s for s in statements if s.actions and s.resources)
    unplaced = wanted - {a for s in kept for a in s.actions}
    if unplaced:  # a row of calls.py that no statement grants: a bug, caught by the tests
        raise ValueError(f"no statement grants {sorted(unplaced)}: place them in iam/policy.py")
    return Policy(kept)


def _load_balancing(config: DeploymentConfig, having: Having) -> list[Statement]:
    routes = [*config.listeners, *filter(None, [config.test_listener])]
    elb = "elasticloadbalancing"
    return [
        Statement(
            "ReadLoadBalancing",
            having(
                f"{elb}:DescribeLoadBalancers",
                f"{elb}:DescribeListeners",
                f"{elb}:DescribeRules",
                f"{elb}:DescribeTargetGroups",
                f"{elb}:DescribeTargetHealth",
                f"{elb}:DescribeTargetGroupAttributes",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
            ),
            (ANY,),
            "read the load balancers, listeners, rules, target groups, target health and "
            "the network (IAM authorizes these reads on * only)",
        ),
        Statement(
            "ShiftListenerWeights",
            having(f"{elb}:ModifyListener"),
            _unique(r.arn for r in routes if r.arn),
            "move the weighted forward of the listeners' default actions between blue and green",
        ),
        Statement(
            "ShiftRuleWeights",
            having(f"{elb}:ModifyRule"),
            _unique(r.rule for r in routes if r.rule),
            "move the weighted forward of the listener rules between blue and green",
        ),
    ]


def _ecs(
    config: DeploymentConfig, where: Where, facts: TaskDefinitionFacts, having: Having
) -> list[Statement]:
    cluster = _last(config.service.cluster)
    services = _unique(
        _last(s)
        for s in (config.service.name, config.service.blue_service, config.service.green_service)
        if s
    )
    service_arns = tuple(where.arn("ecs", f"service/{cluster}/{s}") for s in services)
    cluster_arn = where.arn("ecs", f"cluster/{cluster}")
    families = tuple(
        where.arn("ecs", f"task-definition/{family}:*") for family in _unique(facts.families)
    )
    return [
        Statement(
            "ReadTaskDefinitions",
            having("ecs:DescribeTaskDefinition"),
            (ANY,),
            "read the running task definition to copy it (IAM authorizes this read on * only)",
        ),
        Statement(
            "RegisterTaskDefinitions",
            having("ecs:RegisterTaskDefinition"),
            families,
            "register green's task definition: a new revision of the running one's family",
        ),
        Statement(
            "TagNewTaskDefinitions",
            ("ecs:TagResource",),
            families,
            "carry the running task definition's tags onto the new revision (only while "
            "registering it)",
            {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
        ),
        Statement(
            "PassTaskRoles",
            ("iam:PassRole",),
            _unique(facts.roles),
            "let the new task definition name the task and execution roles the running one names",
            {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
        Statement(
            "DriveServices",
            having("ecs:DescribeServices", "ecs:UpdateServicePrimaryTaskSet", "ecs:UpdateService"),
            service_arns,
            "read the service; switch its primary task set"
            if config.service.mode == "task-sets"
            else "read the services; set the idle one's task definition and desired count",
        ),
        Statement(
            "CreateTaskSets",
            having("ecs:CreateTaskSet"),
            (ANY,),
            "bring green up as a new task set of the service (scoped by the conditions: see "
            "docs/iam.md)",
            {"ArnEquals": {"ecs:cluster": cluster_arn, "ecs:service": list(service_arns)}},
        ),
        Statement(
            "DriveTaskSets",
            having("ecs:DescribeTaskSets", "ecs:DeleteTaskSet"),
            tuple(where.arn("ecs", f"task-set/{cluster}/{s}/*") for s in services),
            "read the service's task sets; retire blue's (or green's, on rollback)",
        ),
        Statement(
            "ListTasks",
            having("ecs:ListTasks"),
            (ANY,),
            "list the tasks of a colour in the cluster (IAM authorizes ListTasks on * only: "
            "the condition keeps it to this cluster)",
            {"ArnEquals": {"ecs:cluster": cluster_arn}},
        ),
        Statement(
            "DescribeTasks",
            having("ecs:DescribeTasks"),
            (where.arn("ecs", f"task/{cluster}/*"),),
            "read the colour's tasks: their addresses, and why a stopped one stopped",
        ),
    ]


def _monitoring(config: DeploymentConfig, where: Where, having: Having) -> list[Statement]:
    functions = _unique(
        _lambda_arn(where, h.lambda_function) for h in config.hooks if h.lambda_function
    )
    return [
        Statement(
            "ReadAlarms",
            having("cloudwatch:DescribeAlarms"),
            _unique(where.arn("cloudwatch", f"alarm:{name}") for name in config.gates.alarms),
            "watch the [gates] alarms while traffic shifts and bakes",
        ),
        Statement(
            "ReadMetrics",
            having("cloudwatch:GetMetricData"),
            (ANY,),
            "read both colours' metrics for [[analysis.metrics]] (IAM authorizes "
            "GetMetricData on * only)",
        ),
        Statement(
            "InvokeHookFunctions",
            having("lambda:InvokeFunction"),
            functions,
            "invoke the Lambda functions of [[hooks]]",
        ),
    ]


def _autoscaling(having: Having) -> list[Statement]:
    return [
        Statement(
            "ReadScalableTargets",
            having("application-autoscaling:DescribeScalableTargets"),
            (ANY,),
            "read the services' auto scaling targets (IAM authorizes this read on * only)",
        ),
        Statement(
            "HoldAutoScaling",
            having("application-autoscaling:RegisterScalableTarget"),
            (ANY,),
            "suspend the services' scale-in during a deployment and restore it after (a "
            "target's ARN is not known in advance: the conditions keep it to ECS services)",
            {
                "StringEquals": {
                    "application-autoscaling:service-namespace": "ecs",
                    "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount",
                }
            },
        ),
    ]


def _state(config: DeploymentConfig, where: Where, having: Having) -> list[Statement]:
    if not config.state.backend.startswith("s3://"):
        return []
    bucket, _, path = config.state.backend.removeprefix("s3://").partition("/")
    prefix = "/".join(part for part in path.split("/") if part)
    folder = f"{prefix}/{config.service_key}/" if prefix else f"{config.service_key}/"
    s3 = f"arn:{where.partition}:s3:::"
    return [
        Statement(
            "StateObjects",
            having("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
            (f"{s3}{bucket}/{folder}*",),
            "read and write this service's deployment records, lock and requests",
        ),
        Statement(
            "StateListing",
            having("s3:ListBucket"),
            (f"{s3}{bucket}",),
            "list this service's records (also lets S3 answer 404, not 403, for a missing one)",
            {"StringLike": {"s3:prefix": f"{folder}*"}},
        ),
    ]


def _lambda_arn(where: Where, function: str) -> str:
    """A hook's function (a name, a partial ARN or an ARN, maybe qualified) as the ARN
    Invoke is authorized on."""
    match = _LAMBDA.fullmatch(function)
    if match is None:  # the configuration checked the form: this is a bug
        raise ValueError(f"not a Lambda function: {function}")
    qualifier = f":{match['qualifier']}" if match["qualifier"] else ""
    account = match["account"] or where.account
    region = match["region"] or where.region
    return f"arn:{where.partition}:lambda:{region}:{account}:function:{match['name']}{qualifier}"


def _last(name_or_arn: str) -> str:
    """A cluster's or service's name, from its name or its ARN (…:service/CLUSTER/NAME)."""
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
