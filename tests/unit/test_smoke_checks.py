"""`[[analysis.http]]`: the keys and their refusals, and a check's verdict over its answers
(requests answered by a script, on a virtual clock)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bluegreen.clock import RealClock, VirtualClock
from bluegreen.config import HttpCheckConfig, describe_http_check, parse_config
from bluegreen.errors import ConfigError
from bluegreen.smoke import Answer, listener_url, run_check
from bluegreen.turns import TurnClock

BASE: dict[str, Any] = {
    "service": {"cluster": "prod", "name": "web"},
    "target_groups": {"blue": "web-blue", "green": "web-green"},
    "listeners": [{"arn": "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2"}],
    "test_listener": {"arn": "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/3"},
}
BASE_URL = "http://web-1.us-east-1.elb.amazonaws.com:8080"


def checks(*entries: dict[str, Any], **top: Any) -> list[HttpCheckConfig]:
    config = parse_config({**BASE, **top, "analysis": {"http": list(entries)}})
    assert config.analysis is not None
    return config.analysis.http


def error_of(*entries: dict[str, Any], **top: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        checks(*entries, **top)
    return str(caught.value)


# -- configuration ----------------------------------------------------------------------


def test_the_defaults() -> None:
    [check] = checks({})
    assert (check.path, check.url, check.method, check.expect_status) == (
        "/",
        None,
        "GET",
        ("200",),
    )
    assert (check.count, check.every, check.timeout, check.retries) == (10, 1.0, 5.0, 0)
    assert check.expect_body is None and check.headers == {}
    assert check.label == "GET /" and check.through_test_listener


def test_every_key() -> None:
    [check] = checks(
        {
            "name": "version",
            "url": "https://green.internal.example.com/version?token=abc",
            "method": "head",
            "headers": {"Authorization": "Bearer s3cr3t-value", "Host": "www.example.com"},
            "expect_status": ["2xx", 301],
            "count": 3,
            "every": "250ms",
            "timeout": "2s",
            "retries": 2,
        }
    )
    assert check.method == "HEAD" and check.expect_status == ("2xx", "301")
    assert (check.count, check.every, check.timeout, check.retries) == (3, 0.25, 2.0, 2)
    assert not check.through_test_listener
    assert check.target == "https://green.internal.example.com/version?***"
    assert check.label == "version"
    assert "s3cr3t" not in repr(check)


def test_metrics_are_no_longer_required_beside_smoke_checks() -> None:
    config = parse_config({**BASE, "analysis": {"http": [{"path": "/health"}]}})
    assert config.analysis is not None and config.analysis.metrics == []


@pytest.mark.parametrize(
    ("status", "accepted", "refused"),
    [
        (200, [200], [201, 404, 500]),
        ("2xx", [200, 204, 299], [199, 301, 500]),
        ([200, "3xx"], [200, 301, 308], [201, 404]),
    ],
)
def test_expect_status(status: Any, accepted: list[int], refused: list[int]) -> None:
    [check] = checks({"expect_status": status})
    assert [check.accepts(s) for s in accepted] == [True] * len(accepted)
    assert [check.accepts(s) for s in refused] == [False] * len(refused)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"path": "/a", "url": "http://x/a"}, "give path (through the test listener) or url"),
        ({"path": "health"}, "path 'health' starts with \"/\""),
        ({"path": "/a b"}, "path '/a b' starts with \"/\""),
        ({"expect_status": 600}, "600 is neither a status code (100–599) nor a class"),
        ({"expect_status": "6xx"}, "'6xx' is neither a status code"),
        ({"expect_status": True}, "True is neither a status code"),
        ({"expect_status": []}, "expect_status needs at least one code"),
        ({"expect_body": "(unclosed"}, "expect_body '(unclosed' is not a regular expression"),
        ({"method": "POST"}, "analysis.http.0.method"),
        ({"method": "HEAD", "expect_body": "ok"}, "HEAD answers none"),
        ({"headers": {"Content-Length": "1"}}, "Content-Length: set by the request itself"),
        ({"headers": {"Bad Name": "x"}}, "header names are letters"),
        ({"headers": {"X-A": "a\nInjected: b"}}, "a header value is one line"),
        ({"url": "ftp://x/"}, "http:// or https://"),
        ({"count": 0}, "analysis.http.0.count"),
        ({"timeout": "0s"}, "analysis.http.0.timeout"),
        ({"retries": 11}, "analysis.http.0.retries"),
        ({"name": "two words"}, "a smoke check's name is a letter"),
        ({"expected_status": 200}, "analysis.http.0.expected_status: unknown key"),
    ],
)
def test_mistakes_name_the_key_and_the_fix(entry: dict[str, Any], expected: str) -> None:
    assert expected in error_of(entry)


def test_a_path_needs_a_test_listener() -> None:
    message = error_of({"url": "http://x/ok"}, {"path": "/health"}, test_listener=None)
    assert "analysis.http.1: path '/health' is requested through the test listener" in message
    assert "add one, or give the check a url" in message
    assert checks({"url": "http://x/ok"}, test_listener=None)[0].url == "http://x/ok"


def test_an_empty_analysis_table_is_refused() -> None:
    assert "[analysis] judges nothing" in error_of()


def test_header_values_are_secrets_of_the_configuration() -> None:
    config = parse_config(
        {**BASE, "analysis": {"http": [{"headers": {"Authorization": "Bearer s3cr3t-value"}}]}}
    )
    assert config.redactor.redact("sent s3cr3t-value") == "sent ***"


def test_the_plan_line() -> None:
    [check] = checks({"path": "/health?deep=1", "count": 3, "every": "2s", "expect_body": "ok"})
    assert describe_http_check(check, BASE_URL) == (
        f"GET /health: GET {BASE_URL}/health (through the test listener), 3 requests every "
        "2s, timeout 5s; expect status 200, body matching /ok/"
    )


@pytest.mark.parametrize(
    ("protocol", "port", "url"),
    [
        ("HTTP", 8080, "http://lb:8080"),
        ("HTTPS", 443, "https://lb:443"),
        ("TCP", 80, "http://lb:80"),
        ("TLS", 8443, "https://lb:8443"),
    ],
)
def test_the_test_listener_url(protocol: str, port: int, url: str) -> None:
    assert listener_url(protocol, "lb", port) == url


# -- verdicts ---------------------------------------------------------------------------


class Script:
    """Answers requests in order (the last one again once the script runs out)."""

    def __init__(self, clock: VirtualClock, *answers: Answer) -> None:
        self.clock = clock
        self.answers = list(answers)
        self.sent: list[tuple[float, str, str, dict[str, str], float]] = []

    def __call__(self, url: str, method: str, headers: dict[str, str], timeout: float) -> Answer:
        self.sent.append((self.clock.now(), url, method, headers, timeout))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


OK = Answer(200, "OK", "serving web:2.0.0")
BOOM = Answer(500, "Internal Server Error", "boom")


def verdict_of(entry: dict[str, Any], *answers: Answer) -> tuple[Any, Script, VirtualClock]:
    clock = VirtualClock()
    script = Script(clock, *answers)
    [check] = checks(entry)
    return run_check(check, BASE_URL, clock, fetch=script), script, clock


def test_every_request_passing_passes_after_count_requests_every_apart() -> None:
    verdict, script, clock = verdict_of({"path": "/health", "count": 4, "every": "3s"}, OK)

    assert verdict.ok and (verdict.requests, verdict.passed) == (4, 4) and verdict.reason == ""
    start = script.sent[0][0]
    assert [sent[0] - start for sent in script.sent] == [0, 3, 6, 9]
    assert {sent[1:3] for sent in script.sent} == {(f"{BASE_URL}/health", "GET")}
    assert clock.now() == start + 9  # no pause after the last request


def test_a_wrong_status_fails_at_that_request_naming_what_came_back_and_what_was_expected() -> None:
    verdict, script, _ = verdict_of({"path": "/health"}, OK, OK, BOOM, OK)

    assert not verdict.ok and (verdict.requests, verdict.passed) == (3, 2)
    assert len(script.sent) == 3  # stops at the first failure
    assert verdict.reason == (
        f"GET /health: request 3/10: GET {BASE_URL}/health answered 500 Internal Server "
        "Error; body: boom; expected status 200"
    )


def test_a_body_that_does_not_match_fails_naming_the_pattern() -> None:
    verdict, _, _ = verdict_of(
        {"path": "/version", "expect_body": r"web:3\.\d"}, Answer(200, "OK", "web:2.0.0")
    )
    assert not verdict.ok
    assert verdict.reason.endswith(
        "answered 200 OK; body: web:2.0.0 (no match for /web:3\\.\\d/); expected status "
        "200, body matching /web:3\\.\\d/"
    )


def test_a_matching_body_passes() -> None:
    verdict, _, _ = verdict_of({"expect_body": r"web:2\.0", "count": 2}, OK)
    assert verdict.ok


def test_no_answer_fails_saying_why() -> None:
    verdict, _, _ = verdict_of({"count": 1, "timeout": "2s"}, Answer(None, "timed out"))
    assert "request 1/1: GET " in verdict.reason
    assert "got no answer: timed out; expected status 200" in verdict.reason


def test_retries_try_a_failing_request_again_every_apart() -> None:
    verdict, script, _ = verdict_of({"count": 2, "retries": 2, "every": "5s"}, BOOM, BOOM, OK, OK)
    assert verdict.ok and len(script.sent) == 4
    start = script.sent[0][0]
    assert [sent[0] - start for sent in script.sent] == [0, 5, 10, 15]


def test_a_request_failing_every_try_fails_saying_how_many() -> None:
    verdict, script, _ = verdict_of({"count": 2, "retries": 1}, BOOM)
    assert not verdict.ok and len(script.sent) == 2
    assert "request 1/2 (after 2 tries): GET" in verdict.reason


def test_headers_are_sent_and_masked_in_what_is_echoed_back() -> None:
    verdict, script, _ = verdict_of(
        {"count": 1, "headers": {"Authorization": "Bearer s3cr3t-value"}, "timeout": "3s"},
        Answer(403, "Forbidden", "you sent Bearer s3cr3t-value"),
    )
    assert script.sent[0][3] == {"Authorization": "Bearer s3cr3t-value"}
    assert script.sent[0][4] == 3.0
    assert "s3cr3t" not in verdict.reason and "403 Forbidden; body: you sent ***;" in (
        verdict.reason
    )


def test_a_url_check_goes_to_its_url() -> None:
    verdict, script, _ = verdict_of({"url": "https://x.example.com/ok?t=1", "count": 1}, OK)
    assert script.sent[0][1] == "https://x.example.com/ok?t=1"
    assert verdict.url == "https://x.example.com/ok?***"


def test_a_long_body_is_cut_short_in_the_reason() -> None:
    verdict, _, _ = verdict_of({"count": 1}, Answer(500, "Internal Server Error", "x" * 5000))
    assert "x" * 200 + "…" in verdict.reason and "x" * 201 not in verdict.reason


def test_the_smoke_requests_of_a_release_wait_side_by_side_on_the_real_clock() -> None:
    """A request's wait on its socket is not on the clock: in a release (services taking
    turns on one clock), the other services go on meanwhile."""
    turns = TurnClock(RealClock())
    [check] = checks({"path": "/health", "count": 1})

    def slow_answer(url: str, method: str, headers: dict[str, str], timeout: float) -> Answer:
        time.sleep(0.4)  # a slow application behind the socket
        return OK

    verdicts: list[Any] = []

    def service() -> None:
        verdicts.append(run_check(check, BASE_URL, turns, fetch=slow_answer))

    started = time.monotonic()
    turns.run_all([service, service], ["api", "web"])

    assert [v.ok for v in verdicts] == [True, True]
    assert time.monotonic() - started < 0.7  # one after the other: 0.8 s at least
