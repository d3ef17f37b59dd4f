"""Every AWS call goes through `AwsCaller.call`: bounded retries, a record of the call, and
the translation of botocore's errors into ours. No other layer retries: botocore's clients
are built with `client_config()` (one attempt each).

Rules:
- Retried, with random exponential back-off slept on the injected Clock: throttling codes,
  service-unavailable / internal-error codes, any HTTP 5xx, and connection errors. Up to
  `MAX_ATTEMPTS` attempts, then AwsError.
- A not-found answer becomes MissingResourceError naming the resource and how to fix it.
- NoCredentialsError / NoRegionError become ConfigError; anything else becomes AwsError.
- Calls that are not safe to repeat (a Lambda invoke) use `idempotent=False`: only errors
  that prove the request never ran (throttling, no connection) are retried.
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
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    ReadTimeoutError,
)
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from bluegreen.clock import Clock
from bluegreen.errors import AwsError, BluegreenError, ConfigError, MissingResourceError

P = ParamSpec("P")
T = TypeVar("T")

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 6

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


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError | ReadTimeoutError):
        return True
    if not isinstance(exc, ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(exc) in RETRYABLE_CODES or status >= 500


def is_retryable_unsent(exc: BaseException) -> bool:
    """Errors after which the request certainly did not run: safe to repeat anything."""
    return isinstance(exc, EndpointConnectionError) or is_throttling(exc)


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
    ) -> None:
        self.clock = clock
        self.calls: list[str] = calls if calls is not None else []
        self.region = region
        self.max_attempts = max_attempts
        self._retryable = is_retryable if idempotent else is_retryable_unsent

    def call(self, about: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)`; `about` names the resource for error messages."""
        operation = operation_name(fn)
        retrying = Retrying(
            sleep=self.clock.sleep,
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_random_exponential(multiplier=0.25, max=8),
            retry=retry_if_exception(self._retryable),
            before_sleep=_log_retry(operation),
            reraise=True,
        )
        try:
            result: T = retrying(self._attempt, operation, fn, *args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise self.translate(operation, about, exc) from exc
        return result

    def _attempt(self, operation: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        self.calls.append(operation)
        log.debug("aws.call", operation=operation)
        return fn(*args, **kwargs)

    def translate(
        self, operation: str, about: str, exc: ClientError | BotoCoreError
    ) -> BluegreenError:
        """Our error for one of botocore's."""
        if isinstance(exc, NoCredentialsError):
            return ConfigError(
                "no AWS credentials found",
                hint="set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            )
        if isinstance(exc, NoRegionError):
            return ConfigError("no AWS region configured", hint="set --region or AWS_REGION")
        if isinstance(exc, ClientError):
            return self._translate_client_error(operation, about, exc)
        if isinstance(exc, ParamValidationError):
            return AwsError(operation, "ParamValidationError", str(exc))
        hint = self._exhausted_hint() if self._retryable(exc) else None
        return AwsError(operation, type(exc).__name__, str(exc), hint=hint)

    def _translate_client_error(
        self, operation: str, about: str, exc: ClientError
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
        hint = self._exhausted_hint() if self._retryable(exc) else None
        return AwsError(operation, code, message, hint=hint)

    def _exhausted_hint(self) -> str:
        return (
            f"gave up after {self.max_attempts} attempts; AWS is throttling or unavailable: "
            "try again in a few minutes, or run fewer deployments at once in this account"
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
