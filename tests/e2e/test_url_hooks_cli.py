"""Url hooks through the CLI on the simulated AWS, posting to a real receiver on loopback:
configuration mistakes exit 2 before any AWS call, `plan` lists the hook without its
secrets, and a deployment is gated by what the receiver answers — its secrets never in
the output or the records."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_harness import Cli, task_sets
from webhook_receiver import Answer, Receiver

from bluegreen.cli import shared as cli
from bluegreen.sandbox import Sandbox

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
TOKEN = "tok-0e1f2a3b4c"
SECRET = "whsec-6d7e8f9a"
SECRET_ENV = "BG_E2E_WEBHOOK_SECRET"


def url_hook(url: str, **keys: Any) -> dict[str, Any]:
    return {"event": "pre_provision", "url": url, "timeout": "10s", **keys}


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("hook", "says"),
    [
        (
            url_hook("ftp://hooks.example.com/deploy"),
            "hooks.0.url: a URL is http:// or https:// (got ftp:)",
        ),
        (
            url_hook("https://hooks.example.com/deploy", secret_env="BG_E2E_NOT_SET"),
            "hooks.0.secret_env: the environment variable BG_E2E_NOT_SET is not set",
        ),
        (
            url_hook("https://hooks.example.com/deploy", retry=2),
            "hooks.0.retry: unknown key (allowed here:",
        ),
        (
            {"event": "pre_provision", "command": ["true"], "headers": {"A": "b"}},
            "headers is only for url hooks",
        ),
    ],
    ids=["scheme", "secret env", "unknown key", "command with headers"],
)
def test_a_url_hook_mistake_exits_2_naming_the_key(
    run_cli: Cli, sandbox: Sandbox, hook: dict[str, Any], says: str
) -> None:
    run_cli.configure(hooks=[hook])
    made = len(sandbox.faults.operations)  # the stack's own set-up

    for args in (("plan", "--image", f"web={V2}"), ("deploy", "--image", f"web={V2}")):
        result = run_cli(*args)

        assert result.exit_code == 2, result.output
        assert says in one_line(result.output)
        assert "Traceback" not in result.output
    assert sandbox.faults.operations[made:] == []  # refused before any AWS call


def test_the_missing_secret_says_how_to_fix_it(run_cli: Cli) -> None:
    run_cli.configure(hooks=[url_hook("https://h.example/x", secret_env="BG_E2E_NOT_SET")])
    text = one_line(run_cli("plan", "--image", f"web={V2}").output)
    assert "export BG_E2E_NOT_SET=" in text and "remove secret_env" in text


def test_plan_lists_a_url_hook_without_its_secrets(
    run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.out, "width", 400)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    hook = url_hook(
        "https://hooks.example.com/deploy?token=q1w2e3r4",
        headers={"Authorization": f"Bearer {TOKEN}"},
        secret_env=SECRET_ENV,
    )
    run_cli.configure(hooks=[hook])

    text = run_cli("plan", "--image", f"web={V2}")
    as_json = run_cli("plan", "--image", f"web={V2}", "--output", "json")

    assert text.exit_code == as_json.exit_code == 0, text.output
    (step,) = [s for s in json.loads(as_json.stdout)["steps"] if s["action"].startswith("hook")]
    assert step == {
        "action": "hook pre_provision",
        "detail": "POST https://hooks.example.com/deploy?***",
    }
    assert "hook pre_provision" in text.output and "POST https://hooks.example.com" in text.output
    for secret in (TOKEN, SECRET, "q1w2e3r4"):
        assert secret not in text.output + as_json.output


def test_a_2xx_lets_the_deployment_go_on_with_a_signed_context(
    run_cli: Cli, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    run_cli.configure(hooks=[url_hook(f"{receiver.url}/gate", secret_env=SECRET_ENV)])

    result = run_cli("deploy", "--image", f"web={V2}", "--output", "json")

    assert result.exit_code == 0, result.output
    (got,) = receiver.received
    assert got.signed_with(SECRET)
    context = json.loads(got.body)
    assert context["event"] == "pre_provision"
    assert context["deployment_id"] == json.loads(result.stdout)["deployment_id"]


def test_a_refusal_stops_the_deployment_and_its_secrets_stay_out(
    run_cli: Cli, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    receiver.echo_headers = True  # a receiver that answers with what it was sent
    receiver.answer(Answer(403))
    hook = url_hook(
        f"{receiver.url}/gate",
        headers={"Authorization": f"Bearer {TOKEN}", "X-Team": "payments-team"},
        secret_env=SECRET_ENV,
    )
    run_cli.configure(hooks=[hook])
    before = task_sets(run_cli.stack)

    result = run_cli("deploy", "--image", f"web={V2}", "--output", "json")

    assert result.exit_code == 1, result.output
    reason = json.loads(result.stdout)["reason"]
    assert f"hook POST {receiver.url}/gate failed at pre_provision" in reason
    assert "answered 403 Forbidden; body: " in reason and "Authorization: ***" in reason
    assert task_sets(run_cli.stack) == before  # stopped before anything changed
    records = list((run_cli.config.parent / ".bluegreen").rglob("*.json"))
    assert records
    for secret in (TOKEN, SECRET, "payments-team"):
        assert secret not in result.output
        assert all(secret not in r.read_text() for r in records)
