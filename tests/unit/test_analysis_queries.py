"""Which queries an evaluation reads (one request for every check of both colours) and
how the answer becomes each check's data."""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen.analysis import Colour, Window, dimension_of, first_due, plan_queries, window_at
from bluegreen.config import MetricCheckConfig
from bluegreen.errors import ConfigError
from bluegreen.model import MetricSeries, MetricStat

LB = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/50dc"
LB2 = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web-2/77aa"
TG_BLUE = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web-blue/73e2"
TG_GREEN = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web-green/91fb"


def colours(*lbs: str) -> tuple[Colour, Colour]:
    lbs = lbs or (LB,)
    return (
        Colour("blue", TG_BLUE, lbs, "prod", "web", "ecs-svc/1"),
        Colour("green", TG_GREEN, lbs, "prod", "web", "ecs-svc/2"),
    )


def checks(*specs: dict[str, Any]) -> list[MetricCheckConfig]:
    return [MetricCheckConfig.model_validate(s) for s in specs]


def test_dimension_values_are_cloudwatchs() -> None:
    assert dimension_of(LB) == "app/web/50dc"
    assert dimension_of(TG_GREEN) == "targetgroup/web-green/91fb"


def test_builtins_read_each_colours_target_group_once_per_metric() -> None:
    plan = plan_queries(
        checks(
            {"name": "error_rate", "max_increase": "25%"},
            {"name": "request_count", "min": 10},
            {"name": "latency", "statistic": "p99.9", "max_increase": "20%"},
        ),
        *colours(),
    )
    stats = {
        (q.stat.metric, dict(q.stat.dimensions)["TargetGroup"], q.stat.statistic)
        for q in plan.queries
        if q.stat
    }
    assert stats == {
        (metric, f"targetgroup/web-{colour}/{tg}", statistic)
        for colour, tg in (("blue", "73e2"), ("green", "91fb"))
        for metric, statistic in (
            ("RequestCount", "Sum"),
            ("HTTPCode_Target_5XX_Count", "Sum"),
            ("TargetResponseTime", "p99.9"),
        )
    }
    assert len(plan.queries) == 6  # RequestCount read once for error_rate and request_count
    assert all(q.stat and q.stat.namespace == "AWS/ApplicationELB" for q in plan.queries)
    assert all(
        dict(q.stat.dimensions)["LoadBalancer"] == "app/web/50dc" for q in plan.queries if q.stat
    )
    assert len({q.id for q in plan.queries}) == 6


def test_answers_become_each_checks_data_summed_over_load_balancers() -> None:
    rules = checks(
        {"name": "error_rate", "max_increase": "25%"},
        {"name": "latency", "max_increase": "20%"},
    )
    plan = plan_queries(rules, *colours(LB, LB2))
    answer = {}
    for query in plan.queries:
        assert query.stat is not None
        dims = dict(query.stat.dimensions)
        second = dims["LoadBalancer"] == "app/web-2/77aa"
        value = {"RequestCount": 100.0, "HTTPCode_Target_5XX_Count": 2.0}.get(
            query.stat.metric, 0.4 if second else 0.3
        )
        if "green" in dims["TargetGroup"]:
            value *= 2
        answer[query.id] = MetricSeries(query.id, ((60.0, value), (120.0, value)))
    rate = plan.data(rules[0], answer)
    assert rate.green.requests == {60.0: 400.0, 120.0: 400.0}
    assert rate.blue.requests == {60.0: 200.0, 120.0: 200.0}
    assert rate.green.errors == {60.0: 8.0, 120.0: 8.0} and rate.green.values == {}
    latency = plan.data(rules[1], answer)
    assert latency.blue.values == {60.0: 0.4, 120.0: 0.4}  # the worse load balancer
    assert latency.green.values == {60.0: 0.8, 120.0: 0.8}


def test_custom_queries_fill_placeholders_per_colour() -> None:
    query = {
        "namespace": "MyApp/{cluster}",
        "metric": "Errors",
        "dimensions": {
            "TargetGroup": "{target_group}",
            "LB": "{load_balancer}",
            "C": "{colour}",
            "TS": "{task_set}",
            "S": "{service}",
        },
        "statistic": "Sum",
    }
    plan = plan_queries(checks({"name": "x", "query": query, "max_increase": "5%"}), *colours())
    filled = [q.stat for q in plan.queries]
    assert filled == [
        MetricStat(
            "MyApp/prod",
            "Errors",
            (
                ("TargetGroup", f"targetgroup/web-{c}/{tg}"),
                ("LB", "app/web/50dc"),
                ("C", c),
                ("TS", ts),
                ("S", "web"),
            ),
            "Sum",
        )
        for c, tg, ts in (("blue", "73e2", "ecs-svc/1"), ("green", "91fb", "ecs-svc/2"))
    ]


def test_expressions_get_their_own_ids_per_check_and_colour() -> None:
    inputs = [
        {
            "id": i,
            "namespace": "A",
            "metric": m,
            "dimensions": {"C": "{colour}"},
            "statistic": "Sum",
        }
        for i, m in (("m1", "Errors"), ("m2", "Requests"))
    ]
    rules = checks(
        {"name": "a", "expression": "100*m1/m2", "queries": inputs, "max": 5},
        {"name": "b", "expression": "FILL(m1, 0) + 'm2'", "queries": inputs, "max": 5},
    )
    plan = plan_queries(rules, *colours())
    expressions = [q.expression for q in plan.queries if q.expression]
    assert expressions == [
        "100*c0b_m1/c0b_m2",
        "100*c0g_m1/c0g_m2",
        "FILL(c1b_m1, 0) + 'm2'",  # quoted text is not an id
        "FILL(c1g_m1, 0) + 'm2'",
    ]
    hidden = [q for q in plan.queries if q.stat]
    assert all(not q.returned for q in hidden) and len(hidden) == 8
    returned = [q.id for q in plan.queries if q.returned]
    assert plan.inputs[("a", "green", "values")] == (returned[1],)


def test_builtins_need_an_application_load_balancer() -> None:
    with pytest.raises(ConfigError, match="no production route is on an Application Load"):
        plan_queries(
            checks({"name": "error_rate", "max": 0.01}),
            *(
                Colour(c, tg, (), "prod", "web")
                for c, tg in (("blue", TG_BLUE), ("green", TG_GREEN))
            ),
        )


def test_more_queries_than_one_request_takes_is_refused() -> None:
    many = [f"{LB}{n}" for n in range(130)]  # 130 load balancers × 3 metrics × 2 colours
    with pytest.raises(ConfigError, match="more than one GetMetricData request takes"):
        plan_queries(
            checks({"name": "error_rate", "max": 0.01}, {"name": "latency", "max": 1}),
            *colours(*many),
        )


def test_windows_start_after_the_first_whole_minute_of_traffic_and_end_delay_ago() -> None:
    t0 = 1_800_000_000.0
    assert window_at(t0 + 150, traffic_since=t0 + 20, delay=60) is None  # 60–120 not done + delay
    assert window_at(t0 + 180, traffic_since=t0 + 20, delay=60) == Window(t0 + 60, t0 + 120)
    assert window_at(t0 + 239, traffic_since=t0 + 20, delay=60) == Window(t0 + 60, t0 + 120)
    assert window_at(t0 + 240, traffic_since=t0, delay=60) == Window(t0, t0 + 180)
    assert first_due(t0 + 20, delay=60) == t0 + 180


def test_a_lookback_keeps_only_the_latest_minutes_of_a_window() -> None:
    t0 = 1_800_000_000.0
    assert window_at(t0 + 900, traffic_since=t0, delay=60, lookback=600) == Window(
        t0 + 240, t0 + 840
    )
    assert window_at(t0 + 300, traffic_since=t0, delay=60, lookback=600) == Window(t0, t0 + 240)
    assert Window(t0, t0 + 600).latest(120) == Window(t0 + 480, t0 + 600)
    assert Window(t0, t0 + 60).latest(120) == Window(t0, t0 + 60)
