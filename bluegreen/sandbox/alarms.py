"""CloudWatch alarm evaluation in the simulated AWS, as a pure function over datapoints
plus the glue that reads moto's alarms and metric data.

`evaluate` follows the CloudWatch user guide, "How alarm state is evaluated when data is
missing": it looks at EvaluationPeriods + EXTRA_PERIODS periods, M of N datapoints to
alarm, and TreatMissingData missing / ignore / breaching / notBreaching. State reasons are
written the way CloudWatch writes them. A single-metric alarm on a statistic (Sum, Average,
SampleCount, Minimum, Maximum) or a percentile (ExtendedStatistic pNN.NN, from the raw
values distribution.py keeps; a period without them has no datapoint) is evaluated; its
EvaluateLowSampleCountPercentile is not modelled: low sample counts are evaluated.
"""

from __future__ import annotations

import json
import math
import operator
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bluegreen.sandbox.distribution import percentile, percentile_rank

# CloudWatch looks further back than EvaluationPeriods (its "evaluation range"): the user
# guide's tables retrieve 5 datapoints for 3 evaluation periods.
EXTRA_PERIODS = 2

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
STATISTICS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}


@dataclass(frozen=True)
class AlarmRule:
    comparison: str  # one of COMPARISONS
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int | None = None  # None: = evaluation_periods
    treat_missing_data: str = "missing"  # missing | ignore | breaching | notBreaching


@dataclass(frozen=True)
class Datapoint:
    start: datetime  # the period's start
    value: float | None  # None: no data in that period


@dataclass(frozen=True)
class Evaluation:
    state: str
    reason: str


def evaluate(rule: AlarmRule, points: Sequence[Datapoint], current: str) -> Evaluation:
    """The state CloudWatch sets, from the evaluation range `points` (oldest first).

    With at least EvaluationPeriods (N) real datapoints in the range, the newest N decide
    and missing ones do not matter. With fewer, missing datapoints fill up to N as
    `treat_missing_data` says; `missing` and `ignore` fill nothing, and when the real
    datapoints can decide neither way the alarm goes INSUFFICIENT_DATA (`missing`) or keeps
    its state (`ignore`). ALARM when at least DatapointsToAlarm (M) are breaching, else OK.
    """
    compare, _ = COMPARISONS[rule.comparison]
    n = rule.evaluation_periods
    m = rule.datapoints_to_alarm or n
    real = [p for p in points if p.value is not None]
    if len(real) >= n:
        real, fill = real[-n:], 0
    else:
        fill = n - len(real)
    bad = [p for p in real if compare(_value(p), rule.threshold)]
    good = [p for p in real if not compare(_value(p), rule.threshold)]
    filled_bad = fill if rule.treat_missing_data == "breaching" else 0
    filled_good = fill if rule.treat_missing_data == "notBreaching" else 0
    if len(bad) + filled_bad >= m:
        return Evaluation(ALARM, _crossed(rule, bad, len(bad) + filled_bad, m, ALARM))
    if good or filled_good:
        return Evaluation(OK, _crossed(rule, good, len(good) + filled_good, n - m + 1, OK))
    if rule.treat_missing_data == "ignore":
        return Evaluation(current, "")
    unknown = len(points) - len(real)
    reason = f"Insufficient Data: {unknown} datapoint{_s(unknown)} {_was(unknown)} unknown."
    return Evaluation(INSUFFICIENT_DATA, reason)


def _crossed(rule: AlarmRule, shown: list[Datapoint], count: int, minimum: int, to: str) -> str:
    if not shown:  # the filled-in missing datapoints decided alone
        treated = "Breaching" if to == ALARM else "NonBreaching"
        return (
            f"Threshold Crossed: no datapoints were received for {count} period{_s(count)} "
            f"and {count} missing datapoint{_s(count)} {_was(count)} treated as [{treated}]."
        )
    _, words = COMPARISONS[rule.comparison]
    listed = ", ".join(f"{p.value} ({p.start:%d/%m/%y %H:%M:%S})" for p in reversed(shown))
    negation = "" if to == ALARM else "not "
    transition = "OK -> ALARM" if to == ALARM else "ALARM -> OK"
    return (
        f"Threshold Crossed: {count} out of the last {rule.evaluation_periods} datapoints "
        f"[{listed}] {_was(count)} {negation}{words} the threshold ({float(rule.threshold)}) "
        f"(minimum {minimum} datapoint{_s(minimum)} for {transition} transition)."
    )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


def _value(point: Datapoint) -> float:
    assert point.value is not None  # only real datapoints are compared
    return point.value


def statistic(datums: Sequence[Any], stat: str) -> float | None:
    """A CloudWatch statistic over moto's datums (single values or statistic sets)."""
    if not datums:
        return None
    parts = [_parts(datum) for datum in datums]
    count, total = sum(p[0] for p in parts), sum(p[1] for p in parts)
    return {
        "SampleCount": count,
        "Sum": total,
        "Average": total / count if count else math.nan,
        "Minimum": min(p[2] for p in parts),
        "Maximum": max(p[3] for p in parts),
    }.get(stat)


def _parts(datum: Any) -> tuple[float, float, float, float]:
    """(sample count, sum, minimum, maximum) of a MetricDatum or MetricAggregatedDatum."""
    if hasattr(datum, "value"):
        value = float(datum.value)
        return 1.0, value, value, value
    return float(datum.sample_count), float(datum.sum), float(datum.min), float(datum.max)


def alarm_rule(alarm: Any) -> AlarmRule | None:
    """The rule of a single-metric alarm we can evaluate, else None."""
    measured = alarm.statistic in STATISTICS or percentile_rank(_extended(alarm)) is not None
    evaluable = (
        alarm.metric_name
        and not alarm.metric_data_queries
        and measured
        and alarm.comparison_operator in COMPARISONS
        and alarm.period
    )
    if not evaluable:
        return None
    return AlarmRule(
        comparison=alarm.comparison_operator,
        threshold=float(alarm.threshold),
        evaluation_periods=int(alarm.evaluation_periods),
        datapoints_to_alarm=int(alarm.datapoints_to_alarm or 0) or None,
        treat_missing_data=alarm.treat_missing_data or "missing",
    )


def evaluation_range(
    datums: Sequence[Any], alarm: Any, rule: AlarmRule, at: float
) -> list[Datapoint]:
    """The alarm's statistic over its last complete periods before `at`, oldest first."""
    period = int(alarm.period)
    count = rule.evaluation_periods + EXTRA_PERIODS
    end = math.floor(at / period) * period
    first = end - count * period
    buckets: defaultdict[int, list[Any]] = defaultdict(list)
    for datum in datums:
        seconds = epoch(datum.timestamp)
        if first <= seconds < end and _measures(datum, alarm):
            buckets[int((seconds - first) // period)].append(datum)
    return [Datapoint(utc(first + i * period), _measure(buckets[i], alarm)) for i in range(count)]


def _measure(datums: Sequence[Any], alarm: Any) -> float | None:
    """The alarm's statistic, or its percentile, of one period's datums."""
    if alarm.statistic in STATISTICS:
        return statistic(datums, alarm.statistic)
    rank = percentile_rank(_extended(alarm))
    return None if rank is None or not datums else percentile(datums, rank)


def _extended(alarm: Any) -> str | None:
    return getattr(alarm, "extended_statistic", None)


def _measures(datum: Any, alarm: Any) -> bool:
    # CloudWatch matches dimensions exactly (moto's own filter matches a subset).
    return (
        datum.namespace == alarm.namespace
        and datum.name == alarm.metric_name
        and {(d.name, d.value) for d in datum.dimensions}
        == {(d.name, d.value) for d in alarm.dimensions}
        and (not alarm.unit or datum.unit == alarm.unit)
    )


def reason_data(alarm: Any, points: Sequence[Datapoint], at: float) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "queryDate": f"{utc(at):%Y-%m-%dT%H:%M:%S.000+0000}",
            "statistic": alarm.statistic or _extended(alarm),
            "period": int(alarm.period),
            "recentDatapoints": [p.value for p in points if p.value is not None],
            "threshold": float(alarm.threshold),
        }
    )


def utc(seconds: float) -> datetime:
    # moto keeps metric timestamps as naive UTC datetimes.
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
