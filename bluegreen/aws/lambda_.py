"""AWS Lambda: synchronous invocation for hooks (implements `bluegreen.ports.Functions`).

An invocation is not safe to repeat: only errors proving the function did not run
(throttling, no connection) are retried, and a read timeout is an answer — the hook failed —
not a reason to call again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bluegreen.aws.retry import AwsCaller
from bluegreen.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

# Extra read time beyond the hook's timeout, so the function's own timeout answers first.
READ_TIMEOUT_MARGIN = 5.0
# Clients kept, one per read timeout: a hook invoked again (ECS's IN_PROGRESS) reads for
# what is left of its timeout, a new value each time, and must not grow the cache for ever.
MAX_CLIENTS = 4


class LambdaFunctions:
    """`Functions` on boto3's Lambda client.

    `client_for` builds a client whose read timeout is the given number of seconds; one is
    kept per timeout, the MAX_CLIENTS most recently built.
    """

    def __init__(self, client_for: Callable[[float], LambdaClient], aws: AwsCaller) -> None:
        self._client_for = client_for
        self._clients: dict[float, LambdaClient] = {}
        self._aws = aws

    def invoke(self, function: str, payload: bytes, timeout_seconds: float) -> tuple[bool, str]:
        read_timeout = timeout_seconds + READ_TIMEOUT_MARGIN
        client = self._clients.get(read_timeout)
        if client is None:
            if len(self._clients) >= MAX_CLIENTS:
                del self._clients[next(iter(self._clients))]  # the oldest
            client = self._clients[read_timeout] = self._client_for(read_timeout)
        try:
            resp = self._aws.call(
                f"Lambda function {function}",
                client.invoke,
                FunctionName=function,
                InvocationType="RequestResponse",
                Payload=payload,
            )
        except AwsError as exc:
            if exc.code == "ReadTimeoutError":
                return False, f"{function} did not answer within {timeout_seconds:g} s"
            raise
        body = resp["Payload"].read().decode("utf-8", errors="replace")
        if resp.get("FunctionError") or resp.get("StatusCode", 200) >= 300:
            error = resp.get("FunctionError") or f"status {resp.get('StatusCode')}"
            return False, f"{error}: {body}"
        return True, body
