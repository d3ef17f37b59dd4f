"""`[[analysis.http]]`: smoke checks, HTTP requests made to green before production moves.

    [[analysis.http]]
    name = "health"            # optional: how verdicts name it (default "GET /health")
    path = "/health"           # through the test listener (default "/") …
    # url = "https://green.internal.example.com/health"   # … or to this URL instead
    method = "GET"             # GET | HEAD | OPTIONS: repeated and retried, so safe ones
    headers = { Authorization = "Bearer …" }  # values are secrets: never logged or recorded
    expect_status = 200        # or [200, 204], or "2xx", or ["2xx", 301]
    expect_body = "version.*2\\.0"  # a regular expression searched for in the body
    count = 10                 # requests made; every one must pass
    every = "1s"               # pause between two requests
    timeout = "5s"             # per request (retries included afresh)
    retries = 0                # more tries of a request that did not pass

Rules checked here, each refused with the key and the fix: a check has `path` or `url`,
not both; a path starts with "/" and is one line; `expect_status` holds codes 100–599 or
classes "1xx"–"5xx"; `expect_body` is a valid regular expression. Whether a `path` has a
test listener to go through is the whole file's concern (schema.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from bluegreen.config.fields import (
    Duration,
    HeaderValue,
    HttpUrl,
    StrictModel,
    shown_url,
    well_formed_header_names,
)

MAX_HTTP_CHECKS = 20
MAX_REQUESTS = 1000
MAX_RETRIES = 10
MAX_TIMEOUT_SECONDS = 60.0
MAX_EVERY_SECONDS = 600.0
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_PATH = re.compile(r"/[\x21-\x7e]{0,2047}")  # visible ASCII: what a request line carries
_STATUS_CLASS = re.compile(r"[1-5]xx")
# Set by the request itself: a configured one would contradict it (Host may be set, to
# reach a host-header rule through the load balancer's own DNS name).
_RESERVED = ("content-length", "transfer-encoding")


def _statuses(value: Any) -> tuple[str, ...]:
    """200, "2xx", or a list of them → ("200",) / ("2xx",), each checked."""
    items = value if isinstance(value, list | tuple) else [value]
    if not items:
        raise ValueError('expect_status needs at least one code, e.g. 200 or "2xx"')
    found = []
    for item in items:
        text = str(item).strip().lower() if isinstance(item, int | str) else ""
        if isinstance(item, bool) or not (
            (text.isdigit() and 100 <= int(text) <= 599) or _STATUS_CLASS.fullmatch(text)
        ):
            raise ValueError(
                f"{item!r} is neither a status code (100–599) nor a class "
                '("2xx"): e.g. 200, [200, 204] or "2xx"'
            )
        found.append(text)
    return tuple(dict.fromkeys(found))


def _headers(headers: dict[str, str]) -> dict[str, str]:
    well_formed_header_names(headers)
    reserved = [name for name in headers if name.lower() in _RESERVED]
    if reserved:
        raise ValueError(f"{', '.join(reserved)}: set by the request itself, not in headers")
    return headers


def _pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"expect_body {value!r} is not a regular expression: {exc}") from None
    return value


Statuses = Annotated[tuple[str, ...], BeforeValidator(_statuses)]
SmokeHeaders = Annotated[dict[str, HeaderValue], AfterValidator(_headers)]


class HttpCheckConfig(StrictModel):
    """One `[[analysis.http]]` entry: which request, how many times, what must come back."""

    name: str | None = None
    path: str = "/"
    url: HttpUrl | None = None
    method: Literal["GET", "HEAD", "OPTIONS"] = "GET"
    headers: SmokeHeaders = Field(default_factory=dict, max_length=50, repr=False)
    expect_status: Statuses = ("200",)
    expect_body: Annotated[str, AfterValidator(_pattern)] | None = Field(
        default=None, min_length=1, max_length=1024
    )
    count: int = Field(default=10, ge=1, le=MAX_REQUESTS)
    every: Duration = Field(default=1.0, le=MAX_EVERY_SECONDS)
    timeout: Duration = Field(default=5.0, gt=0, le=MAX_TIMEOUT_SECONDS)
    retries: int = Field(default=0, ge=0, le=MAX_RETRIES)

    @model_validator(mode="before")
    @classmethod
    def _method_in_capitals(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("method"), str):
            return {**data, "method": data["method"].upper()}
        return data

    @model_validator(mode="after")
    def _coherent(self) -> HttpCheckConfig:
        if self.name is not None and not _LABEL.fullmatch(self.name):
            raise ValueError(
                "a smoke check's name is a letter, then letters, digits, _ . or - (at most 64)"
            )
        if self.url is not None and "path" in self.model_fields_set:
            raise ValueError("give path (through the test listener) or url (any address), not both")
        if self.method == "HEAD" and self.expect_body is not None:
            raise ValueError('expect_body needs a body, and HEAD answers none: use "GET"')
        if self.url is None and not _PATH.fullmatch(self.path):
            raise ValueError(
                f'path {self.path!r} starts with "/" and is one line of visible ASCII '
                '(at most 2048), e.g. "/health" or "/health?deep=1"'
            )
        return self

    @property
    def through_test_listener(self) -> bool:
        return self.url is None

    @property
    def target(self) -> str:
        """What the check asks for, as plans and verdicts show it (a URL without its query)."""
        return shown_url(self.url) if self.url else self.path.split("?", 1)[0]

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.target}"

    def accepts(self, status: int) -> bool:
        return any(
            str(status) == expected or (expected.endswith("xx") and str(status)[0] == expected[0])
            for expected in self.expect_status
        )

    @property
    def expected(self) -> str:
        """What passes, in words: "status 200", "status 2xx or 301, body matching /ok/"."""
        said = f"status {' or '.join(self.expect_status)}"
        return f"{said}, body matching /{self.expect_body}/" if self.expect_body else said


def describe_http_check(check: HttpCheckConfig, test_listener: str | None = None) -> str:
    """One line of the plan: what is asked for (on the test listener's base URL when it is
    known), how often, what passes."""
    if check.url:
        target = check.target
    elif test_listener:
        target = f"{test_listener}{check.target} (through the test listener)"
    else:
        target = f"{check.target} (through the test listener)"
    times = f"{check.count} request{'s' if check.count != 1 else ''}"
    if check.count > 1:
        times += f" every {check.every:g}s"
    retries = f", {check.retries} retr{'ies' if check.retries != 1 else 'y'}" * bool(check.retries)
    return (
        f"{check.label}: {check.method} {target}, {times}, timeout {check.timeout:g}s"
        f"{retries}; expect {check.expected}"
    )
