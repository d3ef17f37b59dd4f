"""Smoke checks through the command line on the simulated AWS: `plan` lists them, a failing
one makes `deploy` exit 1 with a message naming the request, what came back and what was
expected, production untouched; `status` and `--output json` show the verdicts. And a
real `bluegreen` process against the sandbox server, whose exports route the smoke checks
to its load balancers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_harness import Cli
from lb_dns import dns_name
from server_harness import FAST, NEW_IMAGE, run_bluegreen, weights

from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.lb_http import LoadBalancerProxy
from bluegreen.sandbox.server import SandboxServer, build_demo_world
from bluegreen.sandbox.stack import SandboxStack, build_stack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
SMOKE = {"http": [{"name": "health", "path": "/health", "count": 3}]}


@pytest.fixture
def stack(sandbox: Sandbox, lb_proxy: LoadBalancerProxy) -> SandboxStack:
    """With the load balancers answering on loopback, as this process's HTTP proxy."""
    return build_stack(sandbox, test_listener=True)


def production(stack: SandboxStack) -> list[dict[str, Any]]:
    elb = boto3.client("elbv2", region_name=stack.region)
    return [
        elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"]
        for arn in (stack.http_listener_arn, stack.https_listener_arn)
    ]


def test_a_failing_smoke_check_exits_1_naming_the_request_and_what_was_expected(
    run_cli: Cli, stack: SandboxStack, sandbox: Sandbox
) -> None:
    sandbox.apps[V2] = AppModel(error_rate=1.0)
    run_cli.configure(analysis=SMOKE)
    before = production(stack)

    result = run_cli("deploy", "--image", f"web={V2}")

    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert (
        "smoke check failed before production traffic moved: health: request 1/3: GET "
        f"http://{dns_name(stack)}:8080/health answered 500 Internal Server Error; body: "
        f"simulated error of {V2}; expected status 200"
    ) in said
    assert production(stack) == before

    status = run_cli("status")
    assert status.exit_code == 0, status.output
    assert "smoke checks:" in status.output
    assert "fail" in status.output and "health: request 1/3" in " ".join(status.output.split())


def test_json_output_and_plan_show_the_smoke_checks(run_cli: Cli, stack: SandboxStack) -> None:
    run_cli.configure(analysis=SMOKE)

    plan = run_cli("plan", "--image", f"web={V2}", "--output", "json")
    assert plan.exit_code == 0, plan.output
    assert {
        "action": "smoke check",
        "detail": f"health: GET http://{dns_name(stack)}:8080/health (through the test "
        "listener), 3 requests every 1s, timeout 5s; expect status 200",
    } in json.loads(plan.stdout)["steps"]

    result = run_cli("deploy", "--image", f"web={V2}", "--output", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "succeeded"
    assert doc["smoke_checks"] == [
        {
            "check": "health",
            "status": "pass",
            "url": f"http://{dns_name(stack)}:8080/health",
            "requests": 3,
            "passed": 3,
            "reason": "",
            "at": doc["smoke_checks"][0]["at"],
        }
    ]


def test_a_path_without_a_test_listener_is_a_configuration_error(
    run_cli: Cli, stack: SandboxStack
) -> None:
    run_cli.configure(analysis=SMOKE, test_listener=None)
    config = run_cli.config.read_text().replace("[test_listener]\n", "")
    config = "\n".join(line for line in config.splitlines() if stack.test_listener_arn not in line)
    run_cli.config.write_text(config)

    result = run_cli("deploy", "--image", f"web={V2}")

    assert result.exit_code == 2, result.output
    assert "analysis.http.0: path '/health' is requested through the test listener" in " ".join(
        result.output.split()
    )


# -- a real process on the sandbox server ------------------------------------------------


def test_a_bluegreen_process_smoke_tests_through_the_servers_load_balancers(
    tmp_path: Path,
) -> None:
    with SandboxServer(Sandbox(), speed=300.0) as server:
        world = build_demo_world(server, test_listener=True)
        server.sandbox.apps[NEW_IMAGE] = AppModel(serves=("/health",))  # 404 on /
        config = tmp_path / "bluegreen.toml"
        smoke = {"http": [{"path": "/health", "count": 2}, {"path": "/", "count": 1}]}
        config.write_text(world.config_toml(**FAST, analysis=smoke))

        done = run_bluegreen(
            server, config, "deploy", "--image", f"web={NEW_IMAGE}", "--yes", "-o", "json"
        )

        assert done.returncode == 1, done.stderr
        doc = json.loads(done.stdout)
        assert [(s["check"], s["status"]) for s in doc["smoke_checks"]] == [
            ("GET /health", "pass"),
            ("GET /", "fail"),
        ]
        assert "GET /: request 1/1: GET http://" in doc["reason"]
        assert "answered 404 Not Found; body: not found; expected status 200" in doc["reason"]
        assert weights(server, world)[:2] == [(100, 0), (100, 0)]
