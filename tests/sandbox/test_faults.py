"""Fault injection in the simulated AWS (bluegreen/sandbox/faults.py): errors answered
before moto runs the call, in each service's own shape; virtual latency; the product's
adapters retrying through throttling.

Uses the shared moto stack of tests/stack.py (`stack` fixture: ALB "web", blue/green
target groups, listeners forwarding blue 100 / green 0, ECS service "web").
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from wsgiref.util import setup_testing_defaults

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from moto.core.botocore_stubber import BotocoreStubber
from stack import Stack, build_stack

from bluegreen.aws import connect
from bluegreen.aws.fresh_reads import FRESH_FOR
from bluegreen.aws.retry import client_config
from bluegreen.sandbox import faults as faults_module
from bluegreen.sandbox.core import Sandbox
from bluegreen.sandbox.faults import Faults, wrap_wsgi

ORIGINAL_STUBBER_CALL = BotocoreStubber.__call__


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox()


@pytest.fixture
def stack(aws: None) -> Stack:
    """The plain moto stack of tests/stack.py: faults are tested apart from the simulators."""
    return build_stack()


@pytest.fixture
def faults(stack: Stack, sandbox: Sandbox) -> Iterator[Faults]:
    injected = faults_module.install(sandbox)
    try:
        yield injected
    finally:
        faults_module.uninstall()


def client(service: str) -> Any:
    """A plain boto3 client making one attempt: botocore's own retries would really sleep."""
    return boto3.client(service, region_name="us-east-1", config=client_config())  # type: ignore[call-overload]


def green_weight(stack: Stack) -> int:
    listener = client("elbv2").describe_listeners(ListenerArns=[stack.http_listener_arn])
    groups = listener["Listeners"][0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    return next(int(g["Weight"]) for g in groups if g["TargetGroupArn"] == stack.green_tg_arn)


def half_and_half(stack: Stack) -> list[dict[str, Any]]:
    groups = [
        {"TargetGroupArn": stack.blue_tg_arn, "Weight": 50},
        {"TargetGroupArn": stack.green_tg_arn, "Weight": 50},
    ]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


def test_a_throttled_modify_listener_fails_and_changes_nothing(
    stack: Stack, faults: Faults
) -> None:
    faults.throttle("ModifyListener")

    with pytest.raises(ClientError) as raised:
        client("elbv2").modify_listener(
            ListenerArn=stack.http_listener_arn, DefaultActions=half_and_half(stack)
        )

    error: Any = raised.value.response
    assert error["Error"]["Code"] == "Throttling"
    assert error["Error"]["Type"] == "Sender"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert green_weight(stack) == 0  # moto never saw the call
    assert faults.injected == {("ModifyListener", "Throttling"): 1}


def test_ecs_throttles_with_its_own_code(stack: Stack, faults: Faults) -> None:
    faults.throttle("DescribeServices")

    with pytest.raises(ClientError) as raised:
        client("ecs").describe_services(cluster=stack.cluster, services=[stack.service])

    assert raised.value.response["Error"] == {
        "Code": "ThrottlingException",
        "Message": "Rate exceeded",
    }
    client("ecs").list_services(cluster=stack.cluster)  # other operations are untouched


def test_cloudwatch_throttles_with_its_query_code(stack: Stack, faults: Faults) -> None:
    faults.throttle()

    with pytest.raises(ClientError) as raised:
        client("cloudwatch").describe_alarms()

    assert raised.value.response["Error"]["Code"] == "Throttling"


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [(500, None, "InternalFailure"), (503, None, "ServiceUnavailable"), (500, "Boom", "Boom")],
)
def test_server_errors(
    stack: Stack, faults: Faults, status: int, code: str | None, expected: str
) -> None:
    faults.fail("ModifyListener", status=status, code=code)

    with pytest.raises(ClientError) as raised:
        client("elbv2").modify_listener(
            ListenerArn=stack.http_listener_arn, DefaultActions=half_and_half(stack)
        )

    assert raised.value.response["Error"]["Code"] == expected
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert green_weight(stack) == 0


def test_a_rule_for_one_service_leaves_the_others_alone(stack: Stack, faults: Faults) -> None:
    faults.throttle(None, 1.0, service="ecs")

    client("elbv2").describe_load_balancers()
    assert faults.last_error is None
    with pytest.raises(ClientError):
        client("ecs").list_services(cluster=stack.cluster)

    assert faults.last_error is not None and faults.last_error.code == "ThrottlingException"
    assert faults.injected == {("ListServices", "ThrottlingException"): 1}


def test_a_fraction_throttles_about_that_fraction_and_repeats_with_the_seed() -> None:
    def run(seed: int) -> list[bool]:
        faults = Faults(seed=seed)
        faults.throttle(None, 0.2)
        return [faults.decide("ecs", "DescribeServices") is not None for _ in range(2000)]

    first = run(seed=7)

    assert 0.17 < sum(first) / len(first) < 0.23
    assert run(seed=7) == first
    assert run(seed=8) != first


def test_the_adapters_retry_through_throttling(
    stack: Stack, faults: Faults, sandbox: Sandbox
) -> None:
    faults.throttle(None, 0.2)
    cloud = connect(clock=sandbox.clock)
    start = sandbox.clock.now()

    for _ in range(50):
        assert cloud.elb.target_groups([stack.blue_tg_arn])[0].arn == stack.blue_tg_arn
        sandbox.clock.advance(FRESH_FOR)  # a read a moment later asks AWS again

    assert sum(faults.injected.values()) > 0
    assert set(faults.injected) == {("DescribeTargetGroups", "Throttling")}
    assert sandbox.clock.now() > start + 50 * FRESH_FOR  # the back-off slept on the clock


def test_slow_calls_advance_the_virtual_clock(
    stack: Stack, faults: Faults, sandbox: Sandbox
) -> None:
    ticks: list[float] = []
    sandbox.on_tick(ticks.append)
    faults.slow("DescribeLoadBalancers", seconds=2.5)
    start = sandbox.clock.now()

    client("elbv2").describe_load_balancers()
    client("elbv2").describe_target_groups()

    assert sandbox.clock.now() == start + 2.5
    assert ticks == [start + 2.5]  # the simulators moved the world meanwhile
    assert faults.injected == {("DescribeLoadBalancers", "Slow"): 1}


def test_uninstall_restores_moto(stack: Stack, sandbox: Sandbox) -> None:
    faults = faults_module.install(sandbox)
    faults.throttle()
    assert BotocoreStubber.__call__ is not ORIGINAL_STUBBER_CALL

    faults_module.uninstall()

    assert BotocoreStubber.__call__ is ORIGINAL_STUBBER_CALL
    client("elbv2").describe_load_balancers()
    assert not faults.injected


def test_a_stale_interceptor_left_by_a_patch_undone_out_of_order_is_not_chained(
    stack: Stack,
) -> None:
    # A test's monkeypatch of the same method, undone after the sandbox's uninstall, puts
    # our interceptor back: the next install must not wrap it again (each call would then
    # be decided twice — 20 % throttling became 36 %, and a test failed now and then).
    faults_module.install(Sandbox())
    ours = BotocoreStubber.__call__
    faults_module.uninstall()
    BotocoreStubber.__call__ = ours  # type: ignore[method-assign]  # the stale one
    try:
        faults = faults_module.install(Sandbox())
        client("elbv2").describe_load_balancers()
        assert faults.operations == ["DescribeLoadBalancers"]  # decided once
        faults_module.uninstall()
        assert BotocoreStubber.__call__ is ORIGINAL_STUBBER_CALL
    finally:
        BotocoreStubber.__call__ = ORIGINAL_STUBBER_CALL  # type: ignore[method-assign]


# -- server mode: WSGI middleware ------------------------------------------------------

QUERY_AUTH = "AWS4-HMAC-SHA256 Credential=AKID/20270115/us-east-1/elasticloadbalancing/aws4_request"
ECS_AUTH = "AWS4-HMAC-SHA256 Credential=AKID/20270115/us-east-1/ecs/aws4_request"


def wsgi_call(app: Any, body: bytes, **environ: str) -> tuple[str, bytes]:
    env: dict[str, Any] = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)), **environ}
    setup_testing_defaults(env)
    env["wsgi.input"] = io.BytesIO(body)
    seen: list[str] = []
    payload = b"".join(app(env, lambda status, headers: seen.append(status)))
    return seen[0], payload


def echo(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [environ["wsgi.input"].read()]


def test_wsgi_middleware_answers_faults_in_the_query_protocol() -> None:
    faults = Faults()
    faults.throttle("ModifyListener")
    app = wrap_wsgi(echo, faults)
    form = dict(CONTENT_TYPE="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=QUERY_AUTH)

    status, body = wsgi_call(app, b"Action=ModifyListener&Version=2015-12-01", **form)
    parsed = create_parser("query").parse(
        {"status_code": 400, "headers": {}, "body": body},
        None,  # type: ignore[arg-type]  # no output shape: an error
    )

    assert status == "400 Bad Request"
    assert parsed["Error"]["Code"] == "Throttling"
    assert wsgi_call(app, b"Action=DescribeListeners", **form) == (
        "200 OK",
        b"Action=DescribeListeners",
    )


def test_wsgi_middleware_reads_json_operations() -> None:
    faults = Faults()
    faults.fail("DescribeServices", status=503)
    app = wrap_wsgi(echo, faults)
    json_request = dict(
        CONTENT_TYPE="application/x-amz-json-1.1",
        HTTP_AUTHORIZATION=ECS_AUTH,
        HTTP_X_AMZ_TARGET="AmazonEC2ContainerServiceV20141113.DescribeServices",
    )

    status, body = wsgi_call(app, b"{}", **json_request)

    assert status == "503 Service Unavailable"
    assert b'"__type": "ServiceUnavailable"' in body
    assert faults.injected == {("DescribeServices", "ServiceUnavailable"): 1}
