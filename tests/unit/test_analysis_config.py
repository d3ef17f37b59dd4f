"""`[analysis]` in bluegreen.toml: the sketch parses; every mistake names the key and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_config import GOOD

from bluegreen.config import load_config, parse_config
from bluegreen.errors import ConfigError

SKETCH = """
[analysis]
interval = "1m"
delay = "1m"
failure_limit = 1
on_inconclusive = "extend"
inconclusive_limit = 10
[[analysis.metrics]]
name = "error_rate"
max = 0.01
compare = "blue"
max_increase = "25%"
confidence = 0.98
min_requests = 200
[[analysis.metrics]]
name = "latency"
statistic = "p99"
max_increase = "20%"
min_samples = 5
[[analysis.metrics]]
name = "checkout_errors"
max_increase = "10%"
[analysis.metrics.query]
namespace = "MyApp"
metric = "Errors"
statistic = "Sum"
dimensions = { TG = "{target_group}" }
[[analysis.metrics]]
name = "error_percent"
expression = "100*m1/m2"
max = 2
[[analysis.metrics.queries]]
id = "m1"
namespace = "MyApp"
metric = "Errors"
dimensions = { Colour = "{colour}" }
statistic = "Sum"
[[analysis.metrics.queries]]
id = "m2"
namespace = "MyApp"
metric = "Requests"
dimensions = { Colour = "{colour}" }
statistic = "Sum"
"""

BASE: dict[str, Any] = {
    "service": {"cluster": "prod", "name": "web"},
    "target_groups": {"blue": "web-blue", "green": "web-green"},
    "listeners": [{"arn": "arn:listener/http"}],
}


def error_of(analysis: dict[str, Any], **service: Any) -> str:
    data = {**BASE, "analysis": analysis}
    if service:
        data["service"] = {"cluster": "prod", **service}
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert caught.value.exit_code == 2
    return str(caught.value)


def metric_error(**metric: Any) -> str:
    return error_of({"metrics": [metric]})


def test_the_sketch_parses_with_its_values(tmp_path: Path) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_text(GOOD + SKETCH)
    analysis = load_config(path).analysis
    assert analysis is not None
    assert (analysis.interval, analysis.delay, analysis.failure_limit) == (60, 60, 1)
    error_rate, latency, custom, expression = analysis.metrics
    assert error_rate.kind == "error_rate" and error_rate.request_based
    assert error_rate.max == 0.01 and error_rate.max_increase == 0.25
    assert latency.kind == "latency" and latency.latency_statistic == "p99"
    assert latency.label == "latency p99" and latency.max_increase == pytest.approx(0.2)
    assert custom.kind == "custom" and custom.query is not None
    assert custom.query.dimensions == {"TG": "{target_group}"}
    assert expression.kind == "custom" and [q.id for q in expression.queries] == ["m1", "m2"]


def test_no_analysis_by_default() -> None:
    assert parse_config(BASE).analysis is None


def test_defaults() -> None:
    analysis = parse_config(
        {**BASE, "analysis": {"metrics": [{"name": "error_rate", "max": 0.01}]}}
    )
    assert analysis.analysis is not None
    check = analysis.analysis.metrics[0]
    assert (check.confidence, check.min_requests, check.min_samples) == (0.98, 200, 5)
    assert analysis.analysis.on_inconclusive == "extend"
    assert analysis.analysis.inconclusive_limit == 10
    assert analysis.analysis.lookback_seconds == 600


@pytest.mark.parametrize(("given", "seconds"), [("all", None), ("30m", 1800), (300, 300)])
def test_lookback_is_whole_minutes_or_all(given: Any, seconds: float | None) -> None:
    error_rate = {"name": "error_rate", "max": 0.01}
    config = parse_config({**BASE, "analysis": {"lookback": given, "metrics": [error_rate]}})
    assert config.analysis is not None and config.analysis.lookback_seconds == seconds


@pytest.mark.parametrize(
    ("analysis", "expected"),
    [
        ({"lookback": "90s"}, "lookback (90s) is whole minutes"),
        ({"lookback": "1m", "interval": "2m"}, "at least the interval (120s)"),
        ({"lookback": "forever"}, "lookback"),
    ],
)
def test_lookback_refuses_what_cannot_be_a_window(analysis: dict[str, Any], expected: str) -> None:
    assert expected in error_of({**analysis, "metrics": [{"name": "error_rate", "max": 0.01}]})


def test_lookback_must_hold_the_minutes_a_comparison_needs() -> None:
    latency = {"name": "latency", "max_increase": "20%", "min_samples": 6}
    message = error_of({"lookback": "5m", "metrics": [latency]})
    assert 'holds fewer minutes than metric "latency" needs (min_samples = 6)' in message


def test_a_builtin_under_another_name_twice() -> None:
    config = parse_config(
        {
            **BASE,
            "analysis": {
                "metrics": [
                    {"name": "latency", "statistic": "p99", "max_increase": "20%"},
                    {"name": "median", "builtin": "latency", "statistic": "p50", "max": "300ms"},
                ]
            },
        }
    )
    assert config.analysis is not None
    p99, p50 = config.analysis.metrics
    assert p50.kind == "latency" and p50.latency_statistic == "p50" and p50.max == 0.3
    assert p50.label == "median (p50)" and p99.label == "latency p99"


def test_bounds_in_their_units() -> None:
    config = parse_config(
        {
            **BASE,
            "analysis": {
                "metrics": [
                    {"name": "error_rate", "max": "1.5%"},
                    {"name": "latency", "statistic": "average", "max": "1s", "min": 0.001},
                ]
            },
        }
    )
    assert config.analysis is not None
    rate, latency = config.analysis.metrics
    assert rate.max == pytest.approx(0.015)
    assert (latency.max, latency.min, latency.latency_statistic) == (1.0, 0.001, "Average")


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (
            {"name": "error_rate", "max": 0.01, "colour": "x"},
            "analysis.metrics.0.colour: unknown key",
        ),
        ({"name": "checkout", "max": 1}, 'metric "checkout" is not a built-in'),
        ({"name": "error_rate"}, "judges nothing: give max and/or min"),
        ({"name": "error_rate", "compare": "blue"}, "needs the tolerated change: max_increase"),
        ({"name": "error_rate", "compare": "blue", "max": 0.1}, "needs max_increase and/or"),
        ({"name": "request_count", "max_increase": "5%"}, "request_count cannot be compared"),
        ({"name": "request_count", "compare": "blue", "min": 10}, "request_count cannot be"),
        (
            {"name": "latency", "max_increase": 0.2},
            'max_increase: a percentage is a string such as "25%"',
        ),
        (
            {"name": "latency", "max_increase": "20%", "min_samples": 3},
            "min_samples = 3 can never reach confidence 0.98",
        ),
        (
            {"name": "latency", "max_increase": "20%", "min_requests": 50},
            "min_requests applies to error_rate",
        ),
        (
            {"name": "error_rate", "max_increase": "20%", "min_samples": 9},
            "min_samples applies to per-minute",
        ),
        (
            {"name": "error_rate", "max": 0.01, "confidence": 0.9},
            "confidence apply to a comparison",
        ),
        ({"name": "error_rate", "max": 2}, "max is a rate between 0 and 1"),
        ({"name": "latency", "max": 0.1, "min": 0.5}, "max (0.1) is below min (0.5)"),
        ({"name": "latency", "statistic": "p999", "max": 1}, 'statistic is "pNN", "pNN.N"'),
        ({"name": "error_rate", "statistic": "p99", "max": 1}, "statistic is latency's"),
        ({"name": "latency", "max_decrease": "150%"}, "max_decrease is at most 100%"),
        (
            {"name": "latency", "max_increase": "20%", "confidence": 1.0},
            "confidence: Input should be less than 1",
        ),
        (
            {
                "name": "error_rate",
                "query": {"namespace": "A", "metric": "B", "statistic": "Sum"},
                "max": 1,
            },
            "is a built-in: give the custom metric another name",
        ),
        (
            {"name": "x", "builtin": "latency", "expression": "m1", "max": 1},
            "takes no query or expression",
        ),
        (
            {
                "name": "x",
                "query": {"namespace": "A", "metric": "B", "statistic": "Sum"},
                "expression": "m1",
                "queries": [{"id": "m1", "namespace": "A", "metric": "B", "statistic": "Sum"}],
                "max": 1,
            },
            "give query or expression (with queries), not both",
        ),
        (
            {"name": "x", "expression": "m1 * 2", "max": 1},
            "expression needs queries, each with an id",
        ),
        (
            {
                "name": "x",
                "expression": "100*m1/m3",
                "queries": [{"id": "m1", "namespace": "A", "metric": "B", "statistic": "Sum"}],
                "max": 1,
            },
            "expression uses m3, which no query defines (ids: m1)",
        ),
        (
            {
                "name": "x",
                "expression": "m1",
                "queries": [{"id": "M1", "namespace": "A", "metric": "B", "statistic": "Sum"}],
                "max": 1,
            },
            "an id starts with a lower-case letter",
        ),
        (
            {
                "name": "x",
                "query": {"namespace": "A", "metric": "B", "statistic": "Median"},
                "max": 1,
            },
            "a statistic is Sum, Average",
        ),
        (
            {
                "name": "x",
                "query": {
                    "namespace": "A",
                    "metric": "B",
                    "dimensions": {"TG": "{targetgroup}"},
                    "statistic": "Sum",
                },
                "max": 1,
            },
            "(not {targetgroup})",
        ),
        (
            {
                "name": "x",
                "query": {"namespace": "A", "metric": "B", "statistic": "Sum"},
                "max": 1,
                "queries": [],
            },
            None,
        ),
        ({"name": "bad name!", "max": 1}, "a metric's name is a letter"),
    ],
)
def test_mistakes_name_the_key_and_the_fix(metric: dict[str, Any], expected: str | None) -> None:
    if expected is None:  # the control: an empty queries list beside a query is harmless
        parse_config({**BASE, "analysis": {"metrics": [metric]}})
        return
    assert expected in metric_error(**metric)


def test_a_custom_comparison_must_name_the_colour() -> None:
    query = {"namespace": "MyApp", "metric": "Errors", "statistic": "Sum"}
    message = metric_error(name="checkout", query=query, max_increase="10%")
    assert "analysis.metrics.0" in message and "is the same for both colours" in message
    assert "{target_group}" in message and "{service}" not in message
    # absolute bounds need no colour: a global business metric may be bounded
    parse_config(
        {**BASE, "analysis": {"metrics": [{"name": "checkout", "query": query, "max": 5}]}}
    )


def test_service_names_the_colour_in_a_service_pair_only() -> None:
    query = {"namespace": "ECS/ContainerInsights", "metric": "CpuUtilized", "statistic": "Average"}
    query["dimensions"] = {"ServiceName": "{service}", "ClusterName": "{cluster}"}  # type: ignore[assignment]
    metric = {"name": "cpu", "query": query, "max_increase": "30%"}
    pair = {"mode": "service-pair", "blue_service": "web-blue", "green_service": "web-green"}
    parse_config(
        {**BASE, "service": {"cluster": "prod", **pair}, "analysis": {"metrics": [metric]}}
    )
    assert "is the same for both colours" in error_of({"metrics": [metric]}, name="web")


def test_task_set_is_for_task_sets_mode() -> None:
    query = {"namespace": "A", "metric": "B", "dimensions": {"T": "{task_set}"}, "statistic": "Sum"}
    pair = {"mode": "service-pair", "blue_service": "web-blue", "green_service": "web-green"}
    message = error_of({"metrics": [{"name": "x", "query": query, "max": 1}]}, **pair)
    assert '{task_set} exists in mode "task-sets" only' in message


@pytest.mark.parametrize(
    ("analysis", "expected"),
    [
        ({"interval": "90s"}, "interval (90s) is whole minutes from 1m to 1h"),
        ({"interval": "30s"}, "interval (30s) is whole minutes"),
        ({"delay": "1h"}, "delay (3600s) is at most 15m"),
        (
            {"on_inconclusive": "pause", "inconclusive_limit": 3},
            'applies to on_inconclusive = "extend"',
        ),
        ({"on_inconclusive": "wait"}, "analysis.on_inconclusive"),
        ({"failure_limit": 0}, "analysis.failure_limit"),
        ({"metrics": []}, "[analysis] judges nothing: add [[analysis.metrics]]"),
        (
            {"metrics": [{"name": "a", "builtin": "latency", "max": 1}] * 2},
            "the name 'a' is used twice",
        ),
        ({"samples": 3}, "analysis.samples: unknown key (allowed here: delay, failure_limit"),
    ],
)
def test_table_mistakes(analysis: dict[str, Any], expected: str) -> None:
    metrics = {"metrics": [{"name": "error_rate", "max": 0.01}]}
    assert expected in error_of({**metrics, **analysis})
