"""Reads shared for a moment (bluegreen/aws/fresh_reads.py) and alarm states fetched for
every deployment at once (alarm_interest.py), on moto: what reaches AWS (`cloud.calls`)
and, first, that no answer is ever stale after a change of ours."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from stack import Stack

from bluegreen.aws import AwsCloud
from bluegreen.aws.fresh_reads import FRESH_FOR
from bluegreen.clock import VirtualClock
from bluegreen.errors import AwsError
from bluegreen.model import AlarmState, RouteKind, RouteRef


def listener(stack: Stack) -> RouteRef:
    return RouteRef(RouteKind.LISTENER, stack.http_listener_arn)


def test_the_same_read_within_a_moment_is_asked_of_aws_once(
    cloud: AwsCloud, stack: Stack, clock: VirtualClock
) -> None:
    first = cloud.elb.target_health(stack.blue_tg_arn)
    clock.advance(FRESH_FOR / 2)
    again = cloud.elb.target_health(stack.blue_tg_arn)
    cloud.elb.target_health(stack.green_tg_arn)  # another group: its own read

    assert again == first
    assert cloud.calls == ["DescribeTargetHealth"] * 2


def test_a_read_is_asked_again_once_it_is_no_longer_fresh(
    cloud: AwsCloud, stack: Stack, clock: VirtualClock
) -> None:
    cloud.elb.route(listener(stack))
    clock.advance(FRESH_FOR)
    cloud.elb.route(listener(stack))

    assert cloud.calls == ["DescribeListeners"] * 2


def test_a_read_after_our_own_change_shows_the_change(
    cloud: AwsCloud, stack: Stack, clock: VirtualClock
) -> None:
    # The promise that makes sharing safe: a modify, then a read at the same moment,
    # returns the new weights. Kills dropping nothing on ModifyListener.
    ref = listener(stack)
    assert cloud.elb.route(ref).weights == {stack.blue_tg_arn: 100, stack.green_tg_arn: 0}

    cloud.elb.set_weights(ref, {stack.blue_tg_arn: 90, stack.green_tg_arn: 10})

    assert cloud.elb.route(ref).weights == {stack.blue_tg_arn: 90, stack.green_tg_arn: 10}
    routes = [c for c in cloud.calls if c in ("DescribeListeners", "ModifyListener")]
    assert routes == ["DescribeListeners", "ModifyListener", "DescribeListeners"]


def test_a_rule_read_after_its_change_shows_the_change(cloud: AwsCloud, stack: Stack) -> None:
    ref = RouteRef(RouteKind.RULE, stack.api_rule_arn)
    cloud.elb.route(ref)

    cloud.elb.set_weights(ref, {stack.blue_tg_arn: 50, stack.green_tg_arn: 50})

    assert cloud.elb.route(ref).weights == {stack.blue_tg_arn: 50, stack.green_tg_arn: 50}
    # the listener's own route shares the load balancer: read again too
    cloud.elb.route(listener(stack))
    assert cloud.calls.count("DescribeListeners") == 2


def refused(**_: Any) -> Any:
    """A ModifyListener answered with an error that is not retried (no time passes)."""
    parsed = {"Error": {"Code": "Unexpected"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    return AWSResponse("https://elasticloadbalancing.amazonaws.com", 400, {}, None), parsed


def test_a_failed_change_drops_what_it_may_have_changed(stack: Stack, clock: VirtualClock) -> None:
    session = boto3.Session()
    # Whatever the error, a change may have been applied (an answer lost on the way).
    session.events.register("before-call.elastic-load-balancing-v2.ModifyListener", refused)
    cloud = AwsCloud(session, clock=clock)
    ref = listener(stack)
    cloud.elb.route(ref)
    with pytest.raises(AwsError):
        cloud.elb.set_weights(ref, {stack.blue_tg_arn: 90, stack.green_tg_arn: 10})
    cloud.elb.route(ref)

    assert clock.now() == VirtualClock().now()  # still fresh by age: dropped by the change
    assert cloud.calls.count("DescribeListeners") == 2


def test_task_set_changes_drop_target_health_and_task_sets(cloud: AwsCloud, stack: Stack) -> None:
    # ECS registers and deregisters the targets of the tasks it starts and stops.
    cloud.elb.target_health(stack.blue_tg_arn)
    cloud.ecs.task_sets(stack.cluster, stack.service)

    cloud.ecs.delete_task_set(stack.cluster, stack.service, stack.blue_task_set_id)

    cloud.elb.target_health(stack.blue_tg_arn)
    sets = cloud.ecs.task_sets(stack.cluster, stack.service)
    assert cloud.calls.count("DescribeTargetHealth") == 2
    assert cloud.calls.count("DescribeTaskSets") == 2
    assert stack.blue_task_set_id not in {s.id for s in sets if s.status.value != "DRAINING"}


def test_changing_a_listener_leaves_another_load_balancers_reads_alone(
    cloud: AwsCloud, stack: Stack
) -> None:
    other = boto3.client("elbv2", region_name="us-east-1").create_load_balancer(
        Name="other", Subnets=list(stack.subnet_ids)
    )["LoadBalancers"][0]["LoadBalancerArn"]
    cloud.elb.load_balancer(other)
    cloud.elb.load_balancer(stack.lb_arn)

    cloud.elb.set_weights(listener(stack), {stack.blue_tg_arn: 90, stack.green_tg_arn: 10})
    cloud.elb.load_balancer(other)
    cloud.elb.load_balancer(stack.lb_arn)

    assert cloud.calls.count("DescribeLoadBalancers") == 3  # web's read again, other's kept


def test_answers_are_copies(cloud: AwsCloud, stack: Stack) -> None:
    route = cloud.elb.route(listener(stack))
    route.actions[0]["ForwardConfig"]["TargetGroups"].clear()  # a caller spoiling its answer

    assert cloud.elb.route(listener(stack)).weights == route.weights
    assert len(cloud.elb.route(listener(stack)).actions[0]["ForwardConfig"]["TargetGroups"]) == 2


def test_alarms_of_every_deployment_are_fetched_in_one_call(
    cloud: AwsCloud, clock: VirtualClock
) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    for name in ("web-5xx", "api-5xx"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="HTTPCode_Target_5XX_Count",
            Namespace="AWS/ApplicationELB",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
    web, api = ["web-5xx"], ["api-5xx", "api-missing"]
    cloud.alarms.alarm_states(web)
    cloud.alarms.alarm_states(api)  # first poll of each: both registered now
    cloudwatch.set_alarm_state(AlarmName="api-5xx", StateValue="ALARM", StateReason="test")
    before = len(cloud.calls)

    clock.advance(5)  # the next poll of each deployment, a moment apart
    assert cloud.alarms.alarm_states(web) == {"web-5xx": AlarmState.OK}
    clock.advance(FRESH_FOR / 2)
    assert cloud.alarms.alarm_states(api) == {
        "api-5xx": AlarmState.ALARM,
        "api-missing": AlarmState.MISSING,
    }

    assert cloud.calls[before:] == ["DescribeAlarms"]
