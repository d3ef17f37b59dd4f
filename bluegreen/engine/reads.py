"""One read of each resource for a preflight: `verify`'s checks and `resolve()` look at the
same target groups, listeners, services and task definitions; read through `once(cloud)`
they are asked of AWS once. For a preflight only — a moment, not a deployment: later
reads must see AWS change."""

from __future__ import annotations

from typing import Any, cast

from bluegreen.ports import Cloud

# The reads worth sharing, per part of the cloud (everything else passes through).
_READS = {
    "elb": frozenset(
        {"target_groups", "target_group_attributes", "load_balancer", "route", "routes"}
    ),
    "ecs": frozenset({"service", "task_definition", "task_sets"}),
    "alarms": frozenset({"alarm_states"}),
    "network": frozenset({"security_groups", "vpc_cidr_blocks"}),
    "autoscaling": frozenset(),  # read at preflight to check it, again when held: as it is then
}


class _Remembering:
    def __init__(self, inner: Any, reads: frozenset[str]) -> None:
        self._inner = inner
        self._reads = reads
        self._answers: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name not in self._reads:
            return method

        def read(*args: Any, **kwargs: Any) -> Any:
            key = repr((name, args, sorted(kwargs.items())))
            if key not in self._answers:  # an error is not remembered: it is raised again
                self._answers[key] = method(*args, **kwargs)
            return self._answers[key]

        return read


class _OnceCloud:
    def __init__(self, cloud: Cloud) -> None:
        for part, reads in _READS.items():
            setattr(self, part, _Remembering(getattr(cloud, part), reads))
        self.functions = cloud.functions
        self.metrics = cloud.metrics  # a moment's read of metrics is never shared


def once(cloud: Cloud) -> Cloud:
    """`cloud` with each read answered from AWS once."""
    return cast(Cloud, _OnceCloud(cloud))
