"""The CLI when AWS cannot be asked (no credentials, no connection) or the service is taken
(a deployment paused in flight): one clear message, the README's exit code, no traceback,
no retry storm. And `status -o json` keeps the counts that are zero."""

from __future__ import annotations

import json

import pytest
from cli_harness import Cli

from bluegreen.sandbox import Sandbox

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
PAUSE_AT_50 = [{"weight": 50, "pause": True}, {"weight": 100}]
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens on loopback


def first_calls(run_cli: Cli) -> list[str]:
    (deployer,) = run_cli.deployers
    calls: list[str] = deployer.cloud.calls  # type: ignore[attr-defined]
    return calls


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("verify",),
        ("plan", "--image", f"web={V2}"),
        ("deploy", "--image", f"web={V2}"),
    ],
)
def test_no_credentials_is_one_error_exit_2_and_never_retried(
    run_cli: Cli, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.delenv("AWS_SECURITY_TOKEN")

    result = run_cli(*args)

    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.count("no AWS credentials found") == 1, text
    assert "AWS_ACCESS_KEY_ID" in text and "--profile" in text
    assert "Traceback" not in text
    assert len(first_calls(run_cli)) == 1  # the first read fails, and nothing else is tried


@pytest.mark.parametrize(
    "args", [("status",), ("verify",), ("deploy", "--image", f"web={V2}")], ids=str
)
def test_an_unreachable_endpoint_is_named_once_and_given_up_on_within_a_second(
    run_cli: Cli, sandbox: Sandbox, args: tuple[str, ...]
) -> None:
    started = sandbox.clock.now()

    result = run_cli(*args, "--endpoint-url", CLOSED_PORT)

    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.count(f"could not reach the AWS endpoint {CLOSED_PORT}") == 1, text
    assert "--endpoint-url" in text and "throttl" not in text.lower()
    assert "Traceback" not in text
    assert len(first_calls(run_cli)) == 3  # one read, a few quick attempts, then it stops
    assert sandbox.clock.now() - started < 1.0  # the back-off, on the sandbox's clock


def test_a_second_deploy_while_one_is_paused_exits_4_naming_it(run_cli: Cli) -> None:
    run_cli.configure(strategy={"type": "steps", "steps": PAUSE_AT_50})
    paused = run_cli("deploy", "--image", f"web={V2}", "--detach-at-pause", "-o", "json")
    paused_id = json.loads(paused.stdout)["deployment_id"]
    assert paused.exit_code == 0 and json.loads(paused.stdout)["state"] == "PAUSED"

    second = run_cli("deploy", "--image", "web=repo/web:3")
    planned = run_cli("plan", "--image", "web=repo/web:3")

    for refused in (second, planned):
        assert refused.exit_code == 4, refused.output
        text = " ".join(refused.output.split())
        assert f"deployment {paused_id} of this service is in flight (PAUSED)" in text
        assert "Traceback" not in text


def test_status_json_keeps_a_zero_healthy_count(run_cli: Cli) -> None:
    result = run_cli("status", "--output", "json")

    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)["target_groups"]
    assert {g["name"]: g["healthy"] for g in groups} == {"web-blue": 2, "web-green": 0}
    assert {g["name"]: g["unhealthy"] for g in groups} == {"web-blue": 0, "web-green": 0}
