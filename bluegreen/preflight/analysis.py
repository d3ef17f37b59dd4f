"""The `analysis` check: the metric checks can be read, and blue has data for each.

One GetMetricData read — the same batched queries a deployment's evaluations make — of
the latest LOOKBACK_SECONDS. Per check:
- pass when blue has data ("error_rate: blue 5400 requests in the last hour");
- warn when blue has none: a misspelled namespace, metric or dimension, or a service with
  no traffic. Every evaluation would then be inconclusive, and the deployment would pause
  at the end of its first bake (warn, not fail: a service may be quiet right now);
- the read refused (AccessDenied…) fails the check: a deployment could never judge
  green, so `deploy` stops before changing anything;
- CloudWatch throttling or failing through every retry only warns: a deployment's
  evaluations retry, and such an error never decides anything.
Skipped without `[analysis]`, or while blue or the load balancers are not known (the
wiring checks say why).
Green is not looked at: it has no traffic before a deployment.
"""

from __future__ import annotations

from collections.abc import Sequence

from bluegreen.analysis import ColourData, QueryPlan, colour_of, minute_floor, plan_queries
from bluegreen.config import DeploymentConfig, MetricCheckConfig
from bluegreen.errors import AwsError
from bluegreen.model import LoadBalancer, Service, TargetGroup
from bluegreen.ports import Cloud
from bluegreen.preflight.report import Findings

LOOKBACK_SECONDS = 3600.0
ACCESS_FIX = (
    "allow cloudwatch:GetMetricData to the role bluegreen runs as: the analysis reads "
    "both colours' metrics with it"
)


def metrics(
    f: Findings,
    config: DeploymentConfig,
    cloud: Cloud,
    now: float,
    lbs: Sequence[LoadBalancer],
    live: TargetGroup | None,
    services: dict[str, Service],
) -> None:
    analysis = config.analysis
    if analysis is None or not analysis.metrics:  # no metric check (smoke checks only)
        return
    if live is None:
        f.skip("analysis", "blue's target group is not known")
        return
    if not lbs:  # every route is on one: their reads failed (the load_balancer check says why)
        f.skip("analysis", "the load balancers could not be read")
        return
    plan = _plan(config, lbs, live, services)
    end = minute_floor(now)
    try:
        answer = cloud.metrics.metric_data(plan.queries, end - LOOKBACK_SECONDS, end)
    except AwsError as exc:
        if exc.transient:  # as a deployment's evaluations would be: retried, not decisive
            f.warn("analysis", exc.message, "nothing to do: each evaluation reads again")
        else:
            f.fail("analysis", exc.message, ACCESS_FIX if _refused(exc) else exc.hint)
        return
    for check in analysis.metrics:
        _judge_data(f, check, plan.data(check, answer).blue)


def _plan(
    config: DeploymentConfig,
    lbs: Sequence[LoadBalancer],
    live: TargetGroup,
    services: dict[str, Service],
) -> QueryPlan:
    """Blue's queries (a ConfigError, as in `plan`, when a built-in has no ALB to read)."""
    albs = [lb.arn for lb in lbs if lb.type == "application"]
    blue_service = next(
        (
            s.name
            for s in services.values()
            if any(b.target_group_arn == live.arn for b in s.load_balancers)
        ),
        None,
    )
    blue_task_set = next(
        (
            ts.id
            for s in services.values()
            for ts in s.task_sets
            if live.arn in ts.target_group_arns
        ),
        None,
    )
    blue = colour_of(config, "blue", albs, live.arn, blue_service, blue_task_set)
    return plan_queries(config.analysis.metrics if config.analysis else [], blue, blue)


def _judge_data(f: Findings, check: MetricCheckConfig, blue: ColourData) -> None:
    if check.request_based or check.kind == "request_count":
        requests = sum(blue.requests.values())
        if requests:
            f.passed("analysis", f"{check.label}: blue {requests:.0f} requests in the last hour")
            return
    elif blue.values:
        f.passed("analysis", f"{check.label}: blue has {len(blue.values)} minute(s) of data")
        return
    f.warn(
        "analysis",
        f"{check.label}: no data for blue in the last hour — every evaluation would be "
        "inconclusive",
        _no_data_fix(check),
    )


def _no_data_fix(check: MetricCheckConfig) -> str:
    if check.kind == "custom":
        return (
            "check the query's namespace, metric name, dimensions and statistic against "
            "what the application publishes (CloudWatch console or `aws cloudwatch "
            "list-metrics`); a quiet service has no data either"
        )
    return (
        "the load balancer publishes nothing for a target group without requests: send "
        "traffic, or expect the analysis to wait"
    )


def _refused(exc: AwsError) -> bool:
    return "AccessDenied" in exc.code or "Unauthorized" in exc.code
