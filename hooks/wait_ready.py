#!/usr/bin/env python3
"""wait_ready.py: a gate that waits until a URL says it is ready.

What it does
    GETs URL every --interval seconds until an answer is ready, or --deadline seconds have
    passed. An answer is ready when its status is --expect-status and, if given, its body
    matches --expect-body (a regular expression) and its JSON has --json-field (a dotted
    path, e.g. status.ready) equal to --json-value (compared as text; true/false/null for
    JSON's literals; any value when --json-value is left out). One line is printed each
    time the reason for not being ready changes, and a verdict at the end. Use it to hold
    a deployment until a migration, a cache warm-up or a downstream service is done.
    HTTP_PROXY/HTTPS_PROXY/NO_PROXY in the environment are honoured.

What it needs
    URL                   the URL to poll (http or https)
    --expect-status N     default 200
    --expect-body REGEX   a regular expression the body must contain
    --json-field PATH     a dotted path into the JSON body (list items by index: items.0.ok)
    --json-value TEXT     the value that field must have
    --deadline SECONDS    how long to wait in all (default 300); keep the hook's
                          `timeout` longer, or the runner kills the gate first
    --interval SECONDS    the wait between polls (default 5)
    --timeout SECONDS     each request's timeout (default 5)
    --header-env Name=VAR   a header whose value is read from the environment variable VAR
                          (for tokens; never printed)
    The deployment context on stdin is read and ignored. Python 3.11 standard library only.

Exit codes
    0  ready
    1  not ready when the deadline passed
    2  bad arguments, or an --header-env variable that is not set

Use it
    [[hooks]]
    event = "pre_shift"
    command = ["python3", "hooks/wait_ready.py", "https://api.example.com/ready",
               "--json-field", "status", "--json-value", "ok", "--deadline", "600"]
    timeout = "11m"
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
from typing import Any

BODY_LIMIT = 1024 * 1024
_MISSING = object()


def drain_stdin() -> None:
    """Read the context so a runner writing it never blocks; it is not needed."""
    if sys.stdin is not None and not sys.stdin.isatty():
        sys.stdin.read()


def fetch(url: str, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.build_opener().open(request, timeout=timeout) as answer:
            return answer.status, answer.read(BODY_LIMIT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(BODY_LIMIT).decode("utf-8", "replace")


def field(document: Any, path: str) -> Any:
    """The value at the dotted `path`, or _MISSING."""
    for part in path.split("."):
        if isinstance(document, dict) and part in document:
            document = document[part]
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return _MISSING
    return document


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def not_ready(args: argparse.Namespace, headers: dict[str, str]) -> str | None:
    """None when the URL is ready, else why not in a few words."""
    try:
        status, body = fetch(args.url, headers, args.timeout)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"no answer ({getattr(exc, 'reason', exc)})"
    if status != args.expect_status:
        return f"status {status}, waiting for {args.expect_status}"
    if args.expect_body and not re.search(args.expect_body, body):
        return f"body does not match {args.expect_body!r}"
    if args.json_field:
        try:
            document = json.loads(body)
        except ValueError:
            return "the body is not JSON"
        value = field(document, args.json_field)
        if value is _MISSING:
            return f"no field {args.json_field!r}"
        if args.json_value is not None and as_text(value) != args.json_value:
            return f"{args.json_field} is {as_text(value)!r}, waiting for {args.json_value!r}"
    return None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Wait until a URL reports ready.")
    parser.add_argument("url")
    parser.add_argument("--expect-status", type=int, default=200)
    parser.add_argument("--expect-body")
    parser.add_argument("--json-field")
    parser.add_argument("--json-value")
    parser.add_argument("--deadline", type=float, default=300.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--header-env", action="append", default=[])
    args = parser.parse_args(argv)
    if not re.match(r"https?://[^/]", args.url, re.IGNORECASE):
        parser.error(f"URL must start with http:// or https:// and name a host: {args.url!r}")
    if args.json_value is not None and not args.json_field:
        parser.error("--json-value needs --json-field")
    if min(args.deadline, args.interval) < 0 or args.timeout <= 0:
        parser.error("--deadline and --interval must not be negative, --timeout positive")
    if args.expect_body:
        try:
            re.compile(args.expect_body)
        except re.error as exc:
            parser.error(f"--expect-body is not a regular expression: {exc}")
    return args


def request_headers(items: list[str]) -> dict[str, str] | str:
    headers = {"User-Agent": "bluegreen-wait-ready"}
    for item in items:
        name, sep, variable = item.partition("=")
        if not sep or not name.strip() or not variable:
            return f"--header-env {item!r} is not Name=ENV_VAR"
        if variable not in os.environ:
            return f"--header-env {name.strip()}: the environment variable {variable} is not set"
        headers[name.strip()] = os.environ[variable]
    return headers


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    drain_stdin()
    headers = request_headers(args.header_env)
    if isinstance(headers, str):
        print(f"wait_ready: {headers}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.deadline
    last: str | None = None
    polls = 0
    while True:
        polls += 1
        reason = not_ready(args, headers)
        if reason is None:
            print(f"wait_ready: READY: {args.url} after {polls} poll(s)")
            return 0
        if reason != last:
            print(f"wait_ready: not ready: {reason}", flush=True)
            last = reason
        if time.monotonic() + args.interval > deadline:
            print(
                f"wait_ready: NOT READY: {args.url} after {polls} poll(s) in "
                f"{args.deadline:g} s: {reason}"
            )
            return 1
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
