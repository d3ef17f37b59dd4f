"""Every AWS call goes through `AwsCaller.call`: bounded retries, a record of the call, and
the translation of botocore's errors into ours. No other layer retries: botocore's clients
are built with `client_config()` (one attempt each).

Rules:
- Retried, with random exponential back-off slept on the injected Clock: throttling codes,
  service-unavailable / internal-error codes, any HTTP 5xx, and answers lost on the way
  (connection closed, read timeout). Up to `MAX_ATTEMPTS` attempts, then AwsError saying
  whether AWS kept throttling or kept failing.
- A change (any call but Describe/List/Get) that AWS keeps throttling is tried for longer:
  until THROTTLED_CHANGE_FOR seconds of the clock have passed since its first attempt (at
  least MAX_ATTEMPTS attempts), with the same jittered back-off. Throttling means the
  request was not run, and a change given up half way through a shift or a rollback costs
  far more than a wait; a read given up is absorbed by its caller (a skipped poll).
- No connection at all (refused, name not resolved, connect timeout, proxy, TLS): retried
  `CONNECT_ATTEMPTS` times within a second — a blip passes, a wrong endpoint never does —
  then EndpointUnreachable naming the endpoint and what to check. Never called throttling.
- A not-found answer becomes MissingResourceError naming the resource and how to fix it.
- NoCredentialsError / NoRegionError become ConfigError; anything else becomes AwsError,
  `transient` when it is a retryable error that outlasted the retries (it may pass: the
  rollback runs again, a preflight does not count it as a finding).
- Calls that are not safe to repeat (a Lambda invoke) use `idempotent=False`: only errors
  that prove the request never ran (throttling, no connection) are retried.
- With `reads` (the AwsCloud's FreshReads), identical describes within a moment share one
  answer and every change drops the answers it may make stale (fresh_reads.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import structlog
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as NoConnectionError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    wait_random_exponential,
)

from bluegreen.aws.fresh_reads import READ_ONLY_PREFIXES, FreshReads
from bluegreen.aws.pacer import Pacer
from bluegreen.clock import Clock
from bluegreen.errors import (
    AwsError,
    BluegreenError,
    ConfigError,
    EndpointUnreachable,
    MissingResourceError,
)

P = ParamSpec("P")
T = TypeVar("T")

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 6
MAX_WAIT = 8.0  # seconds: the longest back-off between two attempts
# A throttled change is tried this long (some 15 attempts at MAX_WAIT's jittered back-off):
# a token bucket refills in seconds (ELB's Describe one, 40 at 10/s, in 4 s), so only a
# crowd of other clients throttles longer; the engine then tries the whole step again.
THROTTLED_CHANGE_FOR = 60.0
# No connection at all: 3 attempts, waits of at most 0.25 s and 0.5 s.
CONNECT_ATTEMPTS = 3

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
    }
)
RETRYABLE_CODES = THROTTLING_CODES | {
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
}

CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "AuthFailure",
    }
)

_CHECK_REGION = "check the name or ARN, and that the region ({region}) is the right one"
NOT_FOUND_HINTS: dict[str, str] = {
    "TargetGroupNotFound": "check [target_groups] in the configuration; "
    "`bluegreen init` can create the green target group as a copy of blue; " + _CHECK_REGION,
    "ListenerNotFound": "check the listener ARNs in the configuration "
    "(aws elbv2 describe-listeners --load-balancer-arn …); " + _CHECK_REGION,
    "RuleNotFound": "check the rule ARNs in the configuration "
    "(aws elbv2 describe-rules --listener-arn …); " + _CHECK_REGION,
    "LoadBalancerNotFound": _CHECK_REGION,
    "ClusterNotFoundException": "check [service] cluster in the configuration "
    "(aws ecs list-clusters); " + _CHECK_REGION,
    "ServiceNotFoundException": "check [service] name in the configuration "
    "(aws ecs list-services --cluster …); " + _CHECK_REGION,
    "TaskSetNotFoundException": "the task set was deleted; `bluegreen status` shows what runs",
    "ResourceNotFound": _CHECK_REGION,
    "ResourceNotFoundException": _CHECK_REGION,
    "ClientException": "check the task definition (family:revision or ARN; "
    "aws ecs list-task-definitions), the cluster and the service; " + _CHECK_REGION,
}
# ECS answers a generic ClientException for a missing task definition or task set: only
# its message tells a missing resource from a bad request.
_NOT_FOUND_MESSAGES = ("not found", "does not exist", "unable to describe task definition")


def client_config(**overrides: Any) -> Config:
    """botocore client settings: a single attempt, since AwsCaller is the retry layer."""
    # Not "max_attempts": botocore reads it as *retries* after the first attempt (1 → 2 calls).
    return Config(retries={"total_max_attempts": 1, "mode": "standard"}, **overrides)


def error_code(exc: BaseException | None) -> str | None:
    """The AWS error code of a ClientError, or of the ClientError that caused `exc`."""
    while exc is not None:
        if isinstance(exc, ClientError):
            return str(exc.response.get("Error", {}).get("Code", "")) or None
        exc = exc.__cause__
    return None


def is_throttling(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in THROTTLING_CODES


def is_unreachable(exc: BaseException) -> bool:
    """No connection could be made (refused, DNS, connect timeout, proxy, TLS): the request
    was never sent. botocore's ConnectionError, not the builtin."""
    return isinstance(exc, NoConnectionError)


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, NoConnectionError | ConnectionClosedError | ReadTimeoutError):
        return True
    if not isinstance(exc, ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(exc) in RETRYABLE_CODES or status >= 500


def is_retryable_unsent(exc: BaseException) -> bool:
    """Errors after which the request certainly did not run: safe to repeat anything."""
    return is_unreachable(exc) or is_throttling(exc)


def service_name(fn: Callable[..., object]) -> str:
    """The service of a client method: "elbv2", "ecs", "cloudwatch"… ("" for a plain function)."""
    meta = getattr(getattr(fn, "__self__", None), "meta", None)
    model = getattr(meta, "service_model", None)
    return str(getattr(model, "service_name", ""))


def operation_name(fn: Callable[..., object]) -> str:
    """The API name of a client method: `describe_target_groups` → DescribeTargetGroups."""
    method = getattr(fn, "__name__", "call")
    meta = getattr(getattr(fn, "__self__", None), "meta", None)
    mapping: dict[str, str] = getattr(meta, "method_to_api_mapping", {})
    return mapping.get(method) or "".join(part.title() for part in method.split("_"))


def is_not_found(code: str, message: str) -> bool:
    if code in NOT_FOUND_HINTS and code != "ClientException":
        return True
    return code == "ClientException" and any(m in message.lower() for m in _NOT_FOUND_MESSAGES)


class AwsCaller:
    """Runs one botocore client method with retries, records it, translates its errors."""

    def __init__(
        self,
        clock: Clock,
        *,
        calls: list[str] | None = None,
        region: str = "us-east-1",
        max_attempts: int = MAX_ATTEMPTS,
        idempotent: bool = True,
        reads: FreshReads | None = None,
        throttled_change_for: float = THROTTLED_CHANGE_FOR,
        pacer: Pacer | None = None,
    ) -> None:
        self.clock = clock
        self.calls: list[str] = calls if calls is not None else []
        self.region = region
        self.max_attempts = max_attempts
        self.reads = reads
        self.throttled_change_for = throttled_change_for
        self.pacer = pacer
        self._retryable = is_retryable if idempotent else is_retryable_unsent

    def call(self, about: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)`; `about` names the resource for error messages."""
        operation = operation_name(fn)

        def fetch() -> T:
            return self._call(operation, about, fn, *args, **kwargs)

        if self.reads is None:
            return fetch()
        return self.reads.call(service_name(fn), operation, kwargs, fetch)

    def _call(
        self, operation: str, about: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        change = not operation.startswith(READ_ONLY_PREFIXES)
        retrying = Retrying(
            sleep=self.clock.sleep,
            stop=self._stopper(change, self.clock.now()),
            wait=wait_random_exponential(multiplier=0.25, max=MAX_WAIT),
            retry=retry_if_exception(self._retryable),
            before_sleep=_log_retry(operation),
            reraise=True,
        )
        try:
            result: T = retrying(self._attempt, operation, fn, *args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise self.translate(operation, about, exc, change=change) from exc
        return result

    def _stopper(self, change: bool, started: float) -> Callable[[RetryCallState], bool]:
        """After MAX_ATTEMPTS; after CONNECT_ATTEMPTS when the endpoint cannot be reached; a
        throttled change, once THROTTLED_CHANGE_FOR seconds have passed too."""

        def stop(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            limit = self.max_attempts
            if exc is not None and is_unreachable(exc):
                limit = min(limit, CONNECT_ATTEMPTS)
            if state.attempt_number < limit:
                return False
            if change and exc is not None and is_throttling(exc):
                return self.clock.now() - started >= self.throttled_change_for
            return True

        return stop

    def _attempt(self, operation: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self.pacer is not None:  # every request sent, each attempt too, within our share
            self.pacer.take(service_name(fn), operation)
        self.calls.append(operation)
        log.debug("aws.call", operation=operation)
        return fn(*args, **kwargs)

    def translate(
        self, operation: str, about: str, exc: ClientError | BotoCoreError, *, change: bool = False
    ) -> BluegreenError:
        """Our error for one of botocore's."""
        if isinstance(exc, NoCredentialsError):
            return ConfigError(
                "no AWS credentials found (looked in the environment, the shared credentials "
                "and config files, and the container or instance role)",
                hint="name a profile with --profile or AWS_PROFILE (`aws configure` or "
                "`aws sso login` sets one up), or set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys); "
                "to rehearse with no account: `bluegreen demo`",
            )
        if isinstance(exc, NoRegionError):
            return ConfigError("no AWS region configured", hint="set --region or AWS_REGION")
        if isinstance(exc, ClientError):
            return self._translate_client_error(operation, about, exc, change)
        if isinstance(exc, ParamValidationError):
            return AwsError(operation, "ParamValidationError", str(exc))
        if is_unreachable(exc):
            return self._unreachable(operation, exc)
        transient = self._retryable(exc)
        hint = self._exhausted_hint(exc, change) if transient else None
        return AwsError(operation, type(exc).__name__, str(exc), hint=hint, transient=transient)

    def _translate_client_error(
        self, operation: str, about: str, exc: ClientError, change: bool
    ) -> BluegreenError:
        code = error_code(exc) or "Unknown"
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if is_not_found(code, message):
            fix = NOT_FOUND_HINTS.get(code, _CHECK_REGION).format(region=self.region)
            return MissingResourceError(
                f"{about} not found in {self.region} ({operation}: {code}: {message})",
                hint=fix,
            )
        if code in CREDENTIAL_CODES:
            return AwsError(
                operation,
                code,
                message,
                hint="the AWS credentials are expired or invalid: refresh them "
                "(e.g. `aws sso login`) or check AWS_PROFILE / --profile",
            )
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return AwsError(
                operation,
                code,
                message,
                hint="`bluegreen iam-policy` prints the permissions this configuration needs",
            )
        transient = self._retryable(exc)
        hint = self._exhausted_hint(exc, change) if transient else None
        return AwsError(operation, code, message, hint=hint, transient=transient)

    def _exhausted_hint(self, exc: BaseException, change: bool = False) -> str:
        gave_up = f"gave up after {self.max_attempts} attempts"
        if change and is_throttling(exc):
            gave_up = f"gave up after {self.throttled_change_for:g}s of attempts"
        if is_throttling(exc):
            return (
                f"{gave_up}: AWS kept throttling; try again in a few minutes, or run fewer "
                "deployments (or other API clients) at once in this account and region"
            )
        return (
            f"{gave_up}: AWS kept failing (unavailable, or the answer was lost); "
            "try again in a few minutes, and check the AWS Health Dashboard for the region"
        )

    def _unreachable(self, operation: str, exc: BotoCoreError) -> EndpointUnreachable:
        fields: dict[str, Any] = getattr(exc, "kwargs", {})
        endpoint = str(fields.get("endpoint_url") or fields.get("proxy_url") or "(unknown)")
        # urllib3 says "AWSHTTPConnection(host=…, port=…): Failed to …": keep the why
        cause = str(fields.get("error") or exc).rsplit("): ", 1)[-1]
        return EndpointUnreachable(
            operation,
            endpoint,
            f"{cause} (tried {min(self.max_attempts, CONNECT_ATTEMPTS)} times)",
            hint="check the endpoint URL (--endpoint-url, AWS_ENDPOINT_URL: leave them unset "
            f"for AWS itself) and the region ({self.region}), then the network: DNS, a proxy "
            "(HTTPS_PROXY), a firewall; for the simulated AWS, that `bluegreen sandbox serve` "
            "is still running",
        )


def _log_retry(operation: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "aws.retry",
            operation=operation,
            attempt=state.attempt_number,
            error=error_code(exc) or type(exc).__name__,
            wait_seconds=round(state.upcoming_sleep, 3),
        )

    return before_sleep
