"""Smoke checks: each `[[analysis.http]]` entry's requests made, and its verdict.

Rules:
- A check makes `count` requests, `every` seconds apart (on the injected clock). A
  request that does not pass — wrong status, body not matching, no answer — is tried again
  up to `retries` times, `every` seconds later; it passes when one of its tries does.
- The check passes only when every request passes. It stops at the first request that
  fails for good: its verdict names that request (number, method, URL without its query),
  what came back (the status and a short excerpt of the body, or why nothing did) and
  what was expected.
- Header values are secrets: they are sent and nothing else. The body excerpt a verdict
  carries is masked with them (an echo service would otherwise hand them back).
- `before_each` runs before every try: the engine raises from it on an interrupt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bluegreen.clock import Clock
from bluegreen.config import HttpCheckConfig
from bluegreen.config.fields import header_secrets, shown_url
from bluegreen.redact import Redactor
from bluegreen.smoke.http import Answer, request
from bluegreen.turns import away

EXCERPT_LIMIT = 200
# A network load balancer's listener protocols carry HTTP too (TLS: HTTPS).
_SCHEMES = {"HTTP": "http", "HTTPS": "https", "TCP": "http", "TLS": "https"}

Fetch = Callable[[str, str, dict[str, str], float], Answer]


@dataclass(frozen=True)
class SmokeVerdict:
    check: str
    status: Literal["pass", "fail"]
    url: str  # as shown: no query
    requests: int  # made, retries not counted
    passed: int
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "url": self.url,
            "requests": self.requests,
            "passed": self.passed,
            "reason": self.reason,
        }


def listener_url(protocol: str | None, dns_name: str, port: int | None) -> str:
    """The base URL of a listener: "http://my-lb-123.elb.amazonaws.com:8080"."""
    scheme = _SCHEMES.get((protocol or "HTTP").upper(), "http")
    return f"{scheme}://{dns_name}" + (f":{port}" if port else "")


def url_of(check: HttpCheckConfig, base_url: str | None) -> str:
    """Where the check's requests go: its url, or its path on the test listener's base."""
    if check.url:
        return check.url
    if base_url is None:
        raise ValueError(f"smoke check {check.label}: no test listener to send {check.path} to")
    return base_url.rstrip("/") + check.path


def run_check(
    check: HttpCheckConfig,
    base_url: str | None,
    clock: Clock,
    before_each: Callable[[], None] = lambda: None,
    fetch: Fetch = request,
) -> SmokeVerdict:
    url = url_of(check, base_url)
    shown = shown_url(url)
    mask = Redactor(header_secrets(check.headers)).redact
    for number in range(1, check.count + 1):
        if number > 1:
            clock.sleep(check.every)
        failure = _one_request(check, url, clock, before_each, fetch)
        if failure:
            tries = f" (after {check.retries + 1} tries)" if check.retries else ""
            reason = (
                f"{check.label}: request {number}/{check.count}{tries}: {check.method} "
                f"{shown} {mask(failure)}; expected {check.expected}"
            )
            return SmokeVerdict(check.label, "fail", shown, number, number - 1, reason)
    return SmokeVerdict(check.label, "pass", shown, check.count, check.count)


def _one_request(
    check: HttpCheckConfig,
    url: str,
    clock: Clock,
    before_each: Callable[[], None],
    fetch: Fetch,
) -> str | None:
    """None when a try passed; else what the last try got."""
    failure: str | None = None
    for attempt in range(check.retries + 1):
        if attempt:
            clock.sleep(check.every)
        before_each()
        with away(clock):  # a socket's wait: in a release, the other services go on
            answer = fetch(url, check.method, dict(check.headers), check.timeout)
        failure = judge_answer(check, answer)
        if failure is None:
            return None
    return failure


def judge_answer(check: HttpCheckConfig, answer: Answer) -> str | None:
    """None when `answer` passes `check`; else what it got, in words."""
    if answer.status is None:
        return f"got no answer: {answer.reason}"
    said = f"answered {answer.status} {answer.reason}".rstrip()
    excerpt = " ".join(answer.body.split())
    if len(excerpt) > EXCERPT_LIMIT:
        excerpt = f"{excerpt[:EXCERPT_LIMIT]}…"
    # "body:" and not the reason before the colon: the redactor masks what follows a
    # secret-looking word and a colon, and "Unauthorized" looks like one.
    got = f"{said}; body: {excerpt}" if excerpt else f"{said}; empty body"
    if not check.accepts(answer.status):
        return got
    if check.expect_body is not None and not re.search(check.expect_body, answer.body):
        return f"{got} (no match for /{check.expect_body}/)"
    return None
