"""Traffic accounting for the simulated CloudWatch: which requests each minute carried, from
the load balancers' state in force during it. Pure: no moto, no clock.

A `Snapshot` is what the load balancers do at one moment: each `Flow` (requests a second
one load balancer sends one target group, and the apps answering them) and each group's
`Hosts` (healthy and unhealthy targets). The `Ledger` is told, tick after tick, that a
snapshot held from the previous tick until now (nothing changes between two ticks: API
calls are made at a tick's time, and simulators move the world only on ticks), and spreads
that time over the minutes it covers: the minute's requests add up as rate × seconds, and
its host counts as time-weighted averages. A minute is complete — `close` hands it out —
once the clock has passed its end.

So a weight change 30 s into a minute gives that minute half its requests at the old
weights, as CloudWatch would count them; the precision is the spacing of the ticks.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bluegreen.sandbox.world import AppModel

MINUTE = 60.0
Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Flow:
    """Requests a second a load balancer sends a target group, and who answers them: apps
    (each with its share of the group's requests; the shares add up to 1), or nobody —
    no healthy target, so the load balancer answers the requests itself with a 5XX."""

    lb: str  # load balancer ARN
    group: str  # target group ARN
    rate: float
    apps: tuple[tuple[AppModel, float], ...] = ()


@dataclass(frozen=True)
class Hosts:
    namespace: str  # AWS/ApplicationELB or AWS/NetworkELB
    lb: str
    group: str
    healthy: int
    unhealthy: int


@dataclass(frozen=True)
class Snapshot:
    flows: tuple[Flow, ...] = ()
    hosts: tuple[Hosts, ...] = ()


@dataclass
class Gauge:
    """A count over part of a minute: its time-weighted average, minimum and maximum."""

    seconds: float = 0.0
    area: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    def add(self, value: float, seconds: float) -> None:
        self.seconds += seconds
        self.area += value * seconds
        self.low, self.high = min(self.low, value), max(self.high, value)

    @property
    def average(self) -> float:
        return self.area / self.seconds if self.seconds else 0.0


@dataclass
class Minute:
    """What one minute carried. `requests`: (load balancer, group, app) → requests, not
    rounded; app None for the requests the load balancer answered itself."""

    start: float
    requests: defaultdict[tuple[str, str, AppModel | None], float] = field(
        default_factory=lambda: defaultdict(float)
    )
    healthy: dict[tuple[str, str, str], Gauge] = field(default_factory=dict)
    unhealthy: dict[tuple[str, str, str], Gauge] = field(default_factory=dict)

    def add(self, snapshot: Snapshot, seconds: float) -> None:
        for flow in snapshot.flows:
            requests = flow.rate * seconds
            if not flow.apps:
                self.requests[flow.lb, flow.group, None] += requests
            for app, share in flow.apps:
                self.requests[flow.lb, flow.group, app] += requests * share
        for hosts in snapshot.hosts:
            key = (hosts.namespace, hosts.lb, hosts.group)
            self.healthy.setdefault(key, Gauge()).add(hosts.healthy, seconds)
            self.unhealthy.setdefault(key, Gauge()).add(hosts.unhealthy, seconds)


class Ledger:
    """Minutes being filled, from `since` on (see the module docstring)."""

    def __init__(self, since: float) -> None:
        self.since = since
        self._open: dict[float, Minute] = {}

    def record(self, snapshot: Snapshot, until: float) -> None:
        """`snapshot` held from the last record (or the start) until `until`."""
        moment = self.since
        while moment < until:
            start = math.floor(moment / MINUTE) * MINUTE
            end = min(until, start + MINUTE)
            minute = self._open.setdefault(start, Minute(start))
            minute.add(snapshot, end - moment)
            moment = end
        self.since = max(self.since, until)

    def close(self) -> list[Minute]:
        """The minutes that ended by now, oldest first; they leave the ledger."""
        done = sorted(start for start in self._open if start + MINUTE <= self.since)
        return [self._open.pop(start) for start in done]


# -- shares and whole requests ---------------------------------------------------------


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


def apportion(total: int, shares: Mapping[Key, float]) -> dict[Key, int]:
    """Whole requests per key in proportion to `shares` (largest remainder, so they add up)."""
    exact = {key: total * share for key, share in shares.items()}
    whole = {key: math.floor(value) for key, value in exact.items()}
    left = round(sum(exact.values())) - sum(whole.values())
    for key in sorted(exact, key=lambda k: whole[k] - exact[k])[:left]:
        whole[key] += 1
    return whole


def whole_requests(exact: Mapping[Key, float]) -> dict[Key, int]:
    """`exact` request counts made whole, their total rounded and kept."""
    total = sum(exact.values())
    if total <= 0:
        return {key: 0 for key in exact}
    return apportion(round(total), {key: value / total for key, value in exact.items()})


def stochastic_round(value: float, draw: float) -> int:
    """floor or ceil of `value`, ceil with probability of its fraction: exact on average."""
    whole = math.floor(value)
    return whole + (1 if draw < value - whole else 0)
