"""Fault injection for the simulated AWS: throttling, server errors and slow calls, decided
before moto sees the request — so a failed call changed nothing, as on AWS.

Rules (`Faults.throttle`, `fail`, `slow`) name an API operation ("ModifyListener") or None
for every operation, and optionally a service by its signing name ("elasticloadbalancing",
"ecs"; see THROTTLING) to apply to that service's calls only. Each call: every matching
`slow` rule first sleeps on the clock (on a VirtualClock that is virtual latency: time moves
and the simulators tick, nothing waits), then the first matching `throttle`/`fail` rule
whose draw falls under its fraction answers an error. Draws come from a Random seeded with
`seed`: one run repeats exactly. Everything injected is counted in
`injected[(operation, code)]` ("Slow" for delays); `last_error` is the error the latest
call was answered with (None: moto answered it), so an observer can tell a retry's
back-off from a wait of the caller's own; `operations` lists every call, answered or not,
so a test can assert what reached AWS without wrapping moto a second time.

AWS's own request limits (`limits`, api_limits.py: token buckets per account and region)
come before the rules, as AWS's front door: a call they throttle is answered the service's
throttling error, sets `last_error`, draws no rule and is not counted in `injected`.

The errors AWS answers:
- throttling: elbv2 and CloudWatch `Throttling`, ECS `ThrottlingException` (HTTP 400),
  Lambda `TooManyRequestsException` (429), S3 `SlowDown` (503);
- server errors: 500 `InternalFailure`, 503 `ServiceUnavailable` unless a code is given;
- in the protocol of the request (its Content-Type): query XML `<ErrorResponse>` (elbv2),
  JSON `{"__type": …}` (ECS; CloudWatch, whose query-compatible clients also read the
  code from the `x-amzn-query-error` header), rest-json with `x-amzn-ErrorType` (Lambda),
  rest-xml `<Error>` (S3). The service is the signing name in the Authorization header.

In process, moto answers every botocore request — including those of the product's own
boto3 sessions — from one "before-send" handler, `BotocoreStubber.__call__`; botocore
stops at the first handler that answers, so a handler of ours registered after it would
never run. `install` wraps that method and `uninstall` restores it; a
wrapper of ours found there (left by a patch undone out of order, e.g. a test's own
monkeypatch of the method) is unwrapped first, so two interceptors never draw for one
call. For a moto server, `wrap_wsgi(app, faults)` does the same as WSGI middleware.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import parse_qs

from botocore.awsrequest import AWSResponse

from bluegreen.clock import Clock

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

THROTTLING: dict[str, tuple[str, int, str]] = {  # signing name → code, HTTP status, message
    "elasticloadbalancing": ("Throttling", 400, "Rate exceeded"),
    "monitoring": ("Throttling", 400, "Rate exceeded"),
    "ecs": ("ThrottlingException", 400, "Rate exceeded"),
    "lambda": ("TooManyRequestsException", 429, "Rate exceeded"),
    "s3": ("SlowDown", 503, "Please reduce your request rate."),
}
DEFAULT_THROTTLING = ("ThrottlingException", 400, "Rate exceeded")
SERVER_ERRORS = {
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "The service is unavailable. Please try again later."),
}
REST_JSON_SERVICES = frozenset({"lambda"})
Response = tuple[int, dict[str, str], bytes]  # status, headers, body


@dataclass(frozen=True)
class Rule:
    kind: Literal["throttle", "fail", "slow"]
    operation: str | None  # None: every operation
    fraction: float = 1.0
    status: int | None = None  # fail: the HTTP status
    code: str | None = None  # fail: the error code (default by status)
    seconds: float = 0.0  # slow: the delay
    message: str | None = None  # fail: the error message (default by status)
    service: str | None = None  # the signing name of the only service it applies to

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"a fault's fraction is between 0 and 1, not {self.fraction}")

    def applies_to(self, operation: str, service: str) -> bool:
        if self.service is not None and self.service != service:
            return False
        return self.operation is None or self.operation == operation


@dataclass(frozen=True)
class Injection:
    status: int
    code: str
    message: str


class Limiter(Protocol):
    """What Faults asks of AWS's request limits (api_limits.ApiLimits)."""

    def admit(self, service: str, operation: str, access_key: str, region: str) -> bool: ...


@dataclass
class Faults:
    clock: Clock | None = None  # slow rules sleep on it; None: they are only counted
    seed: int = 0
    rules: list[Rule] = field(default_factory=list)
    injected: Counter[tuple[str, str]] = field(default_factory=Counter)
    last_error: Injection | None = None
    operations: list[str] = field(default_factory=list)  # every call, in order
    limits: Limiter | None = None  # AWS's token buckets; None: no limits

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()  # a moto server answers from several threads

    def throttle(
        self, operation: str | None = None, fraction: float = 1.0, *, service: str | None = None
    ) -> Rule:
        return self._add(Rule("throttle", operation, fraction, service=service))

    def fail(
        self,
        operation: str | None = None,
        fraction: float = 1.0,
        status: int = 500,
        code: str | None = None,
        message: str | None = None,
        *,
        service: str | None = None,
    ) -> Rule:
        rule = Rule("fail", operation, fraction, status, code, message=message, service=service)
        return self._add(rule)

    def slow(self, operation: str | None = None, seconds: float = 1.0) -> Rule:
        return self._add(Rule("slow", operation, seconds=seconds))

    def remove(self, rule: Rule) -> None:
        self.rules.remove(rule)

    def clear(self) -> None:
        self.rules.clear()

    def _add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    def decide(
        self, service: str, operation: str, access_key: str = "", region: str = ""
    ) -> Injection | None:
        """Apply the slow rules for one call, and the error to answer it with, if any."""
        with self._lock:
            self.operations.append(operation)
            delay = sum(
                r.seconds
                for r in self.rules
                if r.kind == "slow" and r.applies_to(operation, service)
            )
            limited = self.limits is not None and not self.limits.admit(
                service, operation, access_key, region
            )
            injection = throttling(service) if limited else self._draw_error(service, operation)
            self.last_error = injection
            if delay:
                self.injected[operation, "Slow"] += 1
            if injection is not None and not limited:
                self.injected[operation, injection.code] += 1
        if delay and self.clock is not None:
            self.clock.sleep(delay)  # outside the lock: the simulators tick during it
        return injection

    def _draw_error(self, service: str, operation: str) -> Injection | None:
        for rule in self.rules:
            if rule.kind == "slow" or not rule.applies_to(operation, service):
                continue
            if self._rng.random() >= rule.fraction:
                continue
            if rule.kind == "throttle":
                return throttling(service)
            status = rule.status or 500
            default_code, message = SERVER_ERRORS.get(status, SERVER_ERRORS[500])
            return Injection(status, rule.code or default_code, rule.message or message)
        return None

    def respond(self, operation: str, headers: Mapping[str, Any]) -> Response | None:
        """The error response for one request, or None to let moto answer it."""
        access_key, region, service = credential_scope(headers)
        injection = self.decide(service, operation, access_key, region)
        if injection is None:
            return None
        return error_response(injection, service, headers)


# -- reading requests ------------------------------------------------------------------


def header(headers: Mapping[str, Any], name: str) -> str:
    """A header's value, whatever its case and whether botocore left it as bytes."""
    for key, value in headers.items():
        if key.lower() == name:
            return value.decode() if isinstance(value, bytes) else str(value)
    return ""


def credential_scope(headers: Mapping[str, Any]) -> tuple[str, str, str]:
    """SigV4's access key, region and signing name (`elasticloadbalancing`, `ecs`…); ""
    for each of an unsigned request."""
    authorization = header(headers, "authorization")
    scope = re.search(r"Credential=([^/]*)/[^/]*/([^/]*)/([^/]+)/", authorization)
    return (scope.group(1), scope.group(2), scope.group(3)) if scope else ("", "", "")


def throttling(service: str) -> Injection:
    """The service's own throttling error (THROTTLING)."""
    code, status, message = THROTTLING.get(service, DEFAULT_THROTTLING)
    return Injection(status, code, message)


def operation_of(headers: Mapping[str, Any], body: bytes, query: str = "") -> str:
    """The operation of a JSON (X-Amz-Target) or query (Action=) request; "" for REST ones."""
    target = header(headers, "x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    form = body.decode("utf-8", "replace") if b"Action=" in body else ""
    for source in (form, query):
        action = parse_qs(source).get("Action")
        if action:
            return action[0]
    return ""


# -- writing errors --------------------------------------------------------------------


def error_response(injection: Injection, service: str, headers: Mapping[str, Any]) -> Response:
    """The error as the service would answer it, in the protocol the request was made in."""
    content_type = header(headers, "content-type")
    fault = "Sender" if injection.status < 500 else "Receiver"
    code, message = injection.code, injection.message
    if "x-www-form-urlencoded" in content_type:
        body = (
            "<ErrorResponse><Error>"
            f"<Type>{fault}</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>bluegreen-fault</RequestId></ErrorResponse>"
        )
        return injection.status, {"Content-Type": "text/xml"}, body.encode()
    if "json" in content_type or service in REST_JSON_SERVICES:
        out = {"Content-Type": content_type or "application/json", "x-amzn-ErrorType": code}
        if header(headers, "x-amzn-query-mode"):
            out["x-amzn-query-error"] = f"{code};{fault}"
        return injection.status, out, json.dumps({"__type": code, "message": message}).encode()
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return injection.status, {"Content-Type": "application/xml"}, body.encode()


# -- in process: around moto's botocore handler ----------------------------------------


@dataclass
class _Patch:
    active: Faults | None = None
    original: Callable[..., Any] | None = None


_patch = _Patch()


class SandboxLike(Protocol):
    """What `install` reads of a bluegreen.sandbox Sandbox. Named by its shape, not
    imported: the world (world.py) imports this module for the type of `Sandbox.faults`."""

    @property
    def clock(self) -> Clock: ...

    @property
    def seed(self) -> int: ...


def install(sandbox: SandboxLike | None = None, faults: Faults | None = None) -> Faults:
    """Inject `faults` (a new, empty set on the sandbox's clock and seed by default) into
    every botocore call moto answers in this process, until `uninstall()`."""
    from moto.core.botocore_stubber import BotocoreStubber

    if faults is None:
        clock = sandbox.clock if sandbox is not None else None
        faults = Faults(clock=clock, seed=sandbox.seed if sandbox is not None else 0)
    if _patch.original is None:
        _patch.original = _unwrapped(BotocoreStubber.__call__)
        BotocoreStubber.__call__ = _intercepting(_patch.original)  # type: ignore[method-assign]
    _patch.active = faults
    return faults


def active() -> Faults | None:
    """The Faults `install` put in front of moto in this process, if any."""
    return _patch.active


def uninstall() -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    if _patch.original is not None:
        BotocoreStubber.__call__ = _patch.original  # type: ignore[method-assign]
    _patch.original = None
    _patch.active = None


def _unwrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    """moto's own method under any stale wrappers of ours."""
    while (inner := getattr(method, "_faults_wraps", None)) is not None:
        method = inner
    return method


def _intercepting(original: Callable[..., Any]) -> Callable[..., Any]:
    def __call__(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        faults = _patch.active
        if faults is not None and stubber.enabled:  # never touch calls moto lets through
            # event_name is "before-send.<service id>.<Operation>"
            response = faults.respond(event_name.rsplit(".", 1)[-1], request.headers)
            if response is not None:
                from moto.core.botocore_stubber import MockRawResponse

                status, headers, body = response
                return AWSResponse(request.url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]
        return original(stubber, event_name, request, **kwargs)

    __call__._faults_wraps = original  # type: ignore[attr-defined]
    return __call__


# -- a moto server: WSGI middleware ----------------------------------------------------


def wrap_wsgi(app: WSGIApplication, faults: Faults) -> WSGIApplication:
    """`app` (e.g. a ThreadedMotoServer's) answering with `faults` first. REST requests
    (S3, Lambda) carry no operation name here: only rules for every operation hit them."""

    def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = _buffer_body(environ)
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        operation = operation_of(headers, body, environ.get("QUERY_STRING", ""))
        response = faults.respond(operation, headers)
        if response is None:
            return app(environ, start_response)
        status, out, payload = response
        start_response(f"{status} {HTTPStatus(status).phrase}", list(out.items()))
        return [payload]

    return middleware


def _buffer_body(environ: WSGIEnvironment) -> bytes:
    """Read the request body, and put it back for the app behind us."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body
