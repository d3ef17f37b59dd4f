"""Url hooks against a real HTTP server on 127.0.0.1 (tests/webhook_receiver.py).

Delivery is real time (a socket cannot wait on a virtual clock): every test either gets an
answer at once or stops within about a second, and the back-off is shortened to
milliseconds except where its bound is what is tested.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest
from structlog.testing import capture_logs
from webhook_receiver import Answer, Receiver

from bluegreen.errors import ConfigError
from bluegreen.hooks import webhook
from bluegreen.hooks.runner import HookEvent, HookRunner, HookSpec
from bluegreen.redact import Redactor

CONTEXT: dict[str, Any] = {"deployment_id": "bg-1", "service": "web", "green_weight": 10}
TOKEN = "tok-3f9a1c77e2"
API_KEY = "k3y-71d0c2aa"
TENANT = "tenant-4471aa"  # under a name no pattern takes for a secret's
SECRET = "whsec-5b8e0f42"


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook, "BACKOFF_BASE_SECONDS", 0.01)


def url_hook(receiver: Receiver, path: str = "/deploy", **kwargs: Any) -> HookSpec:
    kwargs.setdefault("event", HookEvent.POST_SHIFT)
    return HookSpec(name="notify", url=receiver.url + path, **kwargs)


def run(spec: HookSpec, runner: HookRunner | None = None) -> Any:
    return (runner or HookRunner(Redactor())).run(spec, CONTEXT)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/deploy"  # closed again: connections are refused


# --- answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 202, 204, 299])
def test_a_2xx_answer_passes_and_the_body_is_the_context(receiver: Receiver, status: int) -> None:
    receiver.answer(Answer(status, "" if status == 204 else "queued"))

    result = run(url_hook(receiver))

    assert result.succeeded and result.error is None
    (got,) = receiver.received
    assert (got.method, got.path) == ("POST", "/deploy")
    assert got.headers["Content-Type"] == "application/json"
    assert json.loads(got.body) == {**CONTEXT, "event": "post_shift"}


def test_a_500_is_retried_then_fails_naming_the_status_and_the_body(receiver: Receiver) -> None:
    receiver.answer(*[Answer(500, "database\n  unreachable")] * 3, Answer(200))

    result = run(url_hook(receiver, retries=2))

    assert len(receiver.received) == 3  # the first try and two retries, not a fourth
    assert not result.succeeded and not result.timed_out
    assert result.error == (
        f"POST {receiver.url}/deploy answered 500 Internal Server Error; "
        "body: database unreachable (after 3 tries)"
    )


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_5xx_or_429_then_a_2xx_passes(receiver: Receiver, status: int) -> None:
    receiver.answer(Answer(status, "busy"), Answer(200))
    assert run(url_hook(receiver, retries=1)).succeeded
    assert len(receiver.received) == 2
    bodies = {r.body for r in receiver.received}
    assert len(bodies) == 1  # the same bytes each time (and so the same signature)


def test_no_retry_unless_configured(receiver: Receiver) -> None:
    receiver.answer(Answer(503, "busy"), Answer(200))
    result = run(url_hook(receiver))
    assert not result.succeeded and len(receiver.received) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 409])
def test_a_4xx_is_not_retried(receiver: Receiver, status: int) -> None:
    receiver.answer(Answer(status, "no such hook"), Answer(200))

    result = run(url_hook(receiver, retries=3))

    assert len(receiver.received) == 1
    assert result.error is not None and result.error.startswith(
        f"POST {receiver.url}/deploy answered {status} "
    )
    assert result.error.endswith("; body: no such hook")


def test_a_redirect_is_not_followed_and_fails(receiver: Receiver) -> None:
    receiver.answer(Answer(302, "", {"Location": "/elsewhere"}))

    result = run(url_hook(receiver, retries=2))

    assert [r.path for r in receiver.received] == ["/deploy"]  # no GET to /elsewhere
    assert not result.succeeded
    assert "302 Found (redirects are not followed: give the final URL)" in (result.error or "")


def test_a_refused_connection_is_retried_then_fails() -> None:
    spec = HookSpec(event=HookEvent.POST_SHIFT, name="n", url=closed_port_url(), retries=2)
    result = run(spec)
    assert not result.succeeded
    assert result.error is not None and "got no answer: ConnectionRefusedError" in result.error
    assert result.error.endswith("(after 3 tries)")


def test_a_429_waits_its_retry_after(receiver: Receiver) -> None:
    receiver.answer(Answer(429, "slow down", {"Retry-After": "1"}), Answer(200))
    started = time.monotonic()
    assert run(url_hook(receiver, retries=1)).succeeded
    assert time.monotonic() - started >= 1.0  # not the 10 ms back-off


def test_the_body_excerpt_is_short_one_line_and_redacted(receiver: Receiver) -> None:
    receiver.answer(Answer(500, "password=hunter2\n" + "x" * 20_000))

    result = run(url_hook(receiver))

    assert result.error is not None and "hunter2" not in result.error
    assert result.error.startswith(
        f"POST {receiver.url}/deploy answered 500 Internal Server Error; body: password=*** xxx"
    )
    assert len(result.error) < len(receiver.url) + 300
    assert "hunter2" not in result.output and len(result.output) <= 8 * 1024 + 40


def test_the_url_query_is_not_shown(receiver: Receiver) -> None:
    receiver.answer(Answer(404, ""))
    result = run(url_hook(receiver, path="/deploy?sig=abc123def"))
    assert receiver.received[0].path == "/deploy?sig=abc123def"  # sent as given
    assert result.error == f"POST {receiver.url}/deploy?*** answered 404 Not Found"


# --- signature and secrets ---------------------------------------------------------------


def test_the_signature_is_the_hmac_of_the_exact_body(receiver: Receiver) -> None:
    assert run(url_hook(receiver, signing_secret=SECRET)).succeeded

    (got,) = receiver.received
    assert got.headers["X-Bluegreen-Signature"].startswith("sha256=")
    assert got.signed_with(SECRET)
    assert not got.signed_with(SECRET + "x")


def test_no_signature_without_a_secret(receiver: Receiver) -> None:
    assert run(url_hook(receiver)).succeeded
    assert "X-Bluegreen-Signature" not in receiver.received[0].headers


def test_header_values_and_the_secret_never_come_back_out(receiver: Receiver) -> None:
    # The receiver answers 500 with every header it was sent: output, error, logs and the
    # spec's repr must still hold none of the secrets (the wire does).
    receiver.echo_headers = True
    receiver.answer(Answer(500))
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Api-Key": API_KEY, "X-Tenant": TENANT}
    spec = url_hook(receiver, headers=headers, signing_secret=SECRET)

    with capture_logs() as logs:
        result = run(spec)

    sent = receiver.received[0].headers
    assert sent["Authorization"] == f"Bearer {TOKEN}" and sent["X-Api-Key"] == API_KEY
    assert sent["X-Tenant"] == TENANT
    assert not result.succeeded and "X-Tenant: ***" in result.output
    shown = repr(logs) + result.output + (result.error or "") + repr(spec) + repr(result)
    for secret in (TOKEN, API_KEY, TENANT, SECRET):
        assert secret not in shown


def test_a_credential_echoed_without_its_scheme_is_masked_too(receiver: Receiver) -> None:
    receiver.answer(Answer(401, f"rejected {TOKEN}"))
    result = run(url_hook(receiver, headers={"Authorization": f"Bearer {TOKEN}"}))
    assert result.error is not None and result.error.endswith("; body: rejected ***")
    assert TOKEN not in result.output


# --- time --------------------------------------------------------------------------------


def test_no_answer_times_out_within_the_hooks_timeout(receiver: Receiver) -> None:
    receiver.hang = True
    started = time.monotonic()

    result = run(url_hook(receiver, timeout_seconds=0.5, retries=3))

    assert time.monotonic() - started < 1.5
    assert result.timed_out and not result.succeeded
    assert result.error == (f"POST {receiver.url}/deploy: no answer within the hook's 0.5s timeout")
    assert len(receiver.received) == 1  # a timeout is not retried: the time is up


def test_a_socket_timing_out_is_no_answer_and_not_retried(receiver: Receiver) -> None:
    # The try's socket times out when the hook's time is up: the same end as our own wait
    # running out, whichever of the two comes first.
    receiver.hang = True
    answer = webhook._send(receiver.url, b"{}", {}, 0.2)
    assert (answer.status, answer.reason, answer.timed_out) == (None, "timed out", True)
    assert not answer.retryable


def test_a_try_that_timed_out_ends_the_hook_as_timed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    timed_out = webhook._Answer(None, "timed out", timed_out=True)
    monkeypatch.setattr(webhook, "_try", lambda *_: (timed_out, None))
    spec = HookSpec(event=HookEvent.POST_SHIFT, name="n", url="http://h.x/y", timeout_seconds=2)

    result = run(spec)

    assert result.timed_out
    assert result.error == "POST http://h.x/y: no answer within the hook's 2s timeout"


def test_retries_never_wait_past_the_timeout(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "BACKOFF_BASE_SECONDS", 5.0)
    receiver.answer(*[Answer(503, "busy")] * 5)
    started = time.monotonic()

    result = run(url_hook(receiver, timeout_seconds=1, retries=4))

    assert time.monotonic() - started < 0.9  # the 2.5–5 s wait is not begun
    assert len(receiver.received) == 1
    assert result.error is not None
    assert result.error.endswith(
        "answered 503 Service Unavailable; body: busy; no time left in its 1s to try again"
    )


def test_an_interrupt_stops_a_request_that_hangs(receiver: Receiver) -> None:
    receiver.hang = True
    runner, flag = interruptible_after(0.3)
    started = time.monotonic()

    result = run(url_hook(receiver, timeout_seconds=30), runner)

    assert time.monotonic() - started < 2
    assert result.error == "stopped: the deployment was interrupted by SIGTERM"
    assert not result.timed_out and flag.is_set()


def test_an_interrupt_stops_the_wait_between_tries(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "BACKOFF_BASE_SECONDS", 20.0)
    receiver.answer(*[Answer(500)] * 3)
    runner, _ = interruptible_after(0.3)
    started = time.monotonic()

    result = run(url_hook(receiver, timeout_seconds=60, retries=2), runner)

    assert time.monotonic() - started < 2
    assert result.error == "stopped: the deployment was interrupted by SIGTERM"
    assert len(receiver.received) == 1


def interruptible_after(seconds: float) -> tuple[HookRunner, threading.Event]:
    """A runner whose interrupt flag (the engine's, as polled) is raised after `seconds`."""
    flag = threading.Event()
    threading.Timer(seconds, flag.set).start()
    runner = HookRunner(Redactor())
    runner.interrupted = lambda: "SIGTERM" if flag.is_set() else None
    return runner, flag


# --- specs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": "ftp://h.example/x"},
        {"url": "https://"},
        {"url": "https://user:pw@h.example/x"},
        {"url": "https://h.example/x", "retries": -1},
        {"url": "https://h.example/x", "command": ("true",)},
        {"command": ("true",), "retries": 1},
        {"python": "m:f", "headers": {"A": "b"}},
    ],
)
def test_invalid_url_specs_are_config_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        HookSpec(event=HookEvent.POST_SHIFT, name="bad", **kwargs)


def test_request_headers_put_ours_under_the_configured_ones() -> None:
    hook = webhook.Webhook(
        "https://h.example/x", {"Content-Type": "application/cloudevents+json"}, None, 0, 5
    )
    headers = webhook.request_headers(hook, b"{}")
    assert headers["Content-Type"] == "application/cloudevents+json"
    assert headers["User-Agent"] == webhook.USER_AGENT
