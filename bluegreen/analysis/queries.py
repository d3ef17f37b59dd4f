"""Which CloudWatch queries an evaluation reads, and the per-colour data judged from them.

`plan_queries` turns the checks and the two colours into ONE list of queries (at most
GetMetricData's 500) with, for each check, colour and part (requests, errors, values), the
ids that answer it; `QueryPlan.data` turns the answer back into a check's CheckData.

Built-in checks read the Application Load Balancer's per-target-group metrics
(AWS/ApplicationELB, dimensions LoadBalancer and TargetGroup): error_rate sums
HTTPCode_Target_5XX_Count and RequestCount, request_count RequestCount, latency reads
TargetResponseTime at its statistic. When the production routes span several load
balancers, counts are summed over them and a per-minute value is the highest of them (the
worst load balancer each minute). A custom query has its placeholders filled per colour;
an expression's queries are renamed per check and colour (their ids must be unique in a
request) and only the expression's result is returned. Identical metric reads are made
once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bluegreen.analysis.series import CheckData, ColourData
from bluegreen.config import DeploymentConfig, MetricCheckConfig, MetricQueryConfig
from bluegreen.config.metric_query import rename_expression_ids
from bluegreen.errors import ConfigError
from bluegreen.model import MAX_METRIC_QUERIES, MetricQuery, MetricSeries, MetricStat

ALB = "AWS/ApplicationELB"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def dimension_of(arn: str) -> str:
    """CloudWatch's dimension value for a load balancer or target group ARN:
    …:loadbalancer/app/web/50dc → app/web/50dc; …:targetgroup/web/73e2 → targetgroup/web/73e2."""
    resource = arn.split(":", 5)[-1]
    return resource.removeprefix("loadbalancer/")


@dataclass(frozen=True)
class Colour:
    """What one colour's placeholders stand for. ARNs, names as AWS shows them."""

    name: str  # blue | green
    target_group: str
    load_balancers: tuple[str, ...]  # the Application Load Balancers of the production routes
    cluster: str
    service: str
    task_set: str = ""

    def fill(self, text: str) -> str:
        values = {
            "target_group": dimension_of(self.target_group),
            "load_balancer": dimension_of(self.load_balancers[0]) if self.load_balancers else "",
            "service": self.service,
            "task_set": self.task_set,
            "cluster": self.cluster,
            "colour": self.name,
        }
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


Part = tuple[str, str, str]  # (check name, colour name, requests | errors | values)


@dataclass(frozen=True)
class QueryPlan:
    queries: tuple[MetricQuery, ...]
    inputs: Mapping[Part, tuple[str, ...]]

    def data(self, check: MetricCheckConfig, answer: Mapping[str, MetricSeries]) -> CheckData:
        def colour(name: str) -> ColourData:
            def part(kind: str, combine: Callable[[float, float], float]) -> dict[float, float]:
                merged: dict[float, float] = {}
                for key in self.inputs.get((check.name, name, kind), ()):
                    series = answer.get(key)
                    for when, value in series.points if series else ():
                        merged[when] = combine(merged[when], value) if when in merged else value
                return merged

            return ColourData(
                requests=part("requests", lambda a, b: a + b),
                errors=part("errors", lambda a, b: a + b),
                values=part("values", max),
            )

        return CheckData(green=colour("green"), blue=colour("blue"))


def plan_queries(checks: list[MetricCheckConfig], blue: Colour, green: Colour) -> QueryPlan:
    builder = _Builder()
    for number, check in enumerate(checks):
        for colour in (blue, green):
            builder.add(number, check, colour)
    if len(builder.queries) > MAX_METRIC_QUERIES:
        raise ConfigError(
            f"the analysis needs {len(builder.queries)} CloudWatch queries per evaluation, "
            f"more than one GetMetricData request takes ({MAX_METRIC_QUERIES})",
            hint="judge fewer metrics, or give expressions fewer queries",
        )
    return QueryPlan(tuple(builder.queries), {k: tuple(v) for k, v in builder.inputs.items()})


class _Builder:
    def __init__(self) -> None:
        self.queries: list[MetricQuery] = []
        self.inputs: defaultdict[Part, list[str]] = defaultdict(list)
        self._ids: dict[MetricStat, str] = {}

    def add(self, number: int, check: MetricCheckConfig, colour: Colour) -> None:
        def to(kind: str, ids: list[str]) -> None:
            self.inputs[(check.name, colour.name, kind)] += ids

        if check.kind == "custom":
            to("values", [self._custom(number, check, colour)])
            return
        if not colour.load_balancers:
            raise ConfigError(
                f'metric "{check.name}" reads Application Load Balancer metrics ({ALB}), '
                "and no production route is on an Application Load Balancer",
                hint="judge a Network Load Balancer's service with a custom query",
            )
        if check.kind in ("error_rate", "request_count"):
            to("requests", self._alb(colour, "RequestCount", "Sum"))
        if check.kind == "error_rate":
            to("errors", self._alb(colour, "HTTPCode_Target_5XX_Count", "Sum"))
        if check.kind == "latency":
            to("values", self._alb(colour, "TargetResponseTime", check.latency_statistic))

    def _alb(self, colour: Colour, metric: str, statistic: str) -> list[str]:
        target_group = dimension_of(colour.target_group)
        return [
            self._stat(
                MetricStat(
                    ALB,
                    metric,
                    (("LoadBalancer", dimension_of(lb)), ("TargetGroup", target_group)),
                    statistic,
                )
            )
            for lb in colour.load_balancers
        ]

    def _stat(self, stat: MetricStat, *, key: str | None = None, returned: bool = True) -> str:
        if key is None and stat in self._ids:
            return self._ids[stat]
        query_id = key or f"q{len(self.queries)}"
        self.queries.append(MetricQuery(query_id, stat=stat, returned=returned))
        if key is None:
            self._ids[stat] = query_id
        return query_id

    def _custom(self, number: int, check: MetricCheckConfig, colour: Colour) -> str:
        if check.query is not None:
            return self._stat(_filled(check.query, colour))
        prefix = f"c{number}{colour.name[0]}_"
        for query in check.queries:
            self._stat(_filled(query, colour), key=prefix + (query.id or ""), returned=False)
        expression = rename_expression_ids(check.expression or "", lambda i: prefix + i)
        query_id = f"e{len(self.queries)}"
        self.queries.append(MetricQuery(query_id, expression=expression))
        return query_id


def _filled(query: MetricQueryConfig, colour: Colour) -> MetricStat:
    return MetricStat(
        colour.fill(query.namespace),
        colour.fill(query.metric),
        tuple((colour.fill(n), colour.fill(v)) for n, v in query.dimensions.items()),
        query.statistic,
    )


def colour_of(
    config: DeploymentConfig,
    name: str,
    load_balancers: Sequence[str],
    target_group: str | None,
    service: str | None = None,
    task_set: str | None = None,
) -> Colour:
    """What one colour's placeholders stand for: its target group, the production routes'
    Application Load Balancers, the cluster, its service (the configured one when not
    given) and its task set."""
    return Colour(
        name,
        target_group or "",
        tuple(load_balancers),
        _name(config.service.cluster),
        _name(service or config.service.name or ""),
        task_set or "",
    )


def _name(name_or_arn: str) -> str:
    """A cluster's or service's name, from its name or its ARN."""
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
