"""The emergency path through the command line, on the simulated AWS: `--skip-analysis`
on `deploy`, `plan`, `promote` and `resume` (what it does, what the record, `status` and
`--output json` say), the verdicts `deploy` shows as it goes, and the help text."""

from __future__ import annotations

import json

import pytest
from cli_harness import Cli, weights

from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack as Stack
from bluegreen.store.holder import actor

IMAGE = "public.ecr.aws/bluegreen/demo-web"
V2 = f"{IMAGE}:2.0.0"
ERRING = f"{IMAGE}:4.0.0"
ERROR_RATE = {"metrics": [{"name": "error_rate", "max_increase": "25%"}]}


def flat(text: str) -> str:
    """`text` as one line of words: terminal wrapping and rich's help panels undone."""
    return " ".join(text.replace("│", " ").split())


def test_deploy_skip_analysis_pushes_a_release_the_analysis_fails(
    run_cli: Cli, stack: Stack, sandbox: Sandbox
) -> None:
    sandbox.apps[ERRING] = AppModel(error_rate=0.2)
    run_cli.configure(analysis=ERROR_RATE)

    result = run_cli("deploy", "--image", f"web={ERRING}", "--skip-analysis", "--output", "json")

    assert result.exit_code == 0, result.output
    assert weights(stack, stack.http_listener_arn) == {"blue": 0, "green": 100}
    assert weights(stack, stack.https_listener_arn) == {"blue": 0, "green": 100}
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "succeeded"
    assert doc["skip_analysis"]["by"] == actor()
    assert doc["skip_analysis"]["via"] == "deploy"

    shown = json.loads(run_cli("status", "--output", "json").stdout)["deployment"]
    assert shown["skip_analysis"] == doc["skip_analysis"] and shown["analysis"] is None
    text = flat(run_cli("status").stdout)
    assert f"metric analysis skipped: asked by {actor()} at " in text
    assert "(deploy --skip-analysis)" in text


def test_the_same_release_without_the_flag_is_rolled_back(
    run_cli: Cli, stack: Stack, sandbox: Sandbox
) -> None:
    sandbox.apps[ERRING] = AppModel(error_rate=0.2)
    run_cli.configure(analysis=ERROR_RATE)
    result = run_cli("deploy", "--image", f"web={ERRING}")
    assert result.exit_code == 1, result.output
    assert weights(stack, stack.http_listener_arn) == {"blue": 100, "green": 0}


def test_deploy_narrates_each_evaluation_with_its_verdicts(run_cli: Cli, stack: Stack) -> None:
    run_cli.configure(analysis=ERROR_RATE)
    result = run_cli("deploy", "--image", f"web={V2}")
    assert result.exit_code == 0, result.output
    said = result.output
    assert "analysis, " in said
    for column in ("check", "green", "blue", "change", "p-value", "samples", "verdict"):
        assert column in said
    assert "error_rate" in said and " pass " in said


def test_plan_skip_analysis_says_so(run_cli: Cli, stack: Stack) -> None:
    run_cli.configure(analysis=ERROR_RATE)
    planned = run_cli("plan", "--image", f"web={V2}", "--skip-analysis", "--output", "json")
    assert planned.exit_code == 0, planned.output
    steps = {s["action"]: s["detail"] for s in json.loads(planned.stdout)["steps"]}
    assert steps["metric analysis"].startswith("skipped (--skip-analysis)")
    assert "metric check" not in steps
    dry = run_cli("deploy", "--image", f"web={V2}", "--skip-analysis", "--dry-run")
    assert "skipped (--skip-analysis)" in dry.stdout


@pytest.mark.parametrize("command", ["deploy", "plan", "promote", "resume"])
def test_skip_analysis_is_in_the_help(run_cli: Cli, command: str) -> None:
    shown = run_cli(command, "--help")
    assert shown.exit_code == 0
    assert "--skip-analysis" in shown.stdout
    assert "Switch the metric analysis off for the rest of the deployment" in flat(shown.stdout)
    assert "Health gates and alarms are still watched." in flat(shown.stdout)


def test_promote_help_says_it_works_while_a_stage_bakes(run_cli: Cli) -> None:
    shown = flat(run_cli("promote", "--help").stdout)
    assert "or end the bake in progress" in shown
    assert "while a stage bakes" in shown


def test_promote_of_a_finished_deployment_is_refused(run_cli: Cli, stack: Stack) -> None:
    assert run_cli("deploy", "--image", f"web={V2}").exit_code == 0
    refused = run_cli("promote", "--full", "--skip-analysis")
    assert refused.exit_code == 2
    assert "no deployment of this service is in flight to promote" in refused.output


def test_promote_skip_analysis_at_a_pause_is_recorded_with_who_asked(
    run_cli: Cli, stack: Stack, sandbox: Sandbox
) -> None:
    sandbox.apps[ERRING] = AppModel(error_rate=0.2)
    pause_first = [{"weight": 10, "pause": True}, {"weight": 100, "bake": "5m"}]
    run_cli.configure(
        analysis={**ERROR_RATE, "delay": "5m"},  # nothing judged before the pause
        strategy={"type": "steps", "steps": pause_first},
    )
    assert run_cli("deploy", "--image", f"web={ERRING}", "--detach-at-pause").exit_code == 0

    promoted = run_cli("promote", "--skip-analysis", "--output", "json")

    assert promoted.exit_code == 0, promoted.output
    assert weights(stack, stack.http_listener_arn) == {"blue": 0, "green": 100}
    doc = json.loads(promoted.stdout)
    assert doc["outcome"] == "succeeded"  # the erring release went through the 5m bake
    assert doc["skip_analysis"]["via"] == "promote"
    assert doc["skip_analysis"]["by"] == actor()
