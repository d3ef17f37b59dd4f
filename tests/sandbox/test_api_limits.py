"""AWS's API request limits in the simulated AWS (bluegreen/sandbox/api_limits.py,
aws_limits.py): token buckets on the sandbox's clock, the service's own throttling error
when one is empty, the count a benchmark prints, and the product's retries absorbing it.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from server_harness import child_env, read_exports
from server_harness import client as server_client

from bluegreen import Deployer
from bluegreen.aws.retry import client_config
from bluegreen.aws_limits import CLOUDWATCH, ECS, ELB
from bluegreen.clock import VirtualClock
from bluegreen.config import parse_config
from bluegreen.sandbox import Sandbox, SandboxServer, in_process
from bluegreen.sandbox.api_limits import ApiLimits
from bluegreen.sandbox.stack import SandboxStack, build_stack
from bluegreen.sandbox.traffic import forward_weights

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
DESCRIBE = (ELB, "DescribeTargetHealth")
MODIFY = (ELB, "ModifyListener")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def limits(clock: VirtualClock) -> ApiLimits:
    return ApiLimits(clock)


def admitted(limits: ApiLimits, call: tuple[str, str], times: int, region: str = "") -> int:
    """How many of `times` calls at this instant the buckets let through."""
    return sum(limits.admit(*call, region=region) for _ in range(times))


# -- the arithmetic ----------------------------------------------------------------------


def test_a_burst_of_40_describes_passes_and_the_41st_is_throttled(limits: ApiLimits) -> None:
    assert admitted(limits, DESCRIBE, 40) == 40
    assert not limits.admit(*DESCRIBE)


def test_the_bucket_refills_at_10_a_second_of_the_clock(
    limits: ApiLimits, clock: VirtualClock
) -> None:
    admitted(limits, DESCRIBE, 40)

    clock.advance(1.0)
    assert admitted(limits, DESCRIBE, 11) == 10
    clock.advance(0.1)
    assert admitted(limits, DESCRIBE, 2) == 1
    clock.advance(3600)  # never more than its capacity
    assert admitted(limits, DESCRIBE, 41) == 40


def test_every_elb_call_also_draws_on_the_account_level_bucket(limits: ApiLimits) -> None:
    assert admitted(limits, MODIFY, 21) == 20  # the mutating bucket: 20

    # The account-level bucket (40) has 20 left, though the Describe* one is full.
    assert admitted(limits, DESCRIBE, 40) == 20


def test_a_throttled_call_takes_no_token(limits: ApiLimits) -> None:
    admitted(limits, MODIFY, 20)
    assert admitted(limits, MODIFY, 10) == 0  # the account-level bucket keeps its 20

    assert admitted(limits, DESCRIBE, 40) == 20


def test_ecs_buckets_are_per_category(limits: ApiLimits) -> None:
    assert admitted(limits, (ECS, "DescribeServices"), 101) == 100
    assert admitted(limits, (ECS, "DescribeTasks"), 1) == 1  # cluster resource read
    # DescribeTaskSets is not published: it shares the service reads' bucket (chosen).
    assert admitted(limits, (ECS, "DescribeTaskSets"), 1) == 0
    assert admitted(limits, (ECS, "UpdateService"), 51) == 50
    assert admitted(limits, (ECS, "UpdateServicePrimaryTaskSet"), 1) == 0


def test_cloudwatch_limits_each_operation_to_its_rate(
    limits: ApiLimits, clock: VirtualClock
) -> None:
    assert admitted(limits, (CLOUDWATCH, "GetMetricData"), 51) == 50
    assert admitted(limits, (CLOUDWATCH, "DescribeAlarms"), 10) == 9
    clock.advance(1.0)
    assert admitted(limits, (CLOUDWATCH, "GetMetricData"), 51) == 50


def test_each_region_has_its_own_buckets(limits: ApiLimits) -> None:
    admitted(limits, DESCRIBE, 40, region="us-east-1")

    assert admitted(limits, DESCRIBE, 1, region="us-west-2") == 1
    assert admitted(limits, DESCRIBE, 1, region="us-east-1") == 0


def test_scale_shrinks_capacity_and_refill(clock: VirtualClock) -> None:
    limits = ApiLimits(clock, scale=0.1)

    assert admitted(limits, DESCRIBE, 5) == 4
    clock.advance(1.0)
    assert admitted(limits, DESCRIBE, 2) == 1
    # A bucket keeps at least one token: a tenth of the CreateLoadBalancer bucket (10,
    # refilled at 0.2 a second) lets one call through, then one every 50 seconds.
    clock.advance(10)
    assert admitted(limits, (ELB, "CreateLoadBalancer"), 2) == 1
    clock.advance(49)
    assert admitted(limits, (ELB, "CreateLoadBalancer"), 1) == 0
    clock.advance(1)
    assert admitted(limits, (ELB, "CreateLoadBalancer"), 1) == 1
    with pytest.raises(ValueError, match="above 0"):
        limits.scale = 0


def test_off_counts_every_call_and_throttles_none(clock: VirtualClock) -> None:
    limits = ApiLimits(clock, enabled=False)

    assert admitted(limits, DESCRIBE, 100) == 100
    report = limits.report()
    assert report.bucket(ELB, "non-mutating (Describe*)").requests == 100
    assert report.bucket(ELB, "non-mutating (Describe*)").peak == 100
    assert report.throttled() == 0


def test_paused_calls_are_neither_limited_nor_counted(limits: ApiLimits) -> None:
    with limits.paused():
        assert admitted(limits, DESCRIBE, 100) == 100

    assert limits.report().requests() == 0
    assert admitted(limits, DESCRIBE, 40) == 40  # no token was taken


# -- the count -------------------------------------------------------------------------


def test_the_report_counts_requests_throttles_and_the_busiest_second(
    limits: ApiLimits, clock: VirtualClock
) -> None:
    admitted(limits, DESCRIBE, 45)  # 40 pass, 5 throttled
    clock.advance(0.5)
    admitted(limits, DESCRIBE, 3)  # 5 tokens came back: all pass
    clock.advance(2.0)
    admitted(limits, (ELB, "DescribeListeners"), 1)
    limits.admit("s3", "GetObject")  # counted, never limited

    report = limits.report()
    describes = report.bucket(ELB, "non-mutating (Describe*)")
    assert (describes.requests, describes.throttled, describes.peak) == (49, 5, 48)
    assert (describes.bucket.capacity, describes.bucket.refill) == (40, 10)
    assert report.bucket(ELB, "account level (every action)").requests == 49
    by_operation = {(o.service, o.operation): (o.requests, o.throttled) for o in report.operations}
    assert by_operation == {
        DESCRIBE: (48, 5),
        (ELB, "DescribeListeners"): (1, 0),
        ("s3", "GetObject"): (1, 0),
    }
    assert (report.requests(ELB), report.throttled(ELB), report.requests()) == (49, 5, 50)
    assert any("non-mutating (Describe*)" in line and " 49 " in line for line in report.lines())


def test_the_peak_is_over_one_second_windows(limits: ApiLimits, clock: VirtualClock) -> None:
    admitted(limits, DESCRIBE, 10)
    clock.advance(0.999)
    admitted(limits, DESCRIBE, 5)
    clock.advance(0.001)  # one second after the first ten: they left the window
    admitted(limits, DESCRIBE, 6)

    assert limits.report().bucket(ELB, "non-mutating (Describe*)").peak == 15


def test_reset_forgets_the_count_but_not_the_tokens(limits: ApiLimits) -> None:
    admitted(limits, DESCRIBE, 40)
    limits.reset()

    assert limits.report().requests() == 0
    assert not limits.admit(*DESCRIBE)


# -- through boto3: each service's own error, and nothing changed ------------------------


def one_attempt(service: str) -> Any:
    """A boto3 client making one attempt: botocore's own retries would really sleep."""
    return boto3.client(service, region_name="us-east-1", config=client_config())  # type: ignore[call-overload]


def blue_green_weights(sandbox: Sandbox, stack: SandboxStack) -> tuple[int, int]:
    with sandbox.api_limits.paused():  # looking must not cost a token
        listener = one_attempt("elbv2").describe_listeners(ListenerArns=[stack.http_listener_arn])
    groups = listener["Listeners"][0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    by_arn = {g["TargetGroupArn"]: int(g["Weight"]) for g in groups}
    return by_arn[stack.blue_tg_arn], by_arn[stack.green_tg_arn]


def test_elbv2_answers_throttling_and_changes_nothing(
    sandbox: Sandbox, sandbox_stack: SandboxStack
) -> None:
    sandbox.api_limits.scale = 0.025  # one token per ELB bucket
    elb = one_attempt("elbv2")
    forward = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": sandbox_stack.blue_tg_arn, "Weight": 50},
                {"TargetGroupArn": sandbox_stack.green_tg_arn, "Weight": 50},
            ]
        },
    }
    elb.describe_load_balancers()

    with pytest.raises(ClientError) as raised:
        elb.modify_listener(ListenerArn=sandbox_stack.http_listener_arn, DefaultActions=[forward])

    error: Any = raised.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"]) == ("Throttling", "Rate exceeded")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert sandbox.faults.last_error is not None  # an observer sees the refusal…
    assert not sandbox.faults.injected  # …which no fault rule injected
    assert blue_green_weights(sandbox, sandbox_stack) == (100, 0)  # moto never saw it
    assert sandbox.api_limits.report().throttled(ELB) == 1


def test_ecs_answers_throttling_exception(sandbox: Sandbox, sandbox_stack: SandboxStack) -> None:
    sandbox.api_limits.scale = 0.01  # one token in the service reads' bucket
    ecs = one_attempt("ecs")
    ecs.describe_services(cluster=sandbox_stack.cluster, services=[sandbox_stack.service])

    with pytest.raises(ClientError) as raised:
        ecs.describe_services(cluster=sandbox_stack.cluster, services=[sandbox_stack.service])

    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    ecs.list_tasks(cluster=sandbox_stack.cluster)  # another category, another bucket


def test_cloudwatch_answers_throttling(sandbox: Sandbox) -> None:
    sandbox.api_limits.scale = 0.1  # DescribeAlarms: 9 a second → 1
    cloudwatch = one_attempt("cloudwatch")
    cloudwatch.describe_alarms()

    with pytest.raises(ClientError) as raised:
        cloudwatch.describe_alarms()

    assert raised.value.response["Error"]["Code"] == "Throttling"
    sandbox.clock.advance(1.2)  # 0.9 tokens a second
    cloudwatch.describe_alarms()  # a token is back


def test_building_the_stack_costs_no_token(sandbox: Sandbox, sandbox_stack: SandboxStack) -> None:
    assert sandbox.api_limits.report().requests() == 0
    elb = one_attempt("elbv2")
    for _ in range(40):  # the account-level bucket is full
        elb.describe_target_groups()
    with pytest.raises(ClientError):
        elb.describe_target_groups()


def test_a_sandbox_server_limits_its_calls_too(server: SandboxServer) -> None:
    server.sandbox.api_limits.scale = 0.025
    server.sandbox.api_limits.refill()
    elb = server_client(server, "elbv2", retries={"total_max_attempts": 1})
    with server.time.paused():  # no refill between the two calls
        elb.describe_load_balancers()
        with pytest.raises(ClientError) as raised:
            elb.describe_load_balancers()

    assert raised.value.response["Error"]["Code"] == "Throttling"
    usage = server.sandbox.api_limits.report().bucket(ELB, "account level (every action)")
    assert (usage.region, usage.requests, usage.throttled) == ("us-east-1", 2, 1)


def test_sandbox_serve_takes_the_scale_of_the_limits(tmp_path: Path) -> None:
    # A tenth of a virtual second a real second: no token comes back during the test.
    command = ["-m", "bluegreen.cli", "sandbox", "serve", "--speed", "0.01"]
    config = ["--config-out", str(tmp_path / "bluegreen.toml"), "--api-limits", "0.025"]
    process = subprocess.Popen(
        [sys.executable, *command, *config],
        env=child_env({}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        endpoint = read_exports(process)["AWS_ENDPOINT_URL"]
        elb = boto3.client(
            "elbv2", region_name="us-east-1", endpoint_url=endpoint, config=client_config()
        )
        elb.describe_load_balancers()  # the one token of the ELB account-level bucket
        with pytest.raises(ClientError) as raised:
            elb.describe_load_balancers()
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert raised.value.response["Error"]["Code"] == "Throttling"


def test_no_limits_when_the_scale_is_zero() -> None:
    with in_process(Sandbox(api_limit_scale=0)) as sandbox:
        elb = one_attempt("elbv2")
        for _ in range(50):
            elb.describe_load_balancers()

        report = sandbox.api_limits.report()
    assert (report.enabled, report.requests(ELB), report.throttled()) == (False, 50, 0)


# -- the product under tiny buckets ------------------------------------------------------


def deployer(sandbox: Sandbox, stack: SandboxStack, tmp_path: Path) -> Deployer:
    config = parse_config(stack.config(), source=tmp_path / "bluegreen.toml")
    return Deployer(config, clock=sandbox.clock)


def test_a_deployment_retries_through_a_tenth_of_aws_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tenacity draws its back-off from `random`: seeded, the run repeats exactly.
    monkeypatch.setattr(random, "uniform", random.Random(7).uniform)
    with in_process(Sandbox(api_limit_scale=0.1)) as sandbox:
        stack = build_stack(sandbox)

        result = deployer(sandbox, stack, tmp_path).deploy({"web": V2})

        assert result.outcome == "succeeded", result.reason
        assert blue_green_weights(sandbox, stack) == (0, 100)
        report = sandbox.api_limits.report()
    account = report.bucket(ELB, "account level (every action)")
    assert account.throttled > 0
    assert account.peak > account.bucket.capacity  # asked for more than the bucket held
    # Every throttled call was asked again: each operation succeeded more often than not.
    assert all(o.requests > o.throttled for o in report.operations)


def throttle_hard_once_green_serves(sandbox: Sandbox, stack: SandboxStack, seconds: float) -> None:
    """From the first moment green takes traffic, `seconds` of throttling no retry outlasts
    (one token per bucket, refilled every 1000 s), then AWS's own limits again."""
    limits, started = sandbox.api_limits, list[float]()

    def tick(now: float) -> None:
        if not started:
            listener = sandbox.elbv2().load_balancers[stack.lb_arn].listeners
            rules = listener[stack.http_listener_arn].rules.values()
            if any(forward_weights(rule.actions).get(stack.green_tg_arn) for rule in rules):
                started.append(now)
                limits.scale = 0.001
        elif now - started[0] >= seconds:
            limits.scale = 1.0

    sandbox.on_tick(tick)


def test_sustained_throttling_during_a_bake_is_waited_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "uniform", random.Random(7).uniform)
    with in_process(Sandbox()) as sandbox:
        stack = build_stack(sandbox)
        throttle_hard_once_green_serves(sandbox, stack, seconds=60)

        result = deployer(sandbox, stack, tmp_path).deploy({"web": V2})

        assert sandbox.api_limits.report().throttled() > 0
        assert result.outcome == "succeeded", result.reason
