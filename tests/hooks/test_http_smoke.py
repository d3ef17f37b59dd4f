"""hooks/http_smoke.py against a real HTTP server on 127.0.0.1: what it requests, how
many times, its verdict lines and its exit codes."""

from __future__ import annotations

import socket

from hook_programs import Run, context
from webhook_receiver import Answer, Receiver

from bluegreen.machine import HookEvent, State

FAST = ("--interval", "0")


def test_every_request_passing_exits_0_with_a_verdict_per_request(
    run_hook: Run, receiver: Receiver
) -> None:
    receiver.answer(*[Answer(200, "/health served by web:2.0.0")] * 3)
    ran = run_hook(
        "http_smoke.py",
        f"{receiver.url}/health",
        "--count",
        "3",
        "--expect-body",
        r"web:2\.0",
        *FAST,
    )
    assert ran.code == 0, ran.output
    assert [(r.method, r.path) for r in receiver.received] == [("GET", "/health")] * 3
    assert ran.stdout.count("PASS request") == 3
    assert "PASSED: 3 of 3 requests" in ran.stdout


def test_a_wrong_status_fails_after_its_retries(run_hook: Run, receiver: Receiver) -> None:
    receiver.answer(*[Answer(500, "boom")] * 5)
    ran = run_hook("http_smoke.py", f"{receiver.url}/health", "--retries", "2", *FAST)
    assert ran.code == 1
    assert len(receiver.received) == 3  # the request and its two retries
    assert ran.stdout.count("FAIL request 1/1") == 3
    assert "status 500, expected 200 ('boom')" in ran.stdout
    assert "FAILED for web" in ran.stdout  # the service, from the context on stdin


def test_a_retry_that_passes_passes(run_hook: Run, receiver: Receiver) -> None:
    receiver.answer(Answer(503, "warming up"), Answer(200, "ok"))
    ran = run_hook("http_smoke.py", receiver.url + "/", "--retries", "1", *FAST)
    assert ran.code == 0, ran.output
    assert len(receiver.received) == 2


def test_a_body_not_matching_fails(run_hook: Run, receiver: Receiver) -> None:
    receiver.answer(Answer(200, "/ served by web:1.0.0"))
    ran = run_hook(
        "http_smoke.py", receiver.url, "--expect-body", r"web:2\.0", "--retries", "0", *FAST
    )
    assert ran.code == 1
    assert "body does not match 'web:2\\\\.0'" in ran.stdout


def test_redirects_are_checked_not_followed(run_hook: Run, receiver: Receiver) -> None:
    receiver.answer(Answer(302, "", {"Location": f"{receiver.url}/elsewhere"}))
    ran = run_hook("http_smoke.py", receiver.url, "--expect-status", "302", *FAST)
    assert ran.code == 0, ran.output
    assert [r.path for r in receiver.received] == ["/"]


def test_no_answer_fails_with_a_one_line_reason(run_hook: Run) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    ran = run_hook("http_smoke.py", f"http://127.0.0.1:{port}/", "--retries", "0", *FAST)
    assert ran.code == 1
    assert "no answer" in ran.stdout and "Traceback" not in ran.output


def test_a_header_from_the_environment_is_sent_and_never_printed(
    run_hook: Run, receiver: Receiver
) -> None:
    ran = run_hook(
        "http_smoke.py",
        receiver.url,
        "--header-env",
        "Authorization=SMOKE_TOKEN",
        env={"SMOKE_TOKEN": "Bearer s3cr3t-value"},
    )
    assert ran.code == 0, ran.output
    assert receiver.received[0].headers["Authorization"] == "Bearer s3cr3t-value"
    assert "s3cr3t" not in ran.output


def test_bad_arguments_exit_2_without_a_traceback(run_hook: Run, receiver: Receiver) -> None:
    for args in (
        ["example.com/health"],
        [receiver.url, "--expect-body", "("],
        [receiver.url, "--count", "0"],
        [receiver.url, "--header-env", "Authorization=UNSET_VARIABLE"],
    ):
        ran = run_hook("http_smoke.py", *args)
        assert ran.code == 2, args
        assert "Traceback" not in ran.output and ran.stderr.strip(), args
    assert receiver.received == []


def test_a_path_goes_to_the_contexts_test_url_and_without_one_exits_2(
    run_hook: Run, receiver: Receiver
) -> None:
    receiver.answer(Answer(200, "ok"))
    ctx = {**context(HookEvent.POST_TEST_TRAFFIC, State.TEST_TRAFFIC), "test_url": receiver.url}
    ran = run_hook("http_smoke.py", "/health", *FAST, ctx=ctx)
    assert ran.code == 0, ran.output
    assert [(r.method, r.path) for r in receiver.received] == [("GET", "/health")]

    alone = run_hook("http_smoke.py", "/health", *FAST)  # no test listener: no test_url
    assert alone.code == 2 and "has no test_url" in alone.stderr
