"""The metric read against moto (Sum and Average per minute; moto has no percentiles or
metric math) and, where moto cannot answer as AWS does (pages, unanswered queries,
throttling), against botocore's Stubber."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bluegreen.aws import AwsCloud
from bluegreen.aws.cloudwatch import CloudWatchMetrics
from bluegreen.aws.retry import AwsCaller
from bluegreen.clock import VirtualClock
from bluegreen.errors import AwsError
from bluegreen.model import MetricQuery, MetricSeries, MetricStat

T0 = 1_800_000_000.0  # a whole minute
DIMS = (("LoadBalancer", "app/web/50dc"), ("TargetGroup", "targetgroup/web-green/91fb"))


def requests(statistic: str = "Sum", dims: tuple[tuple[str, str], ...] = DIMS) -> MetricStat:
    return MetricStat("AWS/ApplicationELB", "RequestCount", dims, statistic)


def put(minute: int, *values: float, dims: tuple[tuple[str, str], ...] = DIMS) -> None:
    client = boto3.client("cloudwatch", region_name="us-east-1")
    for value in values:
        client.put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[
                {
                    "MetricName": "RequestCount",
                    "Dimensions": [{"Name": n, "Value": v} for n, v in dims],
                    "Timestamp": datetime.fromtimestamp(T0 + minute * 60 + 10, UTC),
                    "Value": value,
                }
            ],
        )


def test_sum_and_average_per_minute_in_ascending_time(cloud: AwsCloud) -> None:
    for minute in (2, 0, 1):
        put(minute, 100, 50 * (minute + 1))
    put(1, 999, dims=(("LoadBalancer", "app/web/50dc"), ("TargetGroup", "targetgroup/blue/1")))
    put(3, 7)  # after the end: not read

    answer = cloud.metrics.metric_data(
        [
            MetricQuery("total", stat=requests("Sum")),
            MetricQuery("mean", stat=requests("Average")),
            MetricQuery("hidden", stat=requests("Sum"), returned=False),
        ],
        T0,
        T0 + 180,
    )

    assert answer == {
        "total": MetricSeries("total", ((T0, 150.0), (T0 + 60, 200.0), (T0 + 120, 250.0))),
        "mean": MetricSeries("mean", ((T0, 75.0), (T0 + 60, 100.0), (T0 + 120, 125.0))),
    }
    assert cloud.calls == ["GetMetricData"]  # one request for every query


def test_no_data_is_an_empty_series_never_zero(cloud: AwsCloud) -> None:
    answer = cloud.metrics.metric_data([MetricQuery("q0", stat=requests())], T0, T0 + 600)
    assert answer == {"q0": MetricSeries("q0", ())}


def test_no_queries_no_call(cloud: AwsCloud) -> None:
    assert cloud.metrics.metric_data([], T0, T0 + 60) == {}
    assert cloud.calls == []


def stubbed(clock: VirtualClock) -> tuple[CloudWatchMetrics, Any, AwsCaller]:
    client = boto3.client("cloudwatch", region_name="us-east-1")
    caller = AwsCaller(clock)
    return CloudWatchMetrics(client, caller), client, caller


def result(key: str, minutes: list[int], status: str = "Complete", **extra: Any) -> dict[str, Any]:
    return {
        "Id": key,
        "Label": key,
        "Timestamps": [datetime.fromtimestamp(T0 + m * 60, UTC) for m in minutes],
        "Values": [float(m) for m in minutes],
        "StatusCode": status,
        **extra,
    }


def test_the_request_as_sent_and_pages_merged(clock: VirtualClock) -> None:
    metrics, client, caller = stubbed(clock)
    queries = [
        MetricQuery("m1", stat=requests("p99"), returned=False),
        MetricQuery("e1", expression="m1 * 2"),
    ]
    expected = {
        "MetricDataQueries": [
            {
                "Id": "m1",
                "ReturnData": False,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ApplicationELB",
                        "MetricName": "RequestCount",
                        "Dimensions": [
                            {"Name": "LoadBalancer", "Value": "app/web/50dc"},
                            {"Name": "TargetGroup", "Value": "targetgroup/web-green/91fb"},
                        ],
                    },
                    "Period": 60,
                    "Stat": "p99",
                },
            },
            {"Id": "e1", "ReturnData": True, "Expression": "m1 * 2"},
        ],
        "StartTime": datetime.fromtimestamp(T0, UTC),
        "EndTime": datetime.fromtimestamp(T0 + 240, UTC),
        "ScanBy": "TimestampAscending",
    }
    with Stubber(client) as stub:
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [result("e1", [0, 1], "PartialData")], "NextToken": "page2"},
            expected,
        )
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [result("e1", [2, 3])]},
            {**expected, "NextToken": "page2"},
        )
        answer = metrics.metric_data(queries, T0, T0 + 240)

    assert answer == {"e1": MetricSeries("e1", tuple((T0 + m * 60, float(m)) for m in range(4)))}
    assert caller.calls == ["GetMetricData", "GetMetricData"]  # one read: its two pages


@pytest.mark.parametrize(("status", "transient"), [("InternalError", True), ("Forbidden", False)])
def test_an_unanswered_query_fails_the_read(
    clock: VirtualClock, status: str, transient: bool
) -> None:
    metrics, client, _ = stubbed(clock)
    answered = result("q0", [0])
    unanswered = result("q1", [], status, Messages=[{"Code": status, "Value": "not allowed"}])
    with Stubber(client) as stub:
        stub.add_response("get_metric_data", {"MetricDataResults": [answered, unanswered]}, None)
        with pytest.raises(AwsError) as caught:
            metrics.metric_data(
                [MetricQuery("q0", stat=requests()), MetricQuery("q1", stat=requests())],
                T0,
                T0 + 60,
            )
    assert caught.value.code == status and caught.value.transient is transient
    assert "query q1 was not answered: not allowed" in caught.value.message


def test_throttling_is_retried_on_the_clock(clock: VirtualClock) -> None:
    metrics, client, caller = stubbed(clock)
    with Stubber(client) as stub:
        stub.add_client_error("get_metric_data", "Throttling", "Rate exceeded", 400)
        stub.add_response("get_metric_data", {"MetricDataResults": [result("q0", [0])]}, None)
        answer = metrics.metric_data([MetricQuery("q0", stat=requests())], T0, T0 + 60)
    assert answer["q0"].points == ((T0, 0.0),)
    assert caller.calls == ["GetMetricData", "GetMetricData"]


def test_more_than_five_hundred_queries_is_a_bug(clock: VirtualClock) -> None:
    metrics, _, caller = stubbed(clock)
    with pytest.raises(ValueError, match="501 queries"):
        metrics.metric_data(
            [MetricQuery(f"q{n}", stat=requests()) for n in range(501)], T0, T0 + 60
        )
    assert caller.calls == []
