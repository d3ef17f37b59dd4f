"""Checks and values in words, for plans, verdicts and events."""

from __future__ import annotations

from bluegreen.config import AnalysisConfig, MetricCheckConfig


def shown(check: MetricCheckConfig, value: float) -> str:
    """A value in its check's unit: a rate as a percentage, latency in ms or s."""
    if check.kind == "error_rate":
        return f"{value:.3%}" if 0 < value < 0.001 else f"{value:.2%}"
    if check.kind == "latency":
        return f"{value * 1000:.0f}ms" if value < 1 else f"{value:.2f}s"
    if check.kind == "request_count":
        return f"{value:.0f}/min"
    return f"{value:.4g}"


def describe_check(check: MetricCheckConfig) -> str:
    """What a check reads and how it judges: "error_rate: 5XX / requests per target group;
    green at most 1.00%; against blue at most +25% (98% confidence, ≥ 200 requests each)"."""
    parts = [f"{check.label}: {_source(check)}"]
    bounds = [(k, v) for k, v in (("at least", check.min), ("at most", check.max)) if v is not None]
    if bounds:
        parts.append("green " + " and ".join(f"{k} {shown(check, v)}" for k, v in bounds))
    changes = [
        f"{sign}{tolerance:.0%}"
        for sign, tolerance in (("+", check.max_increase), ("-", check.max_decrease))
        if tolerance is not None
    ]
    if changes:
        enough = (
            f"≥ {check.min_requests} requests each"
            if check.request_based
            else f"≥ {check.min_samples} shared minutes"
        )
        parts.append(
            f"against blue at most {' / '.join(changes)} "
            f"({check.confidence:.0%} confidence, {enough})"
        )
    return "; ".join(parts)


def describe_analysis(analysis: AnalysisConfig) -> str:
    extend = analysis.on_inconclusive == "extend"
    limit = f" up to {analysis.inconclusive_limit} times" if extend else ""
    seconds = analysis.lookback_seconds
    judged = "every minute since the shift" if seconds is None else f"the latest {seconds:g}s"
    if any(check.compares for check in analysis.metrics):
        judged += " (at 100 % green, against blue's as long before the final shift)"
    return (
        f"every {analysis.interval:g}s, {analysis.delay:g}s behind, judging {judged}; "
        "rollback after "
        f"{analysis.failure_limit} failed evaluation(s) in a row; a bake ending "
        f"inconclusive: {analysis.on_inconclusive}{limit}"
    )


def _source(check: MetricCheckConfig) -> str:
    if check.kind == "error_rate":
        return "target 5XX / requests of each colour's target group"
    if check.kind == "request_count":
        return "requests per minute to green's target group"
    if check.kind == "latency":
        return f"target response time ({check.latency_statistic}) per minute"
    if check.query is not None:
        return f"{check.query.namespace} {check.query.metric} ({check.query.statistic}) per minute"
    return f"{check.expression} per minute"
