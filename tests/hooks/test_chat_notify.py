"""hooks/chat_notify.py against a real HTTP server on 127.0.0.1 standing in for a chat
service's incoming webhook: the message it posts, in each format, and that a failed
notification never fails the deployment unless asked to."""

from __future__ import annotations

import json

import pytest
from hook_programs import Run, context
from webhook_receiver import Answer, Receiver

from bluegreen.machine import HookEvent, State

SECRET_PATH = "/services/T000/B000/XXXXsecretXXXX"  # a webhook URL is a credential
LINE = (
    "bluegreen: web (prod) on_rollback: ROLLED_BACK, web:41 → web:42, green at 10%: "
    "alarm web-5xx fired [deployment d-7f3a]"
)


def rolled_back() -> dict[str, object]:
    return context(HookEvent.ON_ROLLBACK, State.ROLLED_BACK, reason="alarm web-5xx\nfired")


@pytest.mark.parametrize(
    ("fmt", "content_type", "expected"),
    [
        ("slack", "application/json", {"text": LINE}),
        ("plain", "text/plain; charset=utf-8", LINE),
        ("teams", "application/json", None),  # a MessageCard: checked below
    ],
)
def test_posts_one_line_about_the_deployment(
    run_hook: Run, receiver: Receiver, fmt: str, content_type: str, expected: object
) -> None:
    ran = run_hook(
        "chat_notify.py",
        "--format",
        fmt,
        ctx=rolled_back(),
        env={"CHAT_WEBHOOK_URL": receiver.url + SECRET_PATH},
    )
    assert ran.code == 0, ran.output
    [got] = receiver.received
    assert (got.method, got.path, got.headers["Content-Type"]) == (
        "POST",
        SECRET_PATH,
        content_type,
    )
    body = got.body.decode()
    if fmt == "plain":
        assert body == expected
    elif fmt == "slack":
        assert json.loads(body) == expected
    else:
        card = json.loads(body)
        assert (card["@type"], card["text"], card["themeColor"]) == ("MessageCard", LINE, "DAA038")
    assert "secret" not in ran.output and receiver.url not in ran.output
    assert LINE in ran.stdout


def test_another_variable_can_hold_the_url(run_hook: Run, receiver: Receiver) -> None:
    # Green's weight is news only while traffic moves: at 100 % the line leaves it out.
    ctx = context(HookEvent.ON_SUCCESS, State.SUCCEEDED) | {"green_weight": 100}
    env = {"TEAM_HOOK": receiver.url + "/x"}
    ran = run_hook("chat_notify.py", "--webhook-env", "TEAM_HOOK", ctx=ctx, env=env)
    assert ran.code == 0, ran.output
    assert json.loads(receiver.received[0].body) == {
        "text": "bluegreen: web (prod) on_success: SUCCEEDED, web:41 → web:42 [deployment d-7f3a]"
    }


@pytest.mark.parametrize(("strict", "code"), [((), 0), (("--strict",), 1)])
def test_a_failed_notification_fails_only_when_strict(
    run_hook: Run, receiver: Receiver, strict: tuple[str, ...], code: int
) -> None:
    receiver.answer(Answer(500, "down"))
    ran = run_hook("chat_notify.py", *strict, env={"CHAT_WEBHOOK_URL": receiver.url + SECRET_PATH})
    assert ran.code == code
    assert "not posted: the webhook answered 500" in ran.stderr
    assert "secret" not in ran.output


@pytest.mark.parametrize(("strict", "code"), [((), 0), (("--strict",), 2)])
def test_no_webhook_url_fails_only_when_strict(
    run_hook: Run, receiver: Receiver, strict: tuple[str, ...], code: int
) -> None:
    ran = run_hook("chat_notify.py", *strict)
    assert ran.code == code
    assert "$CHAT_WEBHOOK_URL is not set" in ran.stderr
    assert receiver.received == []
