"""The CloudWatch adapter against moto: alarm states, MISSING for a name that is not there."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from bluegreen.aws import AwsCloud
from bluegreen.aws.cloudwatch import CloudWatchAlarms, parse_alarm_state
from bluegreen.aws.retry import AwsCaller
from bluegreen.clock import VirtualClock
from bluegreen.model import AlarmState


def put_metric_alarm(name: str) -> None:
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
    )


def test_alarm_states_and_a_missing_one(cloud: AwsCloud) -> None:
    put_metric_alarm("web-5xx")
    put_metric_alarm("web-latency")
    boto3.client("cloudwatch").set_alarm_state(
        AlarmName="web-latency", StateValue="ALARM", StateReason="test"
    )

    states = cloud.alarms.alarm_states(["web-latency", "web-typo", "web-5xx"])

    assert states == {
        "web-latency": AlarmState.ALARM,
        "web-typo": AlarmState.MISSING,
        "web-5xx": AlarmState.OK,
    }
    assert list(states) == ["web-latency", "web-typo", "web-5xx"]
    assert cloud.calls == ["DescribeAlarms"]


def test_composite_alarms_count(clock: VirtualClock) -> None:
    # moto has no PutCompositeAlarm: AWS's answer comes from a Stubber.
    client = boto3.client("cloudwatch", region_name="us-east-1")
    alarms = CloudWatchAlarms(client, AwsCaller(clock))
    answer = {
        "MetricAlarms": [{"AlarmName": "web-5xx", "StateValue": "OK"}],
        "CompositeAlarms": [{"AlarmName": "web-health", "StateValue": "ALARM"}],
    }
    expected = {
        "AlarmNames": ["web-health", "web-5xx"],
        "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        "MaxRecords": 100,
    }
    with Stubber(client) as stub:
        stub.add_response("describe_alarms", answer, expected)
        states = alarms.alarm_states(["web-health", "web-5xx"])

    assert states == {"web-health": AlarmState.ALARM, "web-5xx": AlarmState.OK}


def test_alarms_are_described_a_hundred_at_a_time(cloud: AwsCloud) -> None:
    put_metric_alarm("alarm-119")
    names = [f"alarm-{i}" for i in range(120)]

    states = cloud.alarms.alarm_states(names)

    assert states["alarm-119"] is AlarmState.OK
    assert sum(s is AlarmState.MISSING for s in states.values()) == 119
    assert cloud.calls == ["DescribeAlarms", "DescribeAlarms"]


def test_no_alarms_no_call(cloud: AwsCloud) -> None:
    assert cloud.alarms.alarm_states([]) == {}
    assert cloud.calls == []


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("OK", AlarmState.OK),
        ("ALARM", AlarmState.ALARM),
        ("MISSING", AlarmState.ALARM),
        ("SOMETHING_NEW", AlarmState.ALARM),
    ],
)
def test_an_unknown_state_fails_closed(value: str, state: AlarmState) -> None:
    assert parse_alarm_state(value) is state
