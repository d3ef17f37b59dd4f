"""`bluegreen` end to end through the CLI, on moto, on virtual time. Assertions are on AWS:
listener weights, task sets, task definitions."""

from __future__ import annotations

import json

import boto3
import pytest
from cli_harness import Cli, task_sets, weights

from bluegreen import aws as bluegreen_aws
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack as Stack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
PAUSE_AT_50 = [{"weight": 10, "bake": "1m"}, {"weight": 50, "pause": True}, {"weight": 100}]


def test_deploy_moves_http_and_https_to_green_and_retires_blue(run_cli: Cli, stack: Stack) -> None:
    result = run_cli("deploy", "--image", f"web={V2}")

    assert result.exit_code == 0, result.output
    assert weights(stack, stack.http_listener_arn) == {"blue": 0, "green": 100}
    assert weights(stack, stack.https_listener_arn) == {"blue": 0, "green": 100}
    (green,) = task_sets(stack)
    assert green["status"] == "PRIMARY"
    assert green["loadBalancers"][0]["targetGroupArn"] == stack.green_tg_arn
    ecs = boto3.client("ecs", region_name=stack.region)
    definition = ecs.describe_task_definition(taskDefinition=green["taskDefinition"])[
        "taskDefinition"
    ]
    assert definition["containerDefinitions"][0]["image"] == V2
    assert definition["revision"] == 2 and definition["networkMode"] == "awsvpc"
    assert "SUCCEEDED" in result.output


def test_the_next_deployment_goes_back_to_blue(run_cli: Cli, stack: Stack) -> None:
    assert run_cli("deploy", "--image", f"web={V2}").exit_code == 0
    result = run_cli("deploy", "--image", "web=repo/web:3")
    assert result.exit_code == 0, result.output
    assert weights(stack, stack.http_listener_arn) == {"blue": 100, "green": 0}
    (live,) = task_sets(stack)
    assert live["loadBalancers"][0]["targetGroupArn"] == stack.blue_tg_arn


def test_green_failing_health_checks_rolls_back(
    run_cli: Cli, stack: Stack, sandbox: Sandbox
) -> None:
    sandbox.apps[V2] = AppModel(serves=("/api",))  # so /health answers 404
    result = run_cli("deploy", "--image", f"web={V2}")

    assert result.exit_code == 1, result.output
    assert weights(stack, stack.http_listener_arn) == {"blue": 100, "green": 0}
    assert weights(stack, stack.https_listener_arn) == {"blue": 100, "green": 0}
    (blue,) = task_sets(stack)
    assert blue["id"] == stack.blue_task_set_id and blue["status"] == "PRIMARY"
    text = " ".join(result.output.split())
    assert (
        "Target.ResponseCodeMismatch" in text and "path /health" in text and "expecting 200" in text
    )


def test_plan_makes_no_mutating_call(
    run_cli: Cli, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = task_sets(stack)
    result = run_cli("plan", "--image", f"web={V2}")

    assert result.exit_code == 0, result.output
    (deployer,) = run_cli.deployers
    calls = deployer.cloud.calls  # type: ignore[attr-defined]
    assert calls and deployer.cloud.mutating_calls() == []  # type: ignore[attr-defined]
    assert task_sets(stack) == before
    assert weights(stack, stack.http_listener_arn) == {"blue": 100, "green": 0}
    assert "create green task set" in result.output


def test_dry_run_prints_the_same_plan(run_cli: Cli) -> None:
    planned = run_cli("plan", "--image", f"web={V2}", "--output", "json")
    dry = run_cli("deploy", "--image", f"web={V2}", "--dry-run", "--output", "json")
    assert json.loads(planned.stdout) == json.loads(dry.stdout)
    assert all(not d.cloud.mutating_calls() for d in run_cli.deployers)  # type: ignore[attr-defined]


def test_a_bad_configuration_exits_2_with_no_aws_call(
    run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_aws(**_: object) -> None:
        raise AssertionError("AWS was called")

    monkeypatch.setattr(bluegreen_aws, "connect", no_aws)
    run_cli.configure(health={"timeout": "5 minutes"})
    result = run_cli("deploy", "--image", f"web={V2}")

    assert result.exit_code == 2
    assert "health.timeout" in result.output and "Traceback" not in result.output


def test_json_output_is_one_document(run_cli: Cli, stack: Stack) -> None:
    result = run_cli("deploy", "--image", f"web={V2}", "--output", "json")
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "succeeded" and doc["state"] == "SUCCEEDED"
    assert doc["final_weights"][stack.http_listener_arn] == {
        stack.blue_tg_arn: 0,
        stack.green_tg_arn: 100,
    }
    assert doc["to_task_definition"].endswith(":2")


def test_pause_detach_then_rollback_from_the_cli(run_cli: Cli, stack: Stack) -> None:
    run_cli.configure(strategy={"type": "steps", "steps": PAUSE_AT_50})
    paused = run_cli("deploy", "--image", f"web={V2}", "--detach-at-pause")
    assert paused.exit_code == 0 and "PAUSED" in paused.output
    assert weights(stack, stack.https_listener_arn) == {"blue": 50, "green": 50}

    status = run_cli("status", "--output", "json")
    assert json.loads(status.stdout)["deployment"]["state"] == "PAUSED"

    rolled = run_cli("rollback", "--reason", "canary looked bad")
    assert rolled.exit_code == 0, rolled.output
    assert (
        weights(stack, stack.http_listener_arn)
        == weights(stack, stack.https_listener_arn)
        == {"blue": 100, "green": 0}
    )
    assert [ts["id"] for ts in task_sets(stack)] == [stack.blue_task_set_id]


def test_pause_then_promote_from_the_cli(run_cli: Cli, stack: Stack) -> None:
    run_cli.configure(strategy={"type": "steps", "steps": PAUSE_AT_50})
    assert run_cli("deploy", "--image", f"web={V2}", "--detach-at-pause").exit_code == 0
    promoted = run_cli("promote")
    assert promoted.exit_code == 0, promoted.output
    assert weights(stack, stack.http_listener_arn) == {"blue": 0, "green": 100}


def test_status_shows_weights_and_health(run_cli: Cli) -> None:
    result = run_cli("status", "--output", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["live_target_group"] == "web-blue"
    assert doc["routes"][0]["weights"] == {"web-blue": 100, "web-green": 0}
    assert {g["name"]: g.get("healthy", 0) for g in doc["target_groups"]} == {
        "web-blue": 2,
        "web-green": 0,
    }


def test_a_missing_listener_is_a_clear_error(run_cli: Cli, stack: Stack) -> None:
    dead = stack.https_listener_arn[:-4] + "dead"
    run_cli.configure(listeners=[{"arn": stack.http_listener_arn}, {"arn": dead}])
    result = run_cli("deploy", "--image", f"web={V2}")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "listener" in result.output.lower()


def test_a_listener_rule_moves_with_the_listeners_and_keeps_its_condition(
    run_cli: Cli, stack: Stack
) -> None:
    elb = boto3.client("elbv2", region_name=stack.region)
    forward = elb.describe_listeners(ListenerArns=[stack.http_listener_arn])["Listeners"][0]
    api_rule = elb.create_rule(
        ListenerArn=stack.http_listener_arn,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api*"]}}],
        Actions=forward["DefaultActions"],
    )["Rules"][0]["RuleArn"]
    run_cli.configure(
        listeners=[
            {"arn": stack.http_listener_arn},
            {"arn": stack.https_listener_arn},
            {"rule": api_rule},
        ]
    )
    result = run_cli("deploy", "--image", f"web={V2}")

    assert result.exit_code == 0, result.output
    (rule,) = elb.describe_rules(RuleArns=[api_rule])["Rules"]
    groups = {
        g["TargetGroupArn"]: g["Weight"]
        for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
    }
    assert groups == {stack.blue_tg_arn: 0, stack.green_tg_arn: 100}
    assert rule["Conditions"][0]["PathPatternConfig"]["Values"] == ["/api*"]
    assert weights(stack, stack.http_listener_arn) == {"blue": 0, "green": 100}


def test_history_shows_the_outcome(run_cli: Cli) -> None:
    assert run_cli("deploy", "--image", f"web={V2}").exit_code == 0
    result = run_cli("history", "--output", "json")
    assert result.exit_code == 0, result.output
    assert [d["outcome"] for d in json.loads(result.stdout)] == ["succeeded"]


def test_json_logs_on_stderr(run_cli: Cli) -> None:
    result = run_cli("deploy", "--image", f"web={V2}", "--log-format", "json", "--output", "json")
    log_lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(entry.get("event") == "entered SUCCEEDED" for entry in log_lines)
    assert json.loads(result.stdout)["outcome"] == "succeeded"


def test_deploy_a_whole_task_definition_from_a_describe_answer(run_cli: Cli, stack: Stack) -> None:
    ecs = boto3.client("ecs", region_name=stack.region)
    described = ecs.describe_task_definition(
        taskDefinition=stack.task_definition_arn, include=["TAGS"]
    )
    described.pop("ResponseMetadata")
    described["taskDefinition"]["containerDefinitions"][0]["image"] = V2
    path = run_cli.config.parent / "taskdef.json"
    path.write_text(json.dumps(described, default=str))

    result = run_cli("deploy", "--task-definition", "taskdef.json")

    assert result.exit_code == 0, result.output
    (green,) = task_sets(stack)
    definition = ecs.describe_task_definition(taskDefinition=green["taskDefinition"])[
        "taskDefinition"
    ]
    assert definition["containerDefinitions"][0]["image"] == V2 and definition["revision"] == 2


def test_status_watch_refreshes_until_its_count(run_cli: Cli) -> None:
    result = run_cli("status", "--watch", "--count", "2", "--interval", "0.2", "-o", "json")
    assert result.exit_code == 0, result.output
    snapshots = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(snapshots) == 2
    assert all(s["live_target_group"] == "web-blue" for s in snapshots)

    text = run_cli("status", "--watch", "--count", "1")
    assert text.exit_code == 0 and "live target group web-blue" in text.stdout


AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example key
HOOK_SECRETS = ["sk_live_51HxYzAbCdEfGhIjKl", "AKIAIOSFODNN7EXAMPLE", AWS_SECRET, "hunter2-pw"]


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_a_hooks_secrets_reach_neither_the_output_the_logs_nor_the_record(
    run_cli: Cli, log_format: str
) -> None:
    # A command hook prints secrets and succeeds (its output is logged); a Python hook then
    # fails with secrets in its message (the message becomes the record's reason and the
    # JSON result's). Kills, in redact.py, the prefixed-token and secret-key substitutions
    # (`text = _PREFIXED_TOKEN_RE.sub(MASK, text)` / `_AWS_SECRET_KEY_RE.sub(…)` removed).
    folder = run_cli.config.parent
    (folder / "leaky_smoke_hook.py").write_text(
        "def check(context):\n"
        f"    raise RuntimeError('charge failed with {HOOK_SECRETS[0]} as "
        f"{HOOK_SECRETS[1]} (aws_secret_access_key {AWS_SECRET})')\n"
    )
    printed = "; ".join(
        [
            f"echo 'using {HOOK_SECRETS[0]}'",
            f"echo 'aws configure set aws_secret_access_key {AWS_SECRET}'",
            f"echo 'key id {HOOK_SECRETS[1]}'",
            f"echo 'DB_PASSWORD={HOOK_SECRETS[3]}'",
        ]
    )
    run_cli.configure(
        hooks=[
            {"event": "post_provision", "command": [printed], "shell": True},
            {"event": "post_provision", "python": "leaky_smoke_hook:check"},
        ]
    )

    result = run_cli(
        "deploy", "--image", f"web={V2}", "--output", "json", "--log-format", log_format
    )

    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["outcome"] == "rolled_back"
    assert "charge failed with ***" in document["reason"]
    assert "using ***" in result.stderr  # the command hook's output was logged, redacted
    records = [p.read_text() for p in (folder / ".bluegreen").rglob("*.json")]
    assert any("charge failed with ***" in text for text in records)
    for secret in HOOK_SECRETS:
        assert secret not in result.stdout
        assert secret not in result.stderr
        assert all(secret not in text for text in records)
