"""The report's time series, read out of the record's timeline and verdicts: green's weight
on every route, healthy targets per colour, and each verdict as a point in time. Times
are minutes from the deployment's start; a series holds its value until the next point
(a step function), as the timeline's samples do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bluegreen.machine import State
from bluegreen.record import DeploymentRecord
from bluegreen.report.facts import route_label

Steps = list[tuple[float, float]]  # (minute, value) from which the value holds


@dataclass(frozen=True)
class Point:
    minute: float
    check: str  # "error_rate", "smoke /health", "health gate"
    status: str  # pass, fail, inconclusive


@dataclass(frozen=True)
class Series:
    end: float  # minutes from the start to the end (or the latest update)
    weights: dict[str, Steps] = field(default_factory=dict)  # route label → green's weight
    test: Steps = field(default_factory=list)  # the test route's green weight, if any
    blue_healthy: Steps = field(default_factory=list)
    green_healthy: Steps = field(default_factory=list)
    verdicts: list[Point] = field(default_factory=list)
    rollback_at: float | None = None  # when the rollback started


def series_of(rec: DeploymentRecord) -> Series:
    start = rec.created_at

    def minute(at: float) -> float:
        return max(0.0, (at - start) / 60)

    labels = [route_label(entry) for entry in rec.routes]
    weights: dict[str, Steps] = {label: [] for label in labels}
    test: Steps = []
    blue: Steps = []
    green: Steps = []
    for sample in rec.timeline:
        t = minute(sample.at)
        for label, weight in zip(labels, sample.green, strict=False):
            weights[label].append((t, weight))
        if sample.test is not None:
            test.append((t, sample.test))
        blue.append((t, sample.healthy[0]))
        green.append((t, sample.healthy[1]))
    points = [
        Point(minute(entry.at), check.check, check.status)
        for entry in rec.analysis
        for check in entry.checks
    ]
    points += [Point(minute(s.at), f"smoke {s.check}", s.status) for s in rec.smoke if s.at]
    rollback = next((e.at for e in rec.events if e.state is State.ROLLING_BACK), None)
    if rollback is not None and (rec.reason or "").startswith("gate failed"):
        points.append(Point(minute(rollback), "health gate", "fail"))
    return Series(
        end=minute(rec.ended_at or rec.updated_at),
        weights=weights,
        test=test,
        blue_healthy=blue,
        green_healthy=green,
        verdicts=sorted(points, key=lambda p: p.minute),
        rollback_at=None if rollback is None else minute(rollback),
    )


def value_at(steps: Steps, minute: float) -> float | None:
    """The step function's value at `minute`; None before its first point."""
    found = None
    for t, value in steps:
        if t > minute:
            break
        found = value
    return found


def grid(end: float, points: int) -> list[float]:
    """`points` evenly spaced minutes from 0 to `end` (both included)."""
    if points < 2 or end <= 0:
        return [0.0]
    return [end * i / (points - 1) for i in range(points)]
