"""IAM enforced on moto, resource by resource: what `bluegreen iam-policy` prints is
attached to an IAM user, and every call bluegreen then makes with that user's keys is
authorized against it, as AWS would.

moto authorizes calls once INITIAL_NO_AUTH_ACTION_COUNT is reached, but on its own it
checks most services' calls against the resource "*" (S3 excepted) and names some actions
otherwise than IAM does (CloudWatch's are "monitoring:…", Lambda's Invoke is not
"lambda:InvokeFunction"). `enforced()` fills that gap for the calls bluegreen makes: it
gives moto's authorizer the IAM action and the resource ARNs AWS would authorize each
request against (one check per resource: all must pass). Calls it does not model are
checked as moto checks them (action as moto names it, resource "*").

ECS's implicit checks are added: registering a task definition that names roles also
needs iam:PassRole on them, and one that carries tags ecs:TagResource on the new revision.

What moto still does not check, and these tests therefore cannot prove: condition blocks
are not evaluated (moto evaluates StringEquals only, and only against values it is given,
which for these calls is none), so ecs:cluster, ecs:service, ecs:CreateAction, s3:prefix
and iam:PassedToService rest on IAM's reference and the unit tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from unittest import mock
from urllib.parse import unquote

import boto3
import botocore.session
from moto import settings
from moto.core import responses as moto_responses
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.iam import access_control

# The checks AWS makes for the request being answered: (IAM action, resource ARNs) each.
Checks = list[tuple[str, list[str]]]
_PENDING: ContextVar[Checks | None] = ContextVar("iam_pending", default=None)

# moto's "service:Operation" → IAM's action, where they differ
_RENAMED = {"lambda:Invoke": "lambda:InvokeFunction"}
_SERVICE = {"monitoring": "cloudwatch"}


def create_user(policy: dict[str, Any], name: str = "deployer") -> tuple[str, str]:
    """An IAM user with exactly `policy` attached; its (access key id, secret)."""
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName=name)
    arn = iam.create_policy(PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))[
        "Policy"
    ]["Arn"]
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@contextmanager
def enforced() -> Iterator[None]:
    """Every call from here on is authorized against the caller's IAM policies."""
    original_auth = moto_responses.BaseResponse._authenticate_and_authorize_normal_action
    original_check = access_control.IAMRequestBase.check_action_permitted

    def authorize(self: Any, resource: str = "*") -> None:
        token = _PENDING.set(_what_aws_authorizes(self))
        try:
            original_auth(self, resource)
        finally:
            _PENDING.reset(token)

    def check(self: Any, resource: str) -> None:
        pending = _PENDING.get()
        if pending is None:  # S3: moto already names the bucket or object
            original_check(self, resource)
            return
        try:
            for action, resources in pending:
                self._action = action
                for each in resources:
                    original_check(self, each)
        except AccessDeniedError as exc:
            # moto answers in XML whatever the protocol; JSON services answer AWS's way
            if _protocol(self._service) in ("json", "rest-json"):
                raise JsonRESTError("AccessDeniedException", exc.message) from exc
            raise

    old_count = settings.INITIAL_NO_AUTH_ACTION_COUNT
    old_requests = ActionAuthenticatorMixin.request_count
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    try:
        with (
            mock.patch.object(
                moto_responses.BaseResponse, "_authenticate_and_authorize_normal_action", authorize
            ),
            mock.patch.object(access_control.IAMRequestBase, "check_action_permitted", check),
        ):
            yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = old_count
        ActionAuthenticatorMixin.request_count = old_requests


@contextmanager
def unenforced() -> Iterator[None]:
    """Inside `enforced()`: a look at AWS as the test's own (unchecked) caller."""
    old_count = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = old_count


def _protocol(credential_scope: str) -> str:
    name = {"elasticloadbalancing": "elbv2", "monitoring": "cloudwatch"}.get(
        credential_scope, credential_scope
    )
    return str(botocore.session.get_session().get_service_model(name).protocol)


def _what_aws_authorizes(response: Any) -> Checks:
    """The checks AWS makes for the request `response` is answering: its own action on
    its resources, and for a task definition registered, ECS's implicit ones (passing
    its roles, tagging the new revision)."""
    scope = str(response.headers.get("Authorization", "")).split("Credential=", 1)[-1]
    parts = scope.split("/")
    service = _SERVICE.get(parts[3], parts[3]) if len(parts) > 3 else response.service_name
    operation = response._get_action()
    action = f"{service}:{operation}"
    action = _RENAMED.get(action, action)
    arn = f"arn:{response.partition}:{{}}:{response.region}:{response.current_account}:{{}}"
    params = _params(response)
    checks = [(action, _resources(action, params, response, lambda s, r: arn.format(s, r)))]
    if action == "ecs:RegisterTaskDefinition":
        roles = [params[k] for k in ("taskRoleArn", "executionRoleArn") if params.get(k)]
        if roles:
            checks.append(("iam:PassRole", roles))
        if params.get("tags"):
            checks.append(("ecs:TagResource", checks[0][1]))
    return checks


def _resources(action: str, params: dict[str, Any], response: Any, arn: Any) -> list[str]:
    cluster = _last(str(params.get("cluster", "default")))

    def service_arn(name: str) -> str:
        return arn("ecs", f"service/{cluster}/{_last(name)}")

    def task_set_arn(service: str, task_set: str) -> str:
        if task_set.startswith("arn:"):
            return task_set
        return arn("ecs", f"task-set/{cluster}/{_last(service)}/{task_set}")

    match action:
        case "elasticloadbalancing:ModifyListener":
            return [_one(params["ListenerArn"])]
        case "elasticloadbalancing:ModifyRule":
            return [_one(params["RuleArn"])]
        case "ecs:DescribeServices":
            return [service_arn(s) for s in params.get("services", [])]
        case "ecs:UpdateService" | "ecs:UpdateServicePrimaryTaskSet":
            return [service_arn(params["service"])]
        case "ecs:DescribeTaskSets":
            service = params["service"]
            named = params.get("taskSets") or ["*"]
            return [task_set_arn(service, t) for t in named]
        case "ecs:DeleteTaskSet":
            return [task_set_arn(params["service"], params["taskSet"])]
        case "ecs:RegisterTaskDefinition":
            return [arn("ecs", f"task-definition/{params['family']}:new")]
        case "ecs:DescribeTasks":
            return [
                t if t.startswith("arn:") else arn("ecs", f"task/{cluster}/{t}")
                for t in params.get("tasks", [])
            ]
        case "cloudwatch:DescribeAlarms":
            names = params.get("AlarmNames") or _members(response, "AlarmNames")
            return [arn("cloudwatch", f"alarm:{n}") for n in names] or ["*"]
        case "lambda:InvokeFunction":
            name = unquote(response.path.split("/functions/", 1)[1].split("/invocations")[0])
            return [name if name.startswith("arn:") else arn("lambda", f"function:{name}")]
    return ["*"]


def _params(response: Any) -> dict[str, Any]:
    parsed = getattr(response, "params", None)
    if isinstance(parsed, dict) and parsed:
        return parsed
    try:
        body = json.loads(response.body or "{}")
        if isinstance(body, dict):
            return body
    except (ValueError, TypeError):
        pass
    return {k: _one(v) for k, v in response.querystring.items()}


def _members(response: Any, name: str) -> list[str]:
    return [_one(v) for k, v in sorted(response.querystring.items()) if k.startswith(name)]


def _one(value: Any) -> str:
    return str(value[0] if isinstance(value, list) else value)


def _last(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]
