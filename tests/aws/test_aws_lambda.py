"""The Lambda adapter: moto (without Docker it echoes the payload) and a Stubber for the
answers moto cannot give (function errors)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from bluegreen.aws import AwsCloud
from bluegreen.aws.lambda_ import MAX_CLIENTS, LambdaFunctions
from bluegreen.aws.retry import AwsCaller
from bluegreen.clock import VirtualClock
from bluegreen.errors import MissingResourceError


def create_function(name: str) -> str:
    role = boto3.client("iam").create_role(
        RoleName="hook",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("hook.py", "def handler(event, context):\n    return event\n")
    arn: str = boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="hook.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    return arn


def test_invoke_returns_the_output(cloud: AwsCloud) -> None:
    arn = create_function("smoke")

    ok, output = cloud.functions.invoke(arn, b'{"step": 1}', timeout_seconds=30)

    assert ok is True
    assert json.loads(output) == {"step": 1}
    assert cloud.mutating_calls() == ["Invoke"]


def test_the_client_reads_a_little_longer_than_the_hook_timeout(cloud: AwsCloud) -> None:
    client = cloud._lambda_client(35.0)
    assert client.meta.config.read_timeout == 35.0
    assert client.meta.config.retries["total_max_attempts"] == 1


def stubbed(clock: VirtualClock) -> tuple[LambdaFunctions, Any, list[float]]:
    client = boto3.client("lambda", region_name="us-east-1")
    asked: list[float] = []

    def client_for(read_timeout: float) -> Any:
        asked.append(read_timeout)
        return client

    return LambdaFunctions(client_for, AwsCaller(clock, idempotent=False)), client, asked


def answer(body: bytes, **extra: Any) -> dict[str, Any]:
    return {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body)), **extra}


def test_a_function_error_is_not_success(clock: VirtualClock) -> None:
    functions, client, asked = stubbed(clock)
    error = b'{"errorMessage": "smoke test failed", "errorType": "AssertionError"}'
    with Stubber(client) as stub:
        stub.add_response("invoke", answer(error, FunctionError="Unhandled"))
        ok, output = functions.invoke("smoke", b"{}", timeout_seconds=60)

    assert ok is False
    assert output.startswith("Unhandled: ") and "smoke test failed" in output
    assert asked == [65.0]


def test_one_client_per_timeout(clock: VirtualClock) -> None:
    functions, client, asked = stubbed(clock)
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("invoke", answer(b"null"))
        functions.invoke("a", b"{}", timeout_seconds=10)
        functions.invoke("b", b"{}", timeout_seconds=10)
        functions.invoke("c", b"{}", timeout_seconds=20)
    assert asked == [15.0, 25.0]


def test_clients_kept_are_bounded(clock: VirtualClock) -> None:
    # A hook polled for hours reads for a shorter time at each invocation.
    functions, client, asked = stubbed(clock)
    with Stubber(client) as stub:
        for timeout in [100, 70, 40, 10, 5, 100]:
            stub.add_response("invoke", answer(b"null"))
            functions.invoke("poll", b"{}", timeout_seconds=timeout)
    assert asked == [105.0, 75.0, 45.0, 15.0, 10.0, 105.0]  # the first was dropped
    assert len(functions._clients) == MAX_CLIENTS


def test_invoke_a_missing_function(clock: VirtualClock) -> None:
    # moto echoes the payload even for a function that does not exist
    functions, client, _ = stubbed(clock)
    with Stubber(client) as stub, pytest.raises(MissingResourceError, match="function nope"):
        stub.add_client_error(
            "invoke", service_error_code="ResourceNotFoundException", http_status_code=404
        )
        functions.invoke("nope", b"{}", timeout_seconds=5)


class TimingOut:
    """A Lambda client whose invoke never answers in time."""

    def __init__(self) -> None:
        self.invocations = 0

    def invoke(self, **_: Any) -> Any:
        self.invocations += 1
        raise ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com")


def test_a_read_timeout_fails_the_hook_without_a_second_invocation(clock: VirtualClock) -> None:
    client = TimingOut()
    functions = LambdaFunctions(lambda _: client, AwsCaller(clock, idempotent=False))  # type: ignore[arg-type,return-value]

    ok, output = functions.invoke("slow", b"{}", timeout_seconds=3)

    assert (ok, output) == (False, "slow did not answer within 3 s")
    assert client.invocations == 1
