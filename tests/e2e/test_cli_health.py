"""`bluegreen deploy` says how green's health stands while it waits, one line each time the
picture changes (not one per poll), and a green that will never be healthy ends the
deployment early — in text and in JSON output."""

from __future__ import annotations

import json
import re

from cli_harness import Cli, task_sets, weights

from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack as Stack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
STARTING = "green 0/2 healthy: 2 initial"
FAILING = (
    "green 0/2 healthy: 2 unhealthy (Target.ResponseCodeMismatch on /health); "
    "rolling back in 20s unless a target recovers"
)


def narration(stderr: str) -> list[str]:
    """The narrated WAITING_HEALTHY events of the text output, each on one line again (rich
    wraps long ones), without the log lines around them."""
    entries: list[str] = []
    for line in stderr.splitlines():
        starts = re.match(r"\d{4}-\d\d-\d\dT|[A-Z_]+ {2,}|[A-Z_]{16} |error:", line)
        if starts or not entries:
            entries.append(line)
        else:
            entries[-1] += " " + line.strip()
    return [" ".join(e.split()) for e in entries if e.startswith("WAITING_HEALTHY ")]


def test_deploy_narrates_green_failing_its_checks_then_rolls_back(
    run_cli: Cli, stack: Stack, sandbox: Sandbox
) -> None:
    sandbox.apps[V2] = AppModel(serves=("/api",))  # so /health answers 404
    result = run_cli("deploy", "--image", f"web={V2}")

    assert result.exit_code == 1, result.output
    assert narration(result.stderr) == [
        "WAITING_HEALTHY entered WAITING_HEALTHY",
        "WAITING_HEALTHY green 0/2 healthy: no target registered yet",
        f"WAITING_HEALTHY {STARTING}",
        f"WAITING_HEALTHY {FAILING}",
        "WAITING_HEALTHY green 0/2 healthy: 2 initial, 2 unhealthy "
        "(Target.ResponseCodeMismatch on /health); rolling back in 5s unless a target recovers",
    ]
    assert "will not become healthy" in " ".join(result.stderr.split())
    assert weights(stack, stack.http_listener_arn) == {"blue": 100, "green": 0}
    assert [ts["id"] for ts in task_sets(stack)] == [stack.blue_task_set_id]


def test_a_good_release_says_it_is_starting_once(run_cli: Cli) -> None:
    result = run_cli("deploy", "--image", f"web={V2}")

    assert result.exit_code == 0, result.output
    assert narration(result.stderr) == [
        "WAITING_HEALTHY entered WAITING_HEALTHY",
        "WAITING_HEALTHY green 0/2 healthy: no target registered yet",
        f"WAITING_HEALTHY {STARTING}",
        "WAITING_HEALTHY green is healthy",
    ]


def test_json_output_stays_one_document_and_the_logs_json_lines(
    run_cli: Cli, sandbox: Sandbox
) -> None:
    sandbox.apps[V2] = AppModel(serves=("/api",))
    result = run_cli("deploy", "--image", f"web={V2}", "--output", "json", "--log-format", "json")

    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "rolled_back" and doc["duration_seconds"] < 60
    assert doc["reason"].startswith("green will not become healthy")
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    waiting = [e["event"] for e in logged if e["state"] == "WAITING_HEALTHY"]
    assert waiting[2:4] == [STARTING, FAILING]
    assert all(e["deployment_id"] == doc["deployment_id"] for e in logged)
