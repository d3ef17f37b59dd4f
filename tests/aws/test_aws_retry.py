"""Retries and error translation: faults are injected with a botocore `before-call`
handler that answers in moto's place, so a throttled call is never applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError
from stack import Stack

from bluegreen.aws import AwsCloud, connect
from bluegreen.aws.retry import (
    CONNECT_ATTEMPTS,
    MAX_ATTEMPTS,
    MAX_WAIT,
    THROTTLED_CHANGE_FOR,
    AwsCaller,
    is_not_found,
    operation_name,
)
from bluegreen.clock import VirtualClock
from bluegreen.errors import AwsError, ConfigError, EndpointUnreachable, MissingResourceError
from bluegreen.model import AlarmState, RouteKind, RouteRef

Handler = Callable[..., Any]


def failing(times: int, code: str = "Throttling", status: int = 400) -> Handler:
    """Answers the first `times` calls with an AWS error, then lets them through."""
    left = [times]

    def handler(**_: Any) -> Any:
        if left[0] == 0:
            return None
        left[0] -= 1
        parsed = {
            "Error": {"Code": code, "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://monitoring.amazonaws.com", status, {}, None), parsed

    return handler


def unreachable(times: int) -> Handler:
    left = [times]

    def handler(**_: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise EndpointConnectionError(endpoint_url="https://monitoring.amazonaws.com")

    return handler


def cloud_with(event: str, handler: Handler, clock: VirtualClock) -> AwsCloud:
    # Clients copy the session's handlers when they are made: register first.
    session = boto3.Session()
    session.events.register(event, handler)
    return AwsCloud(session, clock=clock)


def sleeps_of(clock: VirtualClock) -> list[float]:
    sleeps: list[float] = []
    last = [clock.now()]

    def record(now: float) -> None:
        sleeps.append(now - last[0])
        last[0] = now

    clock.on_advance(record)
    return sleeps


# The retry layer is the same for every service: CloudWatch needs no stack to answer.
DESCRIBE_ALARMS = "before-call.cloudwatch.DescribeAlarms"


def test_throttled_twice_then_answered(aws: None, clock: VirtualClock) -> None:
    cloud = cloud_with(DESCRIBE_ALARMS, failing(2), clock)
    sleeps = sleeps_of(clock)

    assert cloud.alarms.alarm_states(["web-5xx"]) == {"web-5xx": AlarmState.MISSING}

    assert cloud.calls == ["DescribeAlarms"] * 3
    assert len(sleeps) == 2 and all(0 <= s <= 8 for s in sleeps)


def test_always_throttled_gives_up_after_bounded_attempts(aws: None, clock: VirtualClock) -> None:
    cloud = cloud_with(DESCRIBE_ALARMS, failing(100), clock)
    sleeps = sleeps_of(clock)

    with pytest.raises(AwsError) as caught:
        cloud.alarms.alarm_states(["web-5xx"])

    error = caught.value
    assert (error.operation, error.code, error.exit_code) == ("DescribeAlarms", "Throttling", 1)
    assert error.hint and f"after {MAX_ATTEMPTS} attempts" in error.hint
    assert error.transient  # it may pass: a rollback tries again, a preflight is not failed
    assert cloud.calls == ["DescribeAlarms"] * MAX_ATTEMPTS
    assert len(sleeps) == MAX_ATTEMPTS - 1 and max(sleeps) <= 8


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("InternalFailure", 500),
        ("SomethingNew", 503),
        ("ServiceUnavailable", 503),
        ("RequestLimitExceeded", 400),
    ],
)
def test_retryable_answers(aws: None, clock: VirtualClock, code: str, status: int) -> None:
    cloud = cloud_with(DESCRIBE_ALARMS, failing(1, code, status), clock)

    cloud.alarms.alarm_states(["web-5xx"])

    assert cloud.calls == ["DescribeAlarms"] * 2


def test_connection_errors_are_retried(aws: None, clock: VirtualClock) -> None:
    cloud = cloud_with(DESCRIBE_ALARMS, unreachable(2), clock)

    cloud.alarms.alarm_states(["web-5xx"])

    assert len(cloud.calls) == 3


def test_an_unreachable_endpoint_is_named_and_given_up_on_within_a_second(
    aws: None, clock: VirtualClock
) -> None:
    cloud = cloud_with(DESCRIBE_ALARMS, unreachable(100), clock)
    sleeps = sleeps_of(clock)

    with pytest.raises(EndpointUnreachable) as caught:
        cloud.alarms.alarm_states(["web-5xx"])

    error = caught.value
    assert error.message.startswith(
        "could not reach the AWS endpoint https://monitoring.amazonaws.com (DescribeAlarms)"
    )
    assert error.hint and "--endpoint-url" in error.hint and "us-east-1" in error.hint
    assert "throttl" not in str(error).lower()
    assert error.exit_code == 2
    assert cloud.calls == ["DescribeAlarms"] * CONNECT_ATTEMPTS
    assert sum(sleeps) <= 0.75  # waits of at most 0.25 s and 0.5 s


@pytest.mark.parametrize(
    ("code", "status", "says"),
    [("Throttling", 400, "kept throttling"), ("ServiceUnavailable", 503, "kept failing")],
)
def test_giving_up_says_whether_aws_throttled_or_failed(
    aws: None, clock: VirtualClock, code: str, status: int, says: str
) -> None:
    cloud = cloud_with(DESCRIBE_ALARMS, failing(100, code, status), clock)

    with pytest.raises(AwsError) as caught:
        cloud.alarms.alarm_states(["web-5xx"])

    assert caught.value.hint and says in caught.value.hint


def test_an_error_that_will_not_go_away_is_not_retried(aws: None, clock: VirtualClock) -> None:
    cloud = cloud_with(DESCRIBE_ALARMS, failing(1, "ValidationError", 400), clock)

    with pytest.raises(AwsError, match="DescribeAlarms failed: ValidationError") as caught:
        cloud.alarms.alarm_states(["web-5xx"])

    assert cloud.calls == ["DescribeAlarms"] and not caught.value.transient
    assert clock.now() == VirtualClock().now()


def test_access_denied_points_at_the_policy(aws: None, clock: VirtualClock) -> None:
    cloud = cloud_with(DESCRIBE_ALARMS, failing(1, "AccessDenied", 403), clock)

    with pytest.raises(AwsError) as caught:
        cloud.alarms.alarm_states(["web-5xx"])
    assert caught.value.hint and "bluegreen iam-policy" in caught.value.hint


MODIFY_LISTENER = "before-call.elastic-load-balancing-v2.ModifyListener"


def test_a_throttled_write_is_not_applied_and_is_tried_for_a_minute(
    stack: Stack, clock: VirtualClock
) -> None:
    # A change is tried for THROTTLED_CHANGE_FOR seconds, not MAX_ATTEMPTS times: given up
    # half way through a shift or a rollback, it costs far more than the wait.
    cloud = cloud_with(MODIFY_LISTENER, failing(1000), clock)
    ref = RouteRef(RouteKind.LISTENER, stack.http_listener_arn)
    start = clock.now()

    with pytest.raises(AwsError) as caught:
        cloud.elb.set_weights(ref, {stack.blue_tg_arn: 0, stack.green_tg_arn: 1})

    assert cloud.elb.route(ref).weights == {stack.blue_tg_arn: 100, stack.green_tg_arn: 0}
    assert THROTTLED_CHANGE_FOR <= clock.now() - start <= THROTTLED_CHANGE_FOR + MAX_WAIT
    assert len(cloud.mutating_calls()) > MAX_ATTEMPTS
    assert set(cloud.mutating_calls()) == {"ModifyListener"}
    assert caught.value.transient
    assert caught.value.hint and f"after {THROTTLED_CHANGE_FOR:g}s of attempts" in caught.value.hint


def test_a_write_throttled_past_the_attempts_of_a_read_goes_through(
    stack: Stack, clock: VirtualClock
) -> None:
    cloud = cloud_with(MODIFY_LISTENER, failing(MAX_ATTEMPTS + 3), clock)
    ref = RouteRef(RouteKind.LISTENER, stack.http_listener_arn)

    cloud.elb.set_weights(ref, {stack.blue_tg_arn: 0, stack.green_tg_arn: 1})

    assert cloud.elb.route(ref).weights == {stack.blue_tg_arn: 0, stack.green_tg_arn: 1}
    assert cloud.mutating_calls() == ["ModifyListener"] * (MAX_ATTEMPTS + 4)


def test_a_write_failing_past_its_attempts_is_not_tried_for_longer(
    stack: Stack, clock: VirtualClock
) -> None:
    # Only throttling proves the request was not run and will pass: a 5xx keeps its attempts.
    cloud = cloud_with(MODIFY_LISTENER, failing(1000, "InternalFailure", 500), clock)
    ref = RouteRef(RouteKind.LISTENER, stack.http_listener_arn)

    with pytest.raises(AwsError):
        cloud.elb.set_weights(ref, {stack.blue_tg_arn: 0, stack.green_tg_arn: 1})

    assert cloud.mutating_calls() == ["ModifyListener"] * MAX_ATTEMPTS


def test_no_credentials_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, clock: VirtualClock
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.delenv("AWS_SECURITY_TOKEN")
    cloud = connect(clock=clock)

    with pytest.raises(ConfigError, match="no AWS credentials") as caught:
        cloud.elb.load_balancer("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y")
    assert caught.value.exit_code == 2


def client_error(code: str, message: str, status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "DescribeTaskDefinition")


@pytest.mark.parametrize(
    ("code", "message", "missing"),
    [
        ("ClientException", "Unable to describe task definition.", True),
        ("ClientException", "The specified task set does not exist.", True),
        ("ClientException", "TaskDefinition not found.", True),
        ("ClientException", "Container web has no memory set.", False),
        ("ServiceNotFoundException", "Service not found.", True),
        ("ListenerNotFound", "The specified listener does not exist.", True),
        ("ResourceNotFoundException", "Function not found: nope", True),
        ("ValidationError", "1 validation error", False),
    ],
)
def test_what_counts_as_not_found(code: str, message: str, missing: bool) -> None:
    assert is_not_found(code, message) is missing


def test_not_found_names_the_resource_the_region_and_a_fix(clock: VirtualClock) -> None:
    aws = AwsCaller(clock, region="eu-west-1")

    error = aws.translate(
        "DescribeServices",
        "service web in cluster prod",
        client_error("ClusterNotFoundException", "Cluster not found."),
    )

    assert isinstance(error, MissingResourceError)
    assert error.message.startswith("service web in cluster prod not found in eu-west-1")
    assert error.hint and "list-clusters" in error.hint and "eu-west-1" in error.hint


def test_operation_name() -> None:
    client = boto3.client("ecs", region_name="us-east-1")
    assert operation_name(client.describe_task_definition) == "DescribeTaskDefinition"
    assert operation_name(client.update_service_primary_task_set) == ("UpdateServicePrimaryTaskSet")
