"""Distributions in the simulated CloudWatch: a minute of request times as a histogram, and
the percentiles CloudWatch answers from raw values.

- `Histogram`: how many requests took each time. Drawn per request (`response_times`) on
  the sandbox's seeded Random — lognormal around the AppModel's median, no draw at all when
  its times do not vary — and kept to three significant figures, the way a publisher
  batches values into PutMetricData's Values/Counts; the sum, minimum and maximum stay
  exact.
- `DistributionDatum`: how the minute is stored, beside moto's own datums. It is one of
  moto's statistic sets (SampleCount, Sum, Minimum, Maximum: moto's GetMetricStatistics
  and the alarm evaluation read it as such) that also keeps its Values/Counts, so
  percentiles work on it as they do on TargetResponseTime on AWS.
- `percentile`: CloudWatch needs raw values for percentiles; a statistic set gives them
  only when its SampleCount is 1 or its Minimum equals its Maximum (the API reference,
  GetMetricStatistics), and no percentile is given over negative values. The rank is the
  nearest one: the smallest value with at least p % of the samples at or below it.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum

from bluegreen.sandbox.world import AppModel

Samples = list[tuple[float, float]]  # (value, how many times it was seen)
PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d{1,2})?|100(?:\.0{1,2})?)")  # p50, p99.9, p100


@dataclass
class Histogram:
    counts: Counter[float] = field(default_factory=Counter)
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    @property
    def size(self) -> int:
        return sum(self.counts.values())

    def add(self, value: float, times: int = 1) -> None:
        self.counts[float(f"{value:.3g}")] += times
        self.total += value * times
        self.low, self.high = min(self.low, value), max(self.high, value)

    def merge(self, other: Histogram) -> None:
        self.counts.update(other.counts)
        self.total += other.total
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)


def response_times(app: AppModel, count: int, rng: random.Random) -> Histogram:
    """How long each of `count` requests to `app` took."""
    times = Histogram()
    sigma = app.latency_sigma
    if count <= 0:
        return times
    if sigma == 0.0:
        times.add(app.latency, count)
        return times
    mu = math.log(app.latency)
    for _ in range(count):
        times.add(rng.lognormvariate(mu, sigma))
    return times


class DistributionDatum(MetricAggregatedDatum):  # type: ignore[misc]
    """A statistic set that keeps the values it summarises (see the module docstring)."""

    def __init__(
        self,
        namespace: str,
        name: str,
        histogram: Histogram,
        dimensions: list[dict[str, str]],
        timestamp: datetime,
        unit: str | None = None,
    ) -> None:
        values = sorted(histogram.counts)
        super().__init__(
            namespace=namespace,
            name=name,
            min_stat=histogram.low,
            max_stat=histogram.high,
            sample_count=float(histogram.size),
            sum_stat=histogram.total,
            dimensions=dimensions,
            timestamp=timestamp,
            unit=unit,
        )
        self.values = values
        self.counts = [float(histogram.counts[value]) for value in values]


def samples(datum: Any) -> Samples | None:
    """The raw values behind one of moto's datums, or None when it has none to give."""
    if isinstance(datum, DistributionDatum):
        return list(zip(datum.values, datum.counts, strict=True))
    if isinstance(datum, MetricDatum):
        return [(float(datum.value), 1.0)]
    if isinstance(datum, MetricAggregatedDatum):
        if float(datum.sample_count) == 1:
            return [(float(datum.sum), 1.0)]
        if float(datum.min) == float(datum.max):
            return [(float(datum.min), float(datum.sample_count))]
    return None


def percentile_rank(statistic: str | None) -> float | None:
    """The rank of a percentile statistic (`p99.9` → 99.9); None for any other name."""
    if statistic is None or not PERCENTILE.fullmatch(statistic):
        return None
    return float(statistic[1:])


def percentile(datums: Iterable[Any], rank: float) -> float | None:
    """The `rank` percentile (0–100) of the datums' values, or None when CloudWatch has
    none to give: no data, a statistic set without its values, or a negative value."""
    pooled: Samples = []
    for datum in datums:
        found = samples(datum)
        if found is None:
            return None
        pooled += found
    return nearest_rank(pooled, rank)


def nearest_rank(pooled: Sequence[tuple[float, float]], rank: float) -> float | None:
    ordered = sorted((value, count) for value, count in pooled if count > 0)
    if not ordered or ordered[0][0] < 0:
        return None
    size = sum(count for _, count in ordered)
    wanted = max(1.0, math.ceil(rank / 100 * size - 1e-9))
    seen = 0.0
    for value, count in ordered:
        seen += count
        if seen >= wanted:
            return value
    return ordered[-1][0]
