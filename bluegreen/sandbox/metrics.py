"""CloudWatch in the simulated AWS: load-balancer metrics per target group, and alarms
evaluated from them as CloudWatch does (moto stores both and never computes anything).

`install(sandbox)` registers a tick simulator. Each tick it records the load balancers'
state (elb_view.py) as in force since the previous tick, into the minutes that time covers
(traffic.py); at each virtual minute boundary crossed (minute by minute when the clock
jumps) it publishes the minute that ended, then evaluates the alarms, on moto's backends
directly (no API calls: not counted, never faulted). A minute's metrics therefore follow
the weights, healthy targets and images in force during it: switched 30 s into a minute,
the new weights carry half its requests. The state a tick finds stands for the time since
the previous tick, so a change is placed to within a tick's spacing (the engine's sleeps).

Traffic (AWS/ApplicationELB; dimensions LoadBalancer=app/<name>/<id>, TargetGroup=
targetgroup/<name>/<id>), who gets it and who answers: elb_view.py. Per group and minute:
- RequestCount: every request it got. When it had no healthy target, the load balancer
  answered: HTTPCode_ELB_5XX_Count — which AWS reports per load balancer only.
- HTTPCode_Target_5XX_Count = requests × error_rate (rounded stochastically on
  `sandbox.rng`), HTTPCode_Target_2XX_Count the rest, of the AppModel of each image
  answering (in its share of the requests).
- TargetResponseTime: every answered request's time, drawn from its AppModel (distribution
  .py), stored as a distribution: Average, Minimum, Maximum, SampleCount (the requests),
  Sum and percentiles (GetMetricData, metric_data.py) all answer as on AWS.
- Zero counts are not reported, as on AWS ("if there are no requests or no data for a
  metric, the metric is not reported"): a 5XX alarm with the default TreatMissingData
  (missing) sits in INSUFFICIENT_DATA while the app is healthy.
- HealthyHostCount / UnHealthyHostCount: every minute, for every group a load balancer
  forwarded to during it (NLBs too, in AWS/NetworkELB): one value when it did not change,
  else a statistic set — Average the time-weighted count, Minimum and Maximum its extremes.

Alarms (evaluated by alarms.py each minute, after the minute is published): new alarms
start INSUFFICIENT_DATA (moto: OK); one replaced by PutMetricAlarm keeps its
state; SetAlarmState lasts until the next evaluation. Alarms on a statistic or a
percentile of one metric are evaluated; metric-math, anomaly and composite alarms are left
as moto keeps them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from bluegreen.sandbox.alarms import (
    INSUFFICIENT_DATA,
    alarm_rule,
    evaluate,
    evaluation_range,
    reason_data,
    utc,
)
from bluegreen.sandbox.distribution import DistributionDatum, Histogram, response_times
from bluegreen.sandbox.elb_view import dimension_value, snapshot
from bluegreen.sandbox.traffic import (
    MINUTE,
    Gauge,
    Ledger,
    Minute,
    stochastic_round,
    whole_requests,
)
from bluegreen.sandbox.world import AppModel, Sandbox

REQUESTS = "AWS/ApplicationELB"  # only ALBs report requests


def install(sandbox: Sandbox, quiet_listeners: Collection[str] = ()) -> CloudWatchSimulator:
    """Publish metrics and evaluate alarms as `sandbox.clock` advances. Install it after the
    ECS and health simulators, so each tick sees the targets they have just moved."""
    simulator = CloudWatchSimulator(sandbox, set(quiet_listeners))
    sandbox.on_tick(simulator)
    return simulator


class CloudWatchSimulator:
    def __init__(self, sandbox: Sandbox, quiet_listeners: set[str]) -> None:
        self.sandbox = sandbox
        self.quiet_listeners = quiet_listeners  # listener ARNs that carry no traffic
        # From the start of the current minute: the state found at the first tick stands
        # for the part of the minute before the simulator was installed.
        self.ledger = Ledger(math.floor(sandbox.clock.now() / MINUTE) * MINUTE)
        self._alarms: dict[str, Any] = {}  # name → the moto Alarm object last seen
        self._adopt_alarms()

    def __call__(self, now: float) -> None:
        self._adopt_alarms()
        if now > self.ledger.since:
            self.ledger.record(snapshot(self.sandbox, self.quiet_listeners), now)
        for minute in self.ledger.close():
            self.publish_minute(minute)
            self.evaluate_alarms(minute.start + MINUTE)

    # -- metrics

    def publish_minute(self, minute: Minute) -> None:
        """The metrics of one complete minute, as ELB reports them."""
        when = utc(minute.start)
        values: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, healthy in minute.healthy.items():
            namespace, lb, group = key
            dims = dimensions(lb, group)
            values[namespace] += [
                _gauge("HealthyHostCount", healthy, dims),
                _gauge("UnHealthyHostCount", minute.unhealthy[key], dims),
            ]
        distributions: list[DistributionDatum] = []
        elb_5xx: defaultdict[str, int] = defaultdict(int)
        for (lb, group), answered in _by_group(whole_requests(minute.requests)).items():
            count = sum(answered.values())
            if count == 0:
                continue
            dims = dimensions(lb, group)
            values[REQUESTS].append(_datum("RequestCount", count, dims))
            elb_5xx[lb] += answered.pop(None, 0)
            served = {app: n for app, n in answered.items() if app is not None and n}
            if served:
                counts, times = self._served(served)
                values[REQUESTS] += [_datum(name, n, dims) for name, n in counts.items() if n]
                timing = DistributionDatum(
                    REQUESTS, "TargetResponseTime", times, dims, when, unit="Seconds"
                )
                distributions.append(timing)
        for lb, count in elb_5xx.items():
            if count:
                lb_dim = dimensions(lb, None)
                values[REQUESTS].append(_datum("HTTPCode_ELB_5XX_Count", count, lb_dim))
        cloudwatch = self.sandbox.cloudwatch()
        for namespace, datums in values.items():
            cloudwatch.put_metric_data(namespace, [{**d, "Timestamp": when} for d in datums])
        cloudwatch.metric_data.extend(distributions)

    def _served(self, served: Mapping[AppModel, int]) -> tuple[dict[str, int], Histogram]:
        """The target 5XX and 2XX counts and the response times of the answered requests."""
        errors = 0
        times = Histogram()
        for app, count in served.items():
            errors += stochastic_round(count * app.error_rate, self.sandbox.rng.random())
            times.merge(response_times(app, count, self.sandbox.rng))
        ok = sum(served.values()) - errors
        return {"HTTPCode_Target_5XX_Count": errors, "HTTPCode_Target_2XX_Count": ok}, times

    # -- alarms

    def _adopt_alarms(self) -> None:
        """New alarms start INSUFFICIENT_DATA, as on AWS (moto starts them OK); an alarm
        that PutMetricAlarm replaced keeps its state ("its state is left unchanged")."""
        alarms: dict[str, Any] = self.sandbox.cloudwatch().alarms
        for name, alarm in alarms.items():
            seen = self._alarms.get(name)
            if seen is None:
                alarm.state_value = INSUFFICIENT_DATA
                alarm.state_reason = "Unchecked: Initial alarm creation"
                alarm.state_updated_timestamp = utc(self.sandbox.clock.now())
            elif seen is not alarm:
                for attribute in ("state_value", "state_reason", "state_reason_data"):
                    setattr(alarm, attribute, getattr(seen, attribute))
                alarm.state_updated_timestamp = seen.state_updated_timestamp
                alarm.history = seen.history
        self._alarms = dict(alarms)

    def evaluate_alarms(self, at: float) -> None:
        """Every metric alarm, as CloudWatch evaluates them each minute."""
        cloudwatch = self.sandbox.cloudwatch()
        for alarm in list(cloudwatch.alarms.values()):
            rule = alarm_rule(alarm)
            if rule is None:
                continue
            points = evaluation_range(cloudwatch.metric_data, alarm, rule, at)
            result = evaluate(rule, points, alarm.state_value)
            if result.state != alarm.state_value:
                alarm.update_state(result.reason, reason_data(alarm, points, at), result.state)
                alarm.state_updated_timestamp = utc(at)


def dimensions(lb: str, group: str | None) -> list[dict[str, str]]:
    """ELB's dimensions of a target group's metrics; of the load balancer's for None."""
    found = [{"Name": "LoadBalancer", "Value": dimension_value(lb)}]
    if group is not None:
        found.append({"Name": "TargetGroup", "Value": dimension_value(group)})
    return found


def _by_group(
    requests: Mapping[tuple[str, str, AppModel | None], int],
) -> dict[tuple[str, str], dict[AppModel | None, int]]:
    grouped: dict[tuple[str, str], dict[AppModel | None, int]] = {}
    for (lb, group, app), count in requests.items():
        grouped.setdefault((lb, group), {})[app] = count
    return grouped


def _gauge(name: str, gauge: Gauge, dims: list[Any]) -> dict[str, Any]:
    if gauge.low == gauge.high:
        return _datum(name, gauge.low, dims)
    # One sample whose Sum is the time-weighted average: Average answers it, Minimum and
    # Maximum the extremes the minute saw.
    stats = {"SampleCount": 1, "Sum": gauge.average, "Minimum": gauge.low, "Maximum": gauge.high}
    return {"MetricName": name, "Unit": "Count", "Dimensions": dims, "StatisticValues": stats}


def _datum(name: str, value: float, dims: list[Any]) -> dict[str, Any]:
    return {"MetricName": name, "Value": float(value), "Unit": "Count", "Dimensions": dims}
