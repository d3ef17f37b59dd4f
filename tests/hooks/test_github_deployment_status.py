"""hooks/github_deployment_status.py against a real HTTP server on 127.0.0.1 standing in
for GitHub's REST API (GITHUB_API_URL): the request it makes, the state each hook event
maps to, and that the token is sent but never printed."""

from __future__ import annotations

import json

import pytest
from hook_programs import Run, context
from webhook_receiver import Answer, Receiver

from bluegreen.machine import HookEvent, State

TOKEN = "ghp_T0pS3cr3tT0k3nValue"
CREATED = Answer(201, json.dumps({"id": 991, "state": "whatever"}))


def github(receiver: Receiver, **more: str) -> dict[str, str]:
    return {
        "GITHUB_API_URL": receiver.url + "/api/v3/",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_DEPLOYMENT_ID": "42",
        **more,
    }


@pytest.mark.parametrize(
    ("event", "state", "expected"),
    [
        (HookEvent.PRE_PROVISION, State.PREFLIGHT, "in_progress"),
        (HookEvent.POST_SHIFT, State.SHIFTING, "in_progress"),
        (HookEvent.ON_SUCCESS, State.SUCCEEDED, "success"),
        (HookEvent.ON_ROLLBACK, State.ROLLED_BACK, "failure"),
        (HookEvent.ON_FAILURE, State.FAILED, "failure"),
        (HookEvent.FINALLY, State.SUCCEEDED, "success"),
        (HookEvent.FINALLY, State.ROLLED_BACK, "failure"),
    ],
)
def test_creates_a_status_whose_state_follows_the_event(
    run_hook: Run, receiver: Receiver, event: HookEvent, state: State, expected: str
) -> None:
    receiver.answer(CREATED)
    ran = run_hook(
        "github_deployment_status.py",
        ctx=context(event, state, reason="alarm web-5xx fired"),
        env=github(receiver),
    )
    assert ran.code == 0, ran.output
    [got] = receiver.received
    assert (got.method, got.path) == ("POST", "/api/v3/repos/acme/shop/deployments/42/statuses")
    assert got.headers["Authorization"] == f"Bearer {TOKEN}"
    assert got.headers["Accept"] == "application/vnd.github+json"
    body = json.loads(got.body)
    assert body["state"] == expected
    assert body["description"].startswith(f"web {event.value}: {state.value} → web:42")
    assert len(body["description"]) <= 140
    assert f"acme/shop deployment 42 is {expected} (status 991)" in ran.stdout
    assert TOKEN not in ran.output


def test_arguments_override_and_add_to_the_status(run_hook: Run, receiver: Receiver) -> None:
    receiver.answer(CREATED)
    env = github(receiver)
    del env["GITHUB_DEPLOYMENT_ID"]
    ran = run_hook(
        "github_deployment_status.py",
        "--deployment-id", "7",
        "--state", "queued",
        "--environment", "production",
        "--environment-url", "https://shop.example.com",
        "--log-url", "https://ci.example.com/run/1",
        env=env,
    )  # fmt: skip
    assert ran.code == 0, ran.output
    [got] = receiver.received
    assert got.path == "/api/v3/repos/acme/shop/deployments/7/statuses"
    body = json.loads(got.body)
    assert {k: v for k, v in body.items() if k != "description"} == {
        "state": "queued",
        "environment": "production",
        "environment_url": "https://shop.example.com",
        "log_url": "https://ci.example.com/run/1",
    }


@pytest.mark.parametrize(("strict", "code"), [((), 0), (("--strict",), 1)])
def test_github_refusing_fails_only_when_strict_and_hides_the_token(
    run_hook: Run, receiver: Receiver, strict: tuple[str, ...], code: int
) -> None:
    receiver.answer(Answer(401, json.dumps({"message": f"Bad credentials {TOKEN}"})))
    ran = run_hook("github_deployment_status.py", *strict, env=github(receiver))
    assert ran.code == code
    assert "not reported: GitHub answered 401: Bad credentials ***" in ran.stderr
    assert TOKEN not in ran.output


@pytest.mark.parametrize(
    ("missing", "said"),
    [
        ("GITHUB_TOKEN", "GITHUB_TOKEN is not set"),
        ("GITHUB_REPOSITORY", "not owner/repo"),
        ("GITHUB_DEPLOYMENT_ID", "no deployment id"),
    ],
)
def test_a_missing_setting_sends_nothing_and_fails_only_when_strict(
    run_hook: Run, receiver: Receiver, missing: str, said: str
) -> None:
    env = github(receiver)
    del env[missing]
    lenient = run_hook("github_deployment_status.py", env=env)
    strict = run_hook("github_deployment_status.py", "--strict", env=env)
    assert (lenient.code, strict.code) == (0, 2)
    assert said in lenient.stderr and said in strict.stderr
    assert receiver.received == []
