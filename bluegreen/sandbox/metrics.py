"""CloudWatch in the simulated AWS: load-balancer metrics per target group, and alarms
evaluated from them as CloudWatch does (moto stores both and never computes anything).

`install(sandbox)` registers a tick simulator: at each virtual minute boundary crossed
(minute by minute when the clock jumps) it publishes the minute that ended, then evaluates
the alarms, on moto's backends directly (no API calls: not counted, never faulted).

Traffic (AWS/ApplicationELB; dimensions LoadBalancer=app/<name>/<id>, TargetGroup=
targetgroup/<name>/<id>):
- Each listener gets `sandbox.request_rate` requests a second, except `quiet_listeners`
  (test listeners). Its rules and default action share them evenly (we know no paths); a
  forward action splits its share by weight (ForwardConfig, or TargetGroupArn = weight 1).
- Only healthy targets receive requests. A weighted group with none still gets its share
  (ALB fails open, or has no target): RequestCount, plus HTTPCode_ELB_5XX_Count — which
  AWS reports per load balancer only.
- HTTPCode_Target_5XX_Count = requests × error_rate (rounded stochastically on
  `sandbox.rng`), HTTPCode_Target_2XX_Count the rest, TargetResponseTime = latency, of the
  AppModel of the image run by the ECS services / task sets whose loadBalancers name the
  group (averaged over several images; HEALTHY if none).
- Zero counts are not reported, as on AWS ("if there are no requests or no data for a
  metric, the metric is not reported"): a 5XX alarm with the default TreatMissingData
  (missing) sits in INSUFFICIENT_DATA while the app is healthy.
- HealthyHostCount / UnHealthyHostCount: every minute, for every group a load balancer
  forwards to (NLBs too, in AWS/NetworkELB), from `FakeTargetGroup.health_for` — whatever
  the health simulator says.

Alarms (evaluated by alarms.py each minute, after the minute is published): new alarms
start INSUFFICIENT_DATA (moto: OK); one replaced by PutMetricAlarm keeps its
state; SetAlarmState lasts until the next evaluation. Metric-math, percentile, anomaly and
composite alarms are left as moto keeps them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from bluegreen.sandbox.alarms import (
    INSUFFICIENT_DATA,
    alarm_rule,
    evaluate,
    evaluation_range,
    reason_data,
    utc,
)
from bluegreen.sandbox.world import HEALTHY, AppModel, Sandbox

MINUTE = 60
NAMESPACES = {"application": "AWS/ApplicationELB", "network": "AWS/NetworkELB"}


def install(sandbox: Sandbox, quiet_listeners: Collection[str] = ()) -> CloudWatchSimulator:
    """Publish metrics and evaluate alarms as `sandbox.clock` advances. Install it after the
    ECS and health simulators, so each minute sees the targets they have just moved."""
    simulator = CloudWatchSimulator(sandbox, set(quiet_listeners))
    sandbox.on_tick(simulator)
    return simulator


# -- alarm evaluation: pure ------------------------------------------------------------


# -- traffic: pure helpers -------------------------------------------------------------


def forward_weights(actions: Sequence[Any]) -> dict[str, int]:
    """Target group ARN → weight, from the forward action among one rule's actions."""
    for action in actions:
        data: Mapping[str, Any] = getattr(action, "data", action)  # moto's FakeAction
        if data.get("Type") != "forward":
            continue
        groups = (data.get("ForwardConfig") or {}).get("TargetGroups")
        if groups:
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        if data.get("TargetGroupArn"):
            return {data["TargetGroupArn"]: 1}
    return {}


def listener_shares(rules: Sequence[Sequence[Any]]) -> dict[str, float]:
    """The fraction of a listener's requests each target group gets: the rules (each a list
    of actions, the default action included) share evenly, weights split a rule's share."""
    shares: defaultdict[str, float] = defaultdict(float)
    for actions in rules:
        weights = forward_weights(actions)
        total = sum(weights.values())
        for arn, weight in weights.items():
            if total:
                shares[arn] += weight / total / len(rules)
    return dict(shares)


def apportion(total: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Whole requests per key in proportion to `shares` (largest remainder, so they add up)."""
    exact = {key: total * share for key, share in shares.items()}
    whole = {key: math.floor(value) for key, value in exact.items()}
    left = round(sum(exact.values())) - sum(whole.values())
    for key in sorted(exact, key=lambda k: whole[k] - exact[k])[:left]:
        whole[key] += 1
    return whole


def blend(apps: Sequence[AppModel]) -> AppModel:
    """What traffic sees of a group served by several images: their average."""
    if not apps:
        return HEALTHY
    if len(apps) == 1:
        return apps[0]
    return AppModel(
        error_rate=sum(a.error_rate for a in apps) / len(apps),
        latency=sum(a.latency for a in apps) / len(apps),
    )


def dimension_value(arn: str) -> str:
    """An ARN's resource as ELB dimensions name it: `app/web/50dc…` for a load balancer,
    `targetgroup/blue/73e2…` for a target group."""
    return arn.split(":", 5)[-1].removeprefix("loadbalancer/")


# -- the simulator: moto's backends in, metric data and alarm states out ----------------


class CloudWatchSimulator:
    def __init__(self, sandbox: Sandbox, quiet_listeners: set[str]) -> None:
        self.sandbox = sandbox
        self.quiet_listeners = quiet_listeners  # listener ARNs that carry no traffic
        self._done = math.floor(sandbox.clock.now() / MINUTE) * MINUTE
        self._alarms: dict[str, Any] = {}  # name → the moto Alarm object last seen
        self._adopt_alarms()

    def __call__(self, now: float) -> None:
        self._adopt_alarms()
        boundary = math.floor(now / MINUTE) * MINUTE
        while self._done < boundary:
            self._done += MINUTE
            self.publish_minute(self._done - MINUTE)
            self.evaluate_alarms(self._done)

    # -- metrics

    def publish_minute(self, start: float) -> None:
        """The metrics of the minute starting at `start`, as ELB reports them."""
        elb = self.sandbox.elbv2()
        requests = self._requests(elb)
        images = images_by_group(self.sandbox.ecs())
        by_namespace: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for lb in elb.load_balancers.values():
            namespace = NAMESPACES.get(lb.type)
            if namespace is not None:
                datums = self._load_balancer(elb, lb, requests, images)
                by_namespace[namespace] += datums
        when = utc(start)
        for namespace, datums in by_namespace.items():
            for datum in datums:
                datum["Timestamp"] = when
            self.sandbox.cloudwatch().put_metric_data(namespace, datums)

    def _requests(self, elb: Any) -> dict[tuple[str, str], int]:
        """(load balancer ARN, target group ARN) → requests this minute."""
        per_listener = round(self.sandbox.request_rate * MINUTE)
        found: defaultdict[tuple[str, str], int] = defaultdict(int)
        for lb in elb.load_balancers.values():
            for listener in lb.listeners.values():
                if listener.arn in self.quiet_listeners:
                    continue
                rules = [rule.actions for rule in listener.rules.values()]
                for arn, count in apportion(per_listener, listener_shares(rules)).items():
                    found[lb.arn, arn] += count
        return found

    def _load_balancer(
        self,
        elb: Any,
        lb: Any,
        requests: Mapping[tuple[str, str], int],
        images: Mapping[str, list[str]],
    ) -> list[dict[str, Any]]:
        lb_dim = {"Name": "LoadBalancer", "Value": dimension_value(lb.arn)}
        datums: list[dict[str, Any]] = []
        elb_5xx = 0
        for tg in attached_groups(elb, lb):
            dims = [lb_dim, {"Name": "TargetGroup", "Value": dimension_value(tg.arn)}]
            healthy, unhealthy = host_counts(tg, self.sandbox.ec2())
            datums += [
                _datum("HealthyHostCount", healthy, dims),
                _datum("UnHealthyHostCount", unhealthy, dims),
            ]
            count = requests.get((lb.arn, tg.arn), 0)
            if lb.type != "application" or count == 0:
                continue
            if healthy == 0:  # fails open to unhealthy targets, or has none: the ELB errs
                elb_5xx += count
                datums.append(_datum("RequestCount", count, dims))
                continue
            app = blend([self.sandbox.app(image) for image in images.get(tg.arn, [])])
            datums += self._served(count, app, dims)
        if elb_5xx:
            datums.append(_datum("HTTPCode_ELB_5XX_Count", elb_5xx, [lb_dim]))
        return datums

    def _served(self, count: int, app: AppModel, dims: list[Any]) -> list[dict[str, Any]]:
        errors = stochastic_round(count * app.error_rate, self.sandbox.rng.random())
        datums = [_datum("RequestCount", count, dims)]
        if errors:
            datums.append(_datum("HTTPCode_Target_5XX_Count", errors, dims))
        if count - errors:
            datums.append(_datum("HTTPCode_Target_2XX_Count", count - errors, dims))
        # A statistic set: Average is the latency, SampleCount the requests, as on AWS.
        low = high = app.latency
        stats = {"SampleCount": count, "Sum": low * count, "Minimum": low, "Maximum": high}
        timing = {"MetricName": "TargetResponseTime", "Unit": "Seconds", "Dimensions": dims}
        datums.append({**timing, "StatisticValues": stats})
        return datums

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


# -- reading moto's models -------------------------------------------------------------


def attached_groups(elb: Any, lb: Any) -> list[Any]:
    """The target groups a load balancer's listeners forward to, weight 0 included."""
    arns = {
        arn
        for listener in lb.listeners.values()
        for rule in listener.rules.values()
        for arn in forward_weights(rule.actions)
    }
    arns |= {arn for arn, tg in elb.target_groups.items() if lb.arn in tg.load_balancer_arns}
    return [elb.target_groups[arn] for arn in sorted(arns) if arn in elb.target_groups]


def host_counts(tg: Any, ec2: Any) -> tuple[int, int]:
    """(healthy, unhealthy) targets; initial, draining and unused ones are neither."""
    states = [tg.health_for(target, ec2).status for target in list(tg.targets.values())]
    return states.count("healthy"), states.count("unhealthy")


def images_by_group(ecs: Any) -> dict[str, list[str]]:
    """Target group ARN → the images of the ECS services and task sets that serve it."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    for service in ecs.services.values():
        if service.status != "ACTIVE":
            continue
        owners = [(service.task_definition, service.load_balancers)]
        owners += [(ts.task_definition, ts.load_balancers) for ts in service.task_sets]
        for task_definition, load_balancers in owners:
            for entry in load_balancers:
                image = container_image(ecs, task_definition, entry.get("containerName"))
                arn = entry.get("targetGroupArn")
                if arn and image and image not in found[arn]:
                    found[arn].append(image)
    return dict(found)


def container_image(ecs: Any, task_definition: str | None, container: str | None) -> str | None:
    if not task_definition:
        return None
    try:
        definitions = ecs.describe_task_definition(task_definition).container_definitions
    except Exception:  # deregistered or never registered: nothing serves from it
        return None
    named = [c for c in definitions if c.get("name") == container] or definitions[:1]
    return named[0].get("image") if named else None


def stochastic_round(value: float, draw: float) -> int:
    """floor or ceil of `value`, ceil with probability of its fraction: exact on average."""
    whole = math.floor(value)
    return whole + (1 if draw < value - whole else 0)


def _datum(name: str, value: float, dims: list[Any]) -> dict[str, Any]:
    return {"MetricName": name, "Value": float(value), "Unit": "Count", "Dimensions": dims}
