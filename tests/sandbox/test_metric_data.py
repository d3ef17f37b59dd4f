"""GetMetricData on the simulated AWS (bluegreen/sandbox/metric_data.py, metric_math.py,
distribution.py): request times as distributions, percentiles, batches of statistics and
metric-math expressions — through boto3 on the small ALB of alb_world.py, on a served
sandbox, and on hand-made datums."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from alb_world import GREEN_IMAGE, MINUTE, World, alb_world, serve_green_with
from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum
from server_harness import client

from bluegreen.sandbox import AppModel
from bluegreen.sandbox.alarms import utc
from bluegreen.sandbox.distribution import Histogram, response_times
from bluegreen.sandbox.metric_data import answer
from bluegreen.sandbox.metric_math import ExpressionError, evaluate, parse
from bluegreen.sandbox.server import SandboxServer
from bluegreen.sandbox.stack import SandboxStack

SPREAD = AppModel(latency=0.05, latency_p99=0.4)  # lognormal: sigma ≈ 0.894
T0 = datetime(2027, 1, 15, 8, 0)  # the sandbox's clock starts here: 1_800_000_000


@pytest.fixture
def alb() -> Iterator[World]:
    with alb_world() as built:
        yield built


def stat(world: World, query_id: str, metric: str, group: str, name: str, **more: Any) -> Any:
    """A MetricStat query on a target group's metric."""
    period = more.pop("period", MINUTE)
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": metric,
                "Dimensions": world.dims(group),
            },
            "Period": period,
            "Stat": name,
        },
        **more,
    }


def fetch(world: World, queries: list[Any], minutes: int = 10) -> dict[str, Any]:
    """GetMetricData over the first `minutes` minutes: Id → its result."""
    answered = world.cloudwatch.get_metric_data(
        MetricDataQueries=queries,
        StartTime=T0,
        EndTime=T0 + timedelta(minutes=minutes),
    )
    return {result["Id"]: result for result in answered["MetricDataResults"]}


# -- request times as distributions ----------------------------------------------------------


def test_percentiles_of_request_times_follow_the_apps_distribution(alb: World) -> None:
    serve_green_with(GREEN_IMAGE, alb.green)
    alb.sandbox.apps[GREEN_IMAGE] = SPREAD
    alb.weigh(50, 50)
    alb.minutes(5)  # green answers 1500 requests a minute: 7500 in one 5-minute period

    wanted = [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("n", "SampleCount")]
    wanted += [("mean", "Average"), ("blue", "p99")]
    queries = [
        stat(alb, key, "TargetResponseTime", alb.blue if key == "blue" else alb.green, name)
        for key, name in wanted
    ]
    for query in queries:
        query["MetricStat"]["Period"] = 5 * MINUTE
    found = {key: result["Values"] for key, result in fetch(alb, queries, 5).items()}

    assert found["p50"] == [pytest.approx(0.05, rel=0.05)]
    assert found["p90"] == [pytest.approx(SPREAD.latency_quantile(0.9), rel=0.08)]
    assert found["p99"] == [pytest.approx(0.4, rel=0.15)]
    assert found["n"] == [7500.0]
    lognormal_mean = 0.05 * math.exp(SPREAD.latency_sigma**2 / 2)
    assert found["mean"] == [pytest.approx(lognormal_mean, rel=0.05)]
    assert found["blue"] == [0.05]  # a HEALTHY app's requests all take its latency


def test_request_times_are_drawn_on_the_sandboxs_seeded_random() -> None:
    def p99s(seed: int) -> list[float]:
        with alb_world(seed=seed) as world:
            serve_green_with(GREEN_IMAGE, world.green)
            world.sandbox.apps[GREEN_IMAGE] = SPREAD
            world.weigh(50, 50)
            world.minutes(2)
            query = stat(world, "p99", "TargetResponseTime", world.green, "p99")
            values: list[float] = fetch(world, [query])["p99"]["Values"]
            return values

    first = p99s(seed=1)
    assert len(first) == 2
    assert p99s(seed=1) == first
    assert p99s(seed=2) != first


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"latency": 0.2, "latency_p99": 0.1}, "latency_p99"),
        ({"latency": 0.0, "latency_p99": 0.1}, "latency_p99"),
        ({"latency": -0.1}, "latency"),
        ({"error_rate": 1.5}, "error_rate"),
    ],
)
def test_an_app_model_that_cannot_be_is_refused(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AppModel(**options)  # type: ignore[arg-type]


def test_an_app_model_without_a_p99_answers_in_its_latency_exactly() -> None:
    assert AppModel().latency_sigma == 0.0
    assert response_times(AppModel(latency=0.3), 4, random.Random(0)).counts == {0.3: 4}


def test_a_histogram_keeps_three_significant_figures_and_exact_sums() -> None:
    times = Histogram()
    times.add(0.123456)
    times.add(0.12349, 2)
    times.add(0.1236)

    assert times.counts == {0.123: 3, 0.124: 1}
    assert times.total == pytest.approx(0.123456 + 2 * 0.12349 + 0.1236)
    assert (times.low, times.high) == (0.123456, 0.1236)


# -- a batch: statistics and an expression in one call ---------------------------------------


def test_one_call_answers_several_statistics_and_an_error_rate_expression(alb: World) -> None:
    serve_green_with(GREEN_IMAGE, alb.green)
    alb.weigh(50, 50)
    alb.minutes(1)  # healthy: green reports no 5XX at all this minute
    alb.sandbox.apps[GREEN_IMAGE] = AppModel(error_rate=0.1, latency=0.2)
    alb.minutes(2)

    found = fetch(
        alb,
        [
            stat(alb, "requests", "RequestCount", alb.green, "Sum", ReturnData=False),
            stat(alb, "errors", "HTTPCode_Target_5XX_Count", alb.green, "Sum", ReturnData=False),
            {"Id": "rate", "Expression": "100 * errors / requests", "Label": "green 5XX %"},
            stat(alb, "slowest", "TargetResponseTime", alb.green, "p99.9"),
            stat(alb, "blue", "RequestCount", alb.blue, "Sum"),
            stat(alb, "hosts", "HealthyHostCount", alb.green, "Minimum"),
        ],
    )

    assert list(found) == ["rate", "slowest", "blue", "hosts"]  # ReturnData false: hidden
    rate = found["rate"]
    assert rate["Label"] == "green 5XX %"
    assert rate["Values"] == [10.0, 10.0, 0.0]  # newest first; no 5XX reported: counted 0
    minutes = [T0 + timedelta(minutes=m) for m in (2, 1, 0)]
    assert [t.replace(tzinfo=None) for t in rate["Timestamps"]] == minutes
    assert found["slowest"]["Values"] == [0.2, 0.2, 0.05]
    assert found["blue"]["Values"] == [1500.0] * 3
    assert found["hosts"]["Values"] == [2.0] * 3


# -- GetMetricData over hand-made datums -----------------------------------------------------

LB = [{"Name": "LoadBalancer", "Value": "app/web/1"}]
TG = [*LB, {"Name": "TargetGroup", "Value": "targetgroup/green/2"}]


def value(name: str, amount: float, minute: int, dims: list[Any] = TG, **more: Any) -> Any:
    namespace = more.pop("namespace", "AWS/ApplicationELB")
    when = T0 + timedelta(minutes=minute, seconds=more.pop("second", 0))
    return MetricDatum(namespace, name, amount, dims, when, more.pop("unit", None))


def metric(query_id: str, name: str, statistic: str, dims: list[Any] = TG, **more: Any) -> Any:
    metric_stat = {
        "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": name, "Dimensions": dims},
        "Period": more.pop("period", 60),
        "Stat": statistic,
    }
    if "unit" in more:
        metric_stat["Unit"] = more.pop("unit")
    return {"Id": query_id, "MetricStat": metric_stat, **more}


def series(results: list[Any], query_id: str) -> list[tuple[int, float]]:
    """(minute, value) pairs of one result, in the order answered."""
    found = next(r for r in results if r["id"] == query_id)
    return [
        (int((t - T0).total_seconds() // 60), v)
        for t, v in zip(found["timestamps"], found["values"], strict=True)
    ]


def ask(datums: list[Any], queries: list[Any], **more: Any) -> list[Any]:
    start = more.pop("start", T0)
    return answer(datums, queries, start, T0 + timedelta(minutes=10), **more)


def test_metrics_match_exactly_by_namespace_dimensions_and_unit() -> None:
    datums = [
        value("RequestCount", 1, 0),
        value("RequestCount", 10, 0, dims=LB),  # the load balancer's own metric
        value("RequestCount", 100, 0, namespace="AWS/NetworkELB"),
        value("RequestCount", 1000, 1, unit="Count"),
    ]
    results = ask(
        datums,
        [
            metric("group", "RequestCount", "Sum"),
            metric("lb", "RequestCount", "Sum", dims=LB),
            metric("counted", "RequestCount", "Sum", unit="Count"),
        ],
        scan_by="TimestampAscending",
    )

    assert series(results, "group") == [(0, 1.0), (1, 1000.0)]
    assert series(results, "lb") == [(0, 10.0)]
    assert series(results, "counted") == [(1, 1000.0)]


def test_periods_start_at_the_start_time_rounded_down_to_the_minute() -> None:
    datums = [value("RequestCount", 5, 1, second=10), value("RequestCount", 7, 2)]
    results = ask(datums, [metric("m", "RequestCount", "Sum")], start=T0 + timedelta(seconds=90))

    assert series(results, "m") == [(2, 7.0), (1, 5.0)]  # newest first by default


def test_expressions_count_a_missing_point_as_zero_and_drop_a_division_by_zero() -> None:
    datums = [
        value("HTTPCode_Target_5XX_Count", 3, 0),  # no requests reported: 3/0, dropped
        value("RequestCount", 100, 1),  # no errors reported: 0/100
        value("HTTPCode_Target_5XX_Count", 5, 2),
        value("RequestCount", 50, 2),
    ]
    results = ask(
        datums,
        [
            metric("errors", "HTTPCode_Target_5XX_Count", "Sum"),
            metric("requests", "RequestCount", "Sum"),
            {"Id": "rate", "Expression": "errors/requests"},
            {"Id": "percent", "Expression": "rate * (50 + 50)"},
        ],
        scan_by="TimestampAscending",
    )

    assert series(results, "rate") == [(1, 0.0), (2, 0.1)]
    assert series(results, "percent") == [(1, 0.0), (2, 10.0)]


def test_percentiles_need_raw_values_as_cloudwatch_does() -> None:
    def statistic_set(minute: int, low: float, high: float, count: float) -> Any:
        when = T0 + timedelta(minutes=minute)
        return MetricAggregatedDatum(
            "AWS/ApplicationELB", "T", low, high, count, (low + high) / 2 * count, TG, when
        )

    datums = [
        *[value("T", float(v), 0) for v in range(1, 101)],  # 1 … 100
        statistic_set(1, 0.5, 0.5, 10),  # Minimum = Maximum: ten values of 0.5
        statistic_set(2, 0.1, 0.9, 10),  # a spread: no raw values, no percentile
        value("T", -1.0, 3),  # a negative value: no percentile
    ]
    results = ask(
        datums,
        [metric("p50", "T", "p50"), metric("p99", "T", "p99.5"), metric("top", "T", "p100")],
        scan_by="TimestampAscending",
    )

    assert series(results, "p50") == [(0, 50.0), (1, 0.5)]
    assert series(results, "p99") == [(0, 100.0), (1, 0.5)]
    assert series(results, "top") == [(0, 100.0), (1, 0.5)]


def test_a_call_takes_up_to_500_queries() -> None:
    datums = [value("RequestCount", 1, 0)]
    queries = [metric(f"m{i}", "RequestCount", "Sum") for i in range(499)]
    queries.append({"Id": "total", "Expression": "m0 + m498"})

    results = ask(datums, queries)

    assert len(results) == 500
    assert series(results, "total") == [(0, 2.0)]


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ([metric("m", "T", "tm99")], "statistic 'tm99'"),
        ([metric("m", "T", "p100.5")], "statistic 'p100.5'"),
        ([metric("m", "T", "Sum", period=45)], "value 45 for parameter"),
        ([metric("M1", "T", "Sum")], "value 'M1' for parameter MetricDataQueries.member.1.Id"),
        ([metric("m", "T", "Sum"), metric("m", "T", "Sum")], "Two queries have the Id 'm'"),
        ([{"Id": "e", "Expression": "m", **metric("m", "T", "Sum")}], "exactly one of"),
        ([{"Id": "e", "Expression": "m2 * 2"}], "no query has the Id 'm2'"),
        ([{"Id": "e", "Expression": "f + 1"}, {"Id": "f", "Expression": "e"}], "depends on"),
        ([metric("m", "T", "Sum"), {"Id": "e", "Expression": "FILL(m, 0)"}], "FILL is not"),
        ([{"Id": "e", "Expression": "2 * 3"}], "must be a time series"),
        ([metric(f"m{i}", "T", "Sum") for i in range(501)], "greater than 500"),
    ],
)
def test_what_the_sandbox_cannot_answer_is_refused_by_name(
    queries: list[Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        ask([], queries)


# -- metric math -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("2 + 3*m", 14.0),
        ("(2 + 3) * m", 20.0),
        ("-m^2", -16.0),
        ("2^-1 * m", 2.0),
        ("m / 4 / 2", 0.5),
        ("m - 1 - 1", 2.0),
        ("100*m/m", 100.0),
        ("1.5e1 - m", 11.0),
        ("m^0.5", 2.0),
    ],
)
def test_arithmetic_follows_the_usual_precedence(expression: str, result: float) -> None:
    assert evaluate(parse(expression), {"m": {T0: 4.0}}) == {T0: result}


def test_a_value_that_is_not_a_real_number_is_dropped() -> None:
    assert evaluate(parse("m ^ 0.5"), {"m": {T0: -4.0, utc(1_800_000_060): 9.0}}) == {
        utc(1_800_000_060): 3.0
    }


@pytest.mark.parametrize("expression", ["m +", "(m", "m m", "m % 2", "", "SUM(m)", "m)"])
def test_malformed_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ExpressionError):
        parse(expression)


# -- through a served sandbox ----------------------------------------------------------------


def test_a_served_sandbox_answers_percentiles_and_expressions(
    server: SandboxServer, world: SandboxStack
) -> None:
    with server.lock:
        server.sandbox.apps[world.image] = SPREAD  # blue serves every request
        start = utc(math.ceil(server.sandbox.clock.now() / 60) * 60)
    server.time.advance(4 * MINUTE)
    dims = [
        {"Name": "LoadBalancer", "Value": world.lb_arn.split(":loadbalancer/")[1]},
        {"Name": "TargetGroup", "Value": world.blue_tg_arn.rsplit(":", 1)[1]},
    ]
    target = {"Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime"}

    def query(query_id: str, name: str) -> dict[str, Any]:
        metric_stat = {"Metric": {**target, "Dimensions": dims}, "Period": 180, "Stat": name}
        return {"Id": query_id, "MetricStat": metric_stat}

    answered = client(server, "cloudwatch").get_metric_data(
        MetricDataQueries=[
            query("median", "p50"),
            query("p99", "p99"),
            {"Id": "ms", "Expression": "1000 * p99"},
        ],
        StartTime=start,
        EndTime=start + timedelta(minutes=3),
    )
    found = {r["Id"]: r["Values"] for r in answered["MetricDataResults"]}

    assert found["median"] == [pytest.approx(0.05, rel=0.05)]
    assert found["p99"] == [pytest.approx(0.4, rel=0.15)]
    assert found["ms"] == [pytest.approx(1000 * found["p99"][0])]
