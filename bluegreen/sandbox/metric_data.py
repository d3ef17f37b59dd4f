"""GetMetricData in the simulated AWS, answering what a metric analysis asks, as AWS does.

moto 5.2's GetMetricData answers MetricStat queries with Sum, Average, SampleCount,
Minimum and Maximum only (a percentile fails the whole call), evaluates an Expression only
when it is a bare query id (`m1*2` comes back empty), buckets from the StartTime as given,
and, once dimensions are given, matches any namespace. Here, for every query batch without
a Metrics Insights query (`SELECT …`, left to moto):

- up to 500 queries a call, each an Id (a lowercase letter, then letters, digits and `_`;
  unique) with exactly one of MetricStat and Expression; ReturnData false hides a result;
- MetricStat: the metric matched exactly — namespace, name, the whole set of dimensions,
  and the unit when given; Period 1, 5, 10, 20, 30 or a multiple of 60; Stat `Sum`,
  `Average`, `SampleCount`, `Minimum`, `Maximum` or a percentile `pNN` / `pNN.NN`
  (distribution.py). Periods start at StartTime rounded down to the whole minute (to the
  period below a minute), and each datapoint is the statistic of the data whose timestamps
  fall in it, before EndTime (exclusive); a period with no data — or without the raw values
  a percentile needs — has no datapoint;
- Expression: metric-math arithmetic over other queries' ids, expressions included
  (metric_math.py), evaluated per timestamp with missing points as 0 and divisions by zero
  dropped, as CloudWatch does;
- results in the order of the queries, timestamps newest first unless ScanBy is
  TimestampAscending. Not modelled: MaxDatapoints, NextToken pages, Messages, statistics
  other than these (tm99, IQR…) and math functions: those are refused by name with a
  ValidationError, never answered wrongly.

`install` wraps `CloudWatchBackend.get_metric_data` once per process — every request moto
answers reaches it, in process and through `bluegreen sandbox serve` alike — and
`uninstall` puts moto's back.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend

from bluegreen.sandbox import metric_math
from bluegreen.sandbox.alarms import STATISTICS, epoch, statistic, utc
from bluegreen.sandbox.distribution import percentile, percentile_rank
from bluegreen.sandbox.patches import Patches

MAX_QUERIES = 500
HIGH_RESOLUTION = (1, 5, 10, 20, 30)
QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]*")

_patches = Patches(CloudWatchBackend)


def install() -> None:
    _patches.apply("get_metric_data", _answering)


def uninstall() -> None:
    _patches.undo()


def _answering(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def get_metric_data(
        backend: Any,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        if any(str(q.get("Expression", "")).lstrip().startswith("SELECT") for q in queries):
            return original(backend, queries, start_time, end_time, scan_by)  # type: ignore[no-any-return]
        return answer(backend.get_all_metrics(), queries, start_time, end_time, scan_by)

    return get_metric_data


def answer(
    datums: Sequence[Any],
    queries: Sequence[Mapping[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampDescending",
) -> list[dict[str, Any]]:
    """GetMetricData's MetricDataResults over moto's datums (see the module docstring)."""
    _check_batch(queries)
    start, end = epoch(start_time), epoch(end_time)
    if start >= end:
        raise ValidationError("The parameter StartTime must be less than the parameter EndTime.")
    series: dict[str, metric_math.Series] = {}
    for number, query in enumerate(queries, 1):
        if "MetricStat" in query:
            series[query["Id"]] = metric_series(datums, query["MetricStat"], number, start, end)
    expressions = {
        query["Id"]: (number, _parse(query, number))
        for number, query in enumerate(queries, 1)
        if "Expression" in query
    }
    for name in expressions:
        _evaluate(name, expressions, series, set())
    newest_first = scan_by != "TimestampAscending"
    return [
        _result(query, series[query["Id"]], newest_first)
        for query in queries
        if query.get("ReturnData", True) not in (False, "false")
    ]


def metric_series(
    datums: Sequence[Any], stat: Mapping[str, Any], number: int, start: float, end: float
) -> metric_math.Series:
    """One MetricStat's datapoints: period start → the statistic of its data."""
    period = _period(stat, number)
    name = _statistic(stat, number)
    metric = stat.get("Metric") or {}
    wanted = {(d["Name"], d["Value"]) for d in metric.get("Dimensions") or []}
    unit = stat.get("Unit")
    first = math.floor(start / min(period, 60)) * min(period, 60)
    buckets: dict[int, list[Any]] = {}
    for datum in datums:
        moment = epoch(datum.timestamp)
        if not first <= moment < end:
            continue
        if datum.namespace != metric.get("Namespace") or datum.name != metric.get("MetricName"):
            continue
        if {(d.name, d.value) for d in datum.dimensions} != wanted:
            continue
        if unit and datum.unit != unit:
            continue
        buckets.setdefault(int((moment - first) // period), []).append(datum)
    found: metric_math.Series = {}
    for index in sorted(buckets):
        value = _value(buckets[index], name)
        if value is not None and not math.isnan(value):
            found[utc(first + index * period)] = value
    return found


def _value(datums: Sequence[Any], name: str) -> float | None:
    if name in STATISTICS:
        value = statistic(datums, name)
        return None if value is None else float(value)
    return percentile(datums, float(name[1:]))  # a name _statistic accepted


# -- checking the request ---------------------------------------------------------------


def _check_batch(queries: Sequence[Mapping[str, Any]]) -> None:
    if not queries:
        raise ValidationError("GetMetricData needs at least one query in MetricDataQueries.")
    if len(queries) > MAX_QUERIES:
        raise ValidationError(
            f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )
    seen: set[str] = set()
    for number, query in enumerate(queries, 1):
        query_id = str(query.get("Id", ""))
        if not QUERY_ID.fullmatch(query_id):
            raise ValidationError(
                f"The value {query_id!r} for parameter MetricDataQueries.member.{number}.Id "
                "is invalid: it starts with a lowercase letter, then letters, digits or _."
            )
        if query_id in seen:
            raise ValidationError(f"Two queries have the Id {query_id!r}: Ids are unique.")
        seen.add(query_id)
        if ("MetricStat" in query) == ("Expression" in query):
            raise ValidationError(
                f"MetricDataQueries.member.{number} needs exactly one of MetricStat and Expression."
            )


def _period(stat: Mapping[str, Any], number: int) -> int:
    period = int(stat.get("Period") or 0)
    if period in HIGH_RESOLUTION or (period > 0 and period % 60 == 0):
        return period
    raise ValidationError(
        f"The value {period} for parameter MetricDataQueries.member.{number}.MetricStat.Period "
        "is invalid: use 1, 5, 10, 20, 30 or a multiple of 60."
    )


def _statistic(stat: Mapping[str, Any], number: int) -> str:
    name = str(stat.get("Stat", ""))
    if name in STATISTICS or percentile_rank(name) is not None:
        return name
    raise ValidationError(
        f"The statistic {name!r} of MetricDataQueries.member.{number} is not one the sandbox "
        "computes: Sum, Average, SampleCount, Minimum, Maximum or a percentile such as p99."
    )


def _parse(query: Mapping[str, Any], number: int) -> metric_math.Node:
    try:
        return metric_math.parse(str(query["Expression"]))
    except metric_math.ExpressionError as error:
        raise ValidationError(
            f"Error in expression {query['Id']!r} (MetricDataQueries.member.{number}): {error}"
        ) from None


def _evaluate(
    name: str,
    expressions: Mapping[str, tuple[int, metric_math.Node]],
    series: dict[str, metric_math.Series],
    visiting: set[str],
) -> None:
    """Evaluate expression `name` into `series`, the expressions it reads first."""
    if name in series:
        return
    number, node = expressions[name]
    visiting.add(name)
    for needed in sorted(metric_math.references(node)):
        if needed in visiting:
            raise ValidationError(f"Expression {name!r} depends on itself through {needed!r}.")
        if needed not in series and needed not in expressions:
            raise ValidationError(
                f"Error in expression {name!r} (MetricDataQueries.member.{number}): "
                f"no query has the Id {needed!r}."
            )
        _evaluate(needed, expressions, series, visiting)
    visiting.discard(name)
    try:
        series[name] = metric_math.evaluate(node, series)
    except metric_math.ExpressionError as error:
        raise ValidationError(
            f"Error in expression {name!r} (MetricDataQueries.member.{number}): {error}"
        ) from None


def _result(
    query: Mapping[str, Any], found: metric_math.Series, newest_first: bool
) -> dict[str, Any]:
    moments = sorted(found, reverse=newest_first)
    if "MetricStat" in query:
        stat = query["MetricStat"]
        default = f"{stat.get('Metric', {}).get('MetricName')} {stat.get('Stat')}"
    else:
        default = query["Id"]
    return {  # the shape moto's serializer reads
        "id": query["Id"],
        "label": query.get("Label") or default,
        "values": [found[moment] for moment in moments],
        "timestamps": moments,
        "status_code": "Complete",
    }
