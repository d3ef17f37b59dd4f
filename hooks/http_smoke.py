#!/usr/bin/env python3
"""http_smoke.py: an HTTP smoke test for a bluegreen command hook.

What it does
    Sends GET requests to URL and checks each answer: its status (--expect-status) and,
    if asked, its body (--expect-body, a regular expression searched in the body). It
    makes --count requests; each one that fails is tried again up to --retries times,
    --interval seconds apart. Every request gets one verdict line on stdout (PASS/FAIL)
    and the program ends with a summary line. Redirects are not followed, so a
    redirecting URL is checked as the redirect it answers with.

    Point it at the test listener (the load balancer's DNS name and the test listener's
    port) at `post_test_traffic`: green then gets all of the test listener's traffic and
    none of production's, and a failing check rolls the deployment back before any
    production weight moves. Give a path (/health) and the test listener's address comes
    from the hook's context (`test_url`, set when the configuration has a test listener);
    or give a whole URL. HTTP_PROXY/HTTPS_PROXY/NO_PROXY in the environment are honoured.

What it needs
    URL                   the URL to request (http or https), e.g.
                          http://my-alb-123.eu-west-1.elb.amazonaws.com:8080/health,
                          or a path (/health) on the context's test_url
    --expect-status N     the status every answer must have (default 200)
    --expect-body REGEX   a regular expression the body must contain (default: any body)
    --count N             how many requests must pass (default 1)
    --retries N           how many more times a failing request is tried (default 2)
    --interval SECONDS    the wait before a retry, and between requests (default 2)
    --timeout SECONDS     each request's timeout (default 5)
    --header "Name: value"  an extra request header (repeatable); not for secrets: the
                          command line is in the configuration and in process listings
    --header-env Name=VAR   a header whose value is read from the environment variable VAR
                          (repeatable; for tokens: the value is never printed)
    The deployment context is read from stdin (JSON) and only used to name the service in
    the summary line; Python 3.11 standard library only.

Exit codes
    0  every request passed
    1  a request failed its expectations (after its retries)
    2  bad arguments (argparse), an --header-env variable that is not set, or a path
       with no test_url in the context

Use it
    [[hooks]]
    event = "post_test_traffic"
    command = ["python3", "hooks/http_smoke.py", "/health",
               "--expect-body", "ok", "--count", "5"]
    timeout = "2m"
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

BODY_LIMIT = 1024 * 1024  # read at most this much of a body
SHOWN = 120  # how much of a body a FAIL line quotes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the redirect itself is the answer checked


@dataclass(frozen=True)
class Verdict:
    passed: bool
    line: str


def read_context() -> dict[str, object]:
    """The deployment context on stdin; {} when there is none (run by hand, from a tty)."""
    if sys.stdin is None or sys.stdin.isatty():
        return {}
    try:
        found = json.loads(sys.stdin.read() or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def fetch(url: str, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """(status, body) of a GET; an HTTP error status is an answer, not an exception."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with opener.open(request, timeout=timeout) as answer:
            return answer.status, answer.read(BODY_LIMIT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(BODY_LIMIT).decode("utf-8", "replace")


def check(args: argparse.Namespace, headers: dict[str, str], number: int) -> Verdict:
    """One request and its verdict line."""
    started = time.monotonic()
    label = f"request {number}/{args.count}: GET {args.url}"
    try:
        status, body = fetch(args.url, headers, args.timeout)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Verdict(False, f"FAIL {label}: no answer ({reason})")
    took = f"{(time.monotonic() - started) * 1000:.0f} ms"
    if status != args.expect_status:
        shown = " ".join(body.split())[:SHOWN]
        return Verdict(
            False, f"FAIL {label}: status {status}, expected {args.expect_status} ({shown!r})"
        )
    if args.expect_body and not re.search(args.expect_body, body):
        shown = " ".join(body.split())[:SHOWN]
        return Verdict(
            False, f"FAIL {label}: body does not match {args.expect_body!r} (got {shown!r})"
        )
    return Verdict(True, f"PASS {label}: status {status} in {took}")


def positive(kind: Callable[[str], float], minimum: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="HTTP smoke test for a bluegreen hook.")
    parser.add_argument(
        "url", help="the URL to GET (http://<lb dns>:<test port>/health), or a path on test_url"
    )
    parser.add_argument("--expect-status", type=int, default=200)
    parser.add_argument("--expect-body", help="a regular expression the body must contain")
    parser.add_argument("--count", type=positive(int, 1), default=1)
    parser.add_argument("--retries", type=positive(int, 0), default=2)
    parser.add_argument("--interval", type=positive(float, 0), default=2.0)
    parser.add_argument("--timeout", type=positive(float, 0.001), default=5.0)
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    parser.add_argument("--header-env", action="append", default=[], help="Name=ENV_VAR")
    args = parser.parse_args(argv)
    if not args.url.startswith("/") and not re.match(r"https?://[^/]", args.url, re.IGNORECASE):
        parser.error(
            f"URL must be a path (/health) or start with http:// or https:// and name a host: "
            f"{args.url!r}"
        )
    if args.expect_body:
        try:
            re.compile(args.expect_body)
        except re.error as exc:
            parser.error(f"--expect-body is not a regular expression: {exc}")
    return args


def request_headers(args: argparse.Namespace) -> dict[str, str] | str:
    """The extra headers, or an error message."""
    headers = {"User-Agent": "bluegreen-http-smoke"}
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            return f'--header {item!r} is not "Name: value"'
        headers[name.strip()] = value.strip()
    for item in args.header_env:
        name, sep, variable = item.partition("=")
        if not sep or not name.strip() or not variable:
            return f"--header-env {item!r} is not Name=ENV_VAR"
        if variable not in os.environ:
            return f"--header-env {name.strip()}: the environment variable {variable} is not set"
        headers[name.strip()] = os.environ[variable]
    return headers


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    context = read_context()
    if args.url.startswith("/"):
        test_url = context.get("test_url")
        if not isinstance(test_url, str) or not test_url:
            print(
                f"http_smoke: {args.url} is a path, and the context has no test_url (the "
                "configuration has no [test_listener]): give the whole URL",
                file=sys.stderr,
            )
            return 2
        args.url = test_url.rstrip("/") + args.url
    headers = request_headers(args)
    if isinstance(headers, str):
        print(f"http_smoke: {headers}", file=sys.stderr)
        return 2
    for number in range(1, args.count + 1):
        if number > 1:
            time.sleep(args.interval)
        for attempt in range(args.retries + 1):
            if attempt:
                time.sleep(args.interval)
            verdict = check(args, headers, number)
            print(verdict.line, flush=True)
            if verdict.passed:
                break
        else:
            service = context.get("service") or "the service"
            print(f"http_smoke: FAILED for {service}: request {number} failed {attempt + 1} times")
            return 1
    print(f"http_smoke: PASSED: {args.count} of {args.count} requests to {args.url} passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
