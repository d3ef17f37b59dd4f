"""The policy `bluegreen iam-policy` prints is enough, and every action in it is needed:
proven on the simulated AWS with IAM enforced (tests/iam_enforcement.py says how, and
what it cannot check: condition blocks).

The configuration uses every feature the sandbox can run: a task-sets service behind an
ALB, two listeners and a listener rule shifted, a test listener, an alarm gate, a metric
check, a Lambda hook and the S3 state store, and a task definition (a file) naming two
roles and carrying a tag. The user holds exactly the printed policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from iam_enforcement import create_user, enforced, unenforced
from test_deploy import weights as read_weights

from bluegreen import Deployer
from bluegreen.config import merge_overrides, parse_config
from bluegreen.errors import BluegreenError, CleanupIncomplete, HealthCheckFailed
from bluegreen.iam.calls import Feature, actions_for
from bluegreen.machine import State
from bluegreen.sandbox import AppModel, Sandbox, faults
from bluegreen.sandbox.api_limits import ApiLimits
from bluegreen.sandbox.stack import CONTAINER_PORT, SandboxStack, build_stack

IMAGE = "public.ecr.aws/bluegreen/demo-web"
BUCKET = "bluegreen-state"
ALARM = "web-5xx"
FUNCTION = "pre-shift-check"


@pytest.fixture
def stack(sandbox: Sandbox) -> SandboxStack:
    return build_stack(sandbox, api_rule=True, test_listener=True)


def weights(stack: SandboxStack) -> list[tuple[int, int]]:
    """(blue, green) weights of both production listeners, read as the test, not the user:
    unchecked by IAM, and taking no token from AWS's request limits (on a virtual clock the
    test reads at the very instant a deployment's last calls emptied a bucket)."""
    installed = faults.active()
    assert installed is not None and isinstance(installed.limits, ApiLimits)
    with unenforced(), installed.limits.paused():
        return read_weights(stack)


def _lambda_function() -> str:
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="hook-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hook.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda", region_name="us-east-1").create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="hook.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    return FUNCTION


def _task_definition_file(stack: SandboxStack, folder: Path, image: str) -> str:
    """The running task definition with `image`, a task role, an execution role and a
    tag, as `deploy --task-definition` takes it: registering it needs iam:PassRole on both
    roles and ecs:TagResource."""
    iam = boto3.client("iam", region_name=stack.region)
    roles = [
        iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        for name in ("web-task", "web-execution")
    ]
    running = boto3.client("ecs", region_name=stack.region).describe_task_definition(
        taskDefinition=stack.task_definition_arn
    )["taskDefinition"]
    running["containerDefinitions"][0]["image"] = image
    running |= {"taskRoleArn": roles[0], "executionRoleArn": roles[1]}
    running["tags"] = [{"key": "team", "value": "web"}]
    (folder / "web.json").write_text(json.dumps(running, default=str))
    return "web.json"


def _config(stack: SandboxStack) -> dict[str, Any]:
    stack.add_5xx_alarm(ALARM, stack.green_tg_arn)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    return stack.config(
        # short bakes and fewer polls: every deployment here is under IAM, call by call
        strategy={"type": "canary", "percent": 10, "bake": "1m"},
        health={"poll_interval": "10s"},
        gates={"alarms": [ALARM], "bake_after_shift": "1m", "termination_wait": "30s"},
        analysis={"metrics": [{"name": "error_rate", "max": 0.05}]},
        hooks=[{"event": "pre_provision", "lambda": _lambda_function()}],
        state={"backend": f"s3://{BUCKET}/deployments"},
    )


def _deployer(sandbox: Sandbox, config: dict[str, Any], folder: Path) -> Deployer:
    return Deployer(parse_config(config, source=folder / "bluegreen.toml"), clock=sandbox.clock)


def _as_user(monkeypatch: pytest.MonkeyPatch, keys: tuple[str, str]) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys[1])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)


def test_a_deploy_and_a_rollback_pass_with_exactly_the_printed_policy(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment that goes through; one whose green fails its health check, rolled
    back by bluegreen; one paused at 10 % and rolled back by `rollback`."""
    config = _config(stack)
    paused = merge_overrides(
        config,
        {"strategy": {"type": "steps", "steps": [{"weight": 10, "pause": True}, {"weight": 100}]}},
    )
    file = _task_definition_file(stack, tmp_path, f"{IMAGE}:4.0.0")
    # the file names the roles: its policy covers `--image` deployments of the family too
    policy = _deployer(sandbox, config, tmp_path).iam_policy(file).to_dict()
    assert "iam:PassRole" in {a for s in policy["Statement"] for a in s["Action"]}
    _as_user(monkeypatch, create_user(policy))
    sandbox.apps[f"{IMAGE}:3.0.0"] = AppModel(serves=("/api",))  # fails /health

    with enforced():
        done = _deployer(sandbox, config, tmp_path).deploy(images={"web": f"{IMAGE}:2.0.0"})
        assert done.outcome == "succeeded"
        assert weights(stack) == [(0, 100), (0, 100)]
        with pytest.raises(HealthCheckFailed) as unhealthy:
            _deployer(sandbox, config, tmp_path).deploy(images={"web": f"{IMAGE}:3.0.0"})
        assert unhealthy.value.result.state is State.ROLLED_BACK
        assert weights(stack) == [(0, 100), (0, 100)]  # 2.0.0 still serves
        run = _deployer(sandbox, paused, tmp_path)
        at_pause = run.deploy(task_definition=file, detach_at_pause=True)
        # the new version runs on the blue target group now (colours alternate)
        assert at_pause.outcome == "paused" and weights(stack) == [(10, 90), (10, 90)]
        undone = _deployer(sandbox, paused, tmp_path).rollback(reason="IAM test")
        assert undone.state is State.ROLLED_BACK
        assert weights(stack) == [(0, 100), (0, 100)]


def _without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    statements = []
    for statement in policy["Statement"]:
        kept = [a for a in statement["Action"] if a != action]
        if kept:
            statements.append({**statement, "Action": kept})
    return {**policy, "Statement": statements}


def test_an_empty_policy_is_refused_at_the_first_call(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(stack)
    unrelated = {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}
    _as_user(monkeypatch, create_user({"Version": "2012-10-17", "Statement": [unrelated]}))
    with enforced(), pytest.raises(BluegreenError, match="AccessDenied"):
        _deployer(sandbox, config, tmp_path).deploy(images={"web": f"{IMAGE}:2.0.0"})


# The features the configuration above uses: the printed policy holds these actions.
FEATURES = {
    Feature.DEPLOY,
    Feature.LISTENERS,
    Feature.RULES,
    Feature.TASK_SETS,
    Feature.ALARMS,
    Feature.METRICS,
    Feature.LAMBDA_HOOKS,
    Feature.S3_STATE,
}
# ECS asks for the last two itself when it registers a task definition that names roles
# and carries tags, as the removal tests' does.
ACTIONS = [*actions_for(FEATURES), "ecs:TagResource", "iam:PassRole"]
# Needed once all traffic is on green and blue is being retired: without them the release
# has succeeded, and the command says so (the tests below), never a rollback.
AT_THE_END = {"ecs:DeleteTaskSet", "s3:DeleteObject"}


def _arrange(
    action: str, sandbox: Sandbox, stack: SandboxStack, config: dict[str, Any], folder: Path
) -> None:
    """Make the removed action one this deployment needs."""
    if action == "ec2:DescribeVpcs":
        # read only when the tasks admit the load balancer by address range, not by group
        boto3.client("ec2", region_name=stack.region).revoke_security_group_ingress(
            GroupId=stack.security_group_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": CONTAINER_PORT,
                    "ToPort": CONTAINER_PORT,
                    "UserIdGroupPairs": [{"GroupId": stack.security_group_id}],
                }
            ],
        )
    elif action == "s3:GetObject":
        # read once a deployment is recorded: deploy once (not enforced) first
        _deployer(sandbox, config, folder).deploy(images={"web": f"{IMAGE}:1.5.0"})


@pytest.mark.parametrize("action", [a for a in ACTIONS if a not in AT_THE_END])
def test_without_any_one_action_the_deploy_stops_on_access_denied(
    action: str,
    sandbox: Sandbox,
    stack: SandboxStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(stack)
    file = _task_definition_file(stack, tmp_path, f"{IMAGE}:2.0.0")
    policy = _deployer(sandbox, config, tmp_path).iam_policy(file).to_dict()
    assert action in {a for s in policy["Statement"] for a in s["Action"]}
    _arrange(action, sandbox, stack, config, tmp_path)
    before = weights(stack)
    _as_user(monkeypatch, create_user(_without(policy, action)))

    with enforced(), pytest.raises(BluegreenError) as failed:
        _deployer(sandbox, config, tmp_path).deploy(task_definition=file)

    said = f"{failed.value} {failed.value.hint}"
    assert "AccessDenied" in said
    assert action in said or action.startswith("s3:")  # S3 says "Access Denied", no more
    assert weights(stack) == before


def _user_without(
    action: str,
    sandbox: Sandbox,
    stack: SandboxStack,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The configuration, and the printed policy; the user holds it without `action`."""
    config = _config(stack)
    policy = _deployer(sandbox, config, folder).iam_policy().to_dict()
    assert action in {a for s in policy["Statement"] for a in s["Action"]}
    _as_user(monkeypatch, create_user(_without(policy, action)))
    return config, policy


def test_without_delete_task_set_the_deploy_succeeds_with_the_clean_up_left_exit_3(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, policy = _user_without("ecs:DeleteTaskSet", sandbox, stack, tmp_path, monkeypatch)

    with enforced(), pytest.raises(CleanupIncomplete) as left:
        _deployer(sandbox, config, tmp_path).deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert left.value.exit_code == 3
    assert left.value.result.state is State.SUCCEEDED  # type: ignore[attr-defined]
    assert "ecs:DeleteTaskSet" in left.value.message
    assert "nothing to roll back" not in str(left.value)
    command = (
        f"aws ecs delete-task-set --cluster {stack.cluster} --service {stack.service} "
        f"--task-set {stack.blue_task_set_id} --force"
    )
    assert command in (left.value.hint or "")
    assert weights(stack) == [(0, 100), (0, 100)]  # green serves: the release succeeded
    assert stack.blue_task_set_id in _task_sets(stack)  # blue kept, with no traffic

    # The permission granted, `bluegreen resume` finishes the clean-up.
    _as_user(monkeypatch, create_user(policy, name="deployer-fixed"))
    with enforced():
        done = _deployer(sandbox, config, tmp_path).resume()
    assert done.state is State.SUCCEEDED and done.exit_code == 0
    assert stack.blue_task_set_id not in _task_sets(stack)
    assert weights(stack) == [(0, 100), (0, 100)]


def test_without_delete_object_the_deploy_succeeds_and_warns_that_the_lock_lapses(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = _user_without("s3:DeleteObject", sandbox, stack, tmp_path, monkeypatch)

    with enforced():
        done = _deployer(sandbox, config, tmp_path).deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert done.outcome == "succeeded" and done.exit_code == 0
    assert weights(stack) == [(0, 100), (0, 100)]
    (warning,) = done.warnings
    assert "could not be released" in warning and "AccessDenied" in warning
    assert "lapses by itself" in warning and f"aws s3 rm s3://{BUCKET}/deployments/" in warning


def test_a_service_pair_whose_blue_cannot_be_scaled_to_0_succeeds_with_the_clean_up_left(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = build_stack(sandbox, mode="service-pair")
    config = stack.config(
        strategy={"type": "canary", "percent": 10, "bake": "1m"}, health={"poll_interval": "10s"}
    )
    policy = _deployer(sandbox, config, tmp_path).iam_policy().to_dict()
    for statement in policy["Statement"]:  # UpdateService on the green service only
        if statement["Sid"] == "DriveServices":
            (blue_arn,) = [r for r in statement["Resource"] if r.endswith(f"/{stack.blue_service}")]
            statement["Resource"].remove(blue_arn)
    policy["Statement"].append(
        {"Effect": "Allow", "Action": ["ecs:DescribeServices"], "Resource": [blue_arn]}
    )
    _as_user(monkeypatch, create_user(policy))

    with enforced(), pytest.raises(CleanupIncomplete) as left:
        _deployer(sandbox, config, tmp_path).deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert left.value.result.state is State.SUCCEEDED  # type: ignore[attr-defined]
    assert "ecs:UpdateService" in left.value.message
    assert (
        f"aws ecs update-service --cluster {stack.cluster} --service {stack.blue_service} "
        "--desired-count 0"
    ) in (left.value.hint or "")
    assert weights(stack) == [(0, 100), (0, 100)]
    with unenforced():
        client = boto3.client("ecs", region_name=stack.region)
        found = client.describe_services(cluster=stack.cluster, services=[blue_arn])
    assert found["services"][0]["desiredCount"] > 0  # blue kept, with no traffic


def _task_sets(stack: SandboxStack) -> list[str]:
    with unenforced():
        client = boto3.client("ecs", region_name=stack.region)
        found = client.describe_services(cluster=stack.cluster, services=[stack.service])
    return [ts["id"] for ts in found["services"][0]["taskSets"]]


@pytest.mark.parametrize(
    ("mode", "load_balancer"), [("service-pair", "application"), ("task-sets", "network")]
)
def test_other_topologies_deploy_with_exactly_their_printed_policy(
    mode: Any,
    load_balancer: Any,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = build_stack(sandbox, mode=mode, load_balancer=load_balancer)
    config = stack.config(
        strategy={"type": "canary", "percent": 10, "bake": "1m"},
        health={"poll_interval": "10s"},
        gates={"bake_after_shift": "1m", "termination_wait": "30s"},
    )
    policy = _deployer(sandbox, config, tmp_path).iam_policy().to_dict()
    _as_user(monkeypatch, create_user(policy))

    with enforced():
        done = _deployer(sandbox, config, tmp_path).deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert done.outcome == "succeeded"
    assert weights(stack) == [(0, 100), (0, 100)]


def test_resources_are_enforced_too_a_listener_left_out_is_refused(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(stack)
    policy = _deployer(sandbox, config, tmp_path).iam_policy().to_dict()
    for statement in policy["Statement"]:
        if statement["Sid"] == "ShiftListenerWeights":
            statement["Resource"].remove(stack.https_listener_arn)
    _as_user(monkeypatch, create_user(policy))

    with enforced(), pytest.raises(BluegreenError) as failed:
        _deployer(sandbox, config, tmp_path).deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert "not authorized to perform: elasticloadbalancing:ModifyListener" in str(failed.value)
    assert weights(stack) == [(100, 0), (100, 0)]  # the first listener was moved back


@pytest.mark.parametrize(
    "missing",
    [
        None,
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:RegisterScalableTarget",
    ],
)
def test_holding_auto_scaling_needs_exactly_its_two_actions(
    missing: str | None,
    sandbox: Sandbox,
    stack: SandboxStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a scalable target on the service (the default holds its scale-in): the printed
    policy holds it and restores it; without either action nothing is brought up."""
    scaling = boto3.client("application-autoscaling", region_name=stack.region)
    resource = f"service/{stack.cluster}/{stack.service}"
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    config = stack.config(gates={"bake_after_shift": "30s", "termination_wait": "10s"})
    policy = _deployer(sandbox, config, tmp_path).iam_policy().to_dict()
    _as_user(monkeypatch, create_user(_without(policy, missing) if missing else policy))

    with enforced():
        bluegreen = _deployer(sandbox, config, tmp_path)
        if missing is None:
            assert bluegreen.deploy(images={"web": f"{IMAGE}:2.0.0"}).outcome == "succeeded"
        else:
            with pytest.raises(BluegreenError) as failed:
                bluegreen.deploy(images={"web": f"{IMAGE}:2.0.0"})
            assert "AccessDenied" in failed.value.message and missing in failed.value.message
            assert weights(stack) == [(100, 0), (100, 0)]
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert not any((target.get("SuspendedState") or {}).values())  # restored, or never held
    rec = bluegreen.store.latest(bluegreen.config.service_key)
    assert rec is not None and rec.green_task_set == (None if missing else rec.green_task_set)
