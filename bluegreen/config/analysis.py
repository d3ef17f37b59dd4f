"""The `[analysis]` table: metric checks that judge green by its traffic while it bakes
(and its `[[analysis.http]]` smoke checks, whose model is smoke.py's).

    [analysis]
    interval = "1m"             # one evaluation per CloudWatch minute (whole minutes only)
    delay = "1m"                # how late a minute's metrics are complete
    lookback = "10m"            # the latest minutes judged ("all": since green's first traffic)
    failure_limit = 1           # consecutive failed evaluations that roll back
    on_inconclusive = "extend"  # extend | pause | fail | continue (at the end of a bake)
    inconclusive_limit = 10     # extensions of one interval before pausing (extend only)
    [[analysis.metrics]]
    name = "error_rate"         # a built-in (error_rate, latency, request_count) or a label
    max = 0.01                  # absolute bounds on green: max and/or min
    max_increase = "25%"        # green against blue: max_increase and/or max_decrease
    [[analysis.metrics]]
    name = "checkout_errors"
    query = { namespace = "MyApp", metric = "Errors", statistic = "Sum",
              dimensions = { TargetGroup = "{target_group}" } }

Rules checked here, each refused with the key and the fix: a check judges something (a
bound or a tolerance); a custom metric has exactly one of `query` or `expression` (with its
`queries`, whose ids the expression uses); `request_count` has bounds only (the colours
take different shares of traffic, so their counts are not comparable); the keys of a
comparison (`confidence`, `min_samples`, `min_requests`) appear only where they apply;
`min_samples` must be able to reach `confidence` at all. Placeholders in a query stand for
one colour's resources: {target_group} {load_balancer} {service} {task_set} {cluster}
{colour}; `placeholder_problems` checks, once the service's mode is known, that a query
compared with blue names something that differs between the colours.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bluegreen.config.fields import Duration, Percent, StrictModel, parse_duration, parse_percent
from bluegreen.config.metric_query import (
    MetricQueryConfig,
    expression_ids,
    placeholders_in,
)
from bluegreen.config.smoke import MAX_HTTP_CHECKS, HttpCheckConfig

BUILTINS = ("error_rate", "latency", "request_count")
# What differs between blue and green whatever the mode ({service} only for a pair).
COLOUR_PLACEHOLDERS = frozenset({"target_group", "task_set", "colour"})
MAX_METRICS = 20
MAX_QUERIES = 10  # per expression: with MAX_METRICS, both colours stay within one call

_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_LATENCY_STATISTIC = re.compile(r"p\d{1,2}(\.\d{1,2})?|average")


class MetricCheckConfig(StrictModel):
    """One `[[analysis.metrics]]` entry: a built-in or a custom metric, and how to judge it."""

    name: str
    builtin: Literal["error_rate", "latency", "request_count"] | None = None
    statistic: str | None = None  # latency only: pNN, pNN.N or average
    query: MetricQueryConfig | None = None
    expression: str | None = Field(default=None, min_length=1, max_length=1024)
    queries: list[MetricQueryConfig] = Field(default_factory=list, max_length=MAX_QUERIES)
    max: float | None = None
    min: float | None = None
    compare: Literal["blue"] | None = None
    max_increase: Percent | None = None
    max_decrease: Percent | None = None
    confidence: float = Field(default=0.98, gt=0.5, lt=1.0)
    min_requests: int = Field(default=200, ge=1, le=10**9)
    min_samples: int = Field(default=5, ge=2, le=1000)

    @field_validator("name")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _LABEL.fullmatch(value):
            raise ValueError(
                "a metric's name is a letter, then letters, digits, _ . or - (at most 64)"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _bounds_in_their_units(cls, data: Any) -> Any:
        """`max`/`min` of error_rate may be "1%"; of latency, a duration such as "500ms"."""
        if not isinstance(data, dict):
            return data
        kind = data.get("builtin") or data.get("name")
        converted = dict(data)
        for key in ("max", "min"):
            value = data.get(key)
            if isinstance(value, str) and kind == "error_rate":
                converted[key] = parse_percent(value)
            elif isinstance(value, str) and kind == "latency":
                converted[key] = parse_duration(value)
        return converted

    @property
    def kind(self) -> str:
        """error_rate | latency | request_count | custom."""
        if self.builtin:
            return self.builtin
        if self.query is None and self.expression is None and self.name in BUILTINS:
            return self.name
        return "custom"

    @property
    def request_based(self) -> bool:
        """Judged on its requests (each one a sample), not on per-minute values."""
        return self.kind == "error_rate"

    @property
    def compares(self) -> bool:
        return self.max_increase is not None or self.max_decrease is not None

    @property
    def latency_statistic(self) -> str:
        """CloudWatch's spelling of latency's statistic."""
        chosen = self.statistic or "p99"
        return "Average" if chosen == "average" else chosen

    @property
    def label(self) -> str:
        """How verdicts name the check: "latency p99", "error_rate", "checkout_errors"."""
        if self.kind == "latency":
            shown = self.statistic or "p99"
            return f"{self.name} {shown}" if self.name == "latency" else f"{self.name} ({shown})"
        return self.name

    @model_validator(mode="after")
    def _coherent(self) -> MetricCheckConfig:
        where = f'metric "{self.name}"'
        self._check_source(where)
        self._check_judgement(where)
        self._check_applicable_keys(where)
        return self

    def _check_source(self, where: str) -> None:
        if self.builtin and (self.query or self.expression):
            raise ValueError(f"{where}: builtin = {self.builtin!r} takes no query or expression")
        if not self.builtin and self.name in BUILTINS and (self.query or self.expression):
            raise ValueError(
                f"{where} is a built-in: give the custom metric another name, or drop "
                "query/expression"
            )
        if self.kind == "custom":
            self._check_custom_source(where)
        elif self.queries:
            raise ValueError(f"{where}: queries go with expression, on a custom metric")
        if self.statistic is not None and self.kind != "latency":
            raise ValueError(
                f"{where}: statistic is latency's (a custom query has its own statistic)"
            )
        if self.statistic is not None and not _LATENCY_STATISTIC.fullmatch(self.statistic):
            raise ValueError(f'{where}: statistic is "pNN", "pNN.N" (e.g. "p99") or "average"')

    def _check_custom_source(self, where: str) -> None:
        builtins = ", ".join(BUILTINS)
        if self.query is None and self.expression is None:
            raise ValueError(
                f"{where} is not a built-in ({builtins}): give it query = {{ namespace, "
                "metric, dimensions, statistic }, or expression with queries, or "
                'builtin = "…"'
            )
        if self.query is not None and self.expression is not None:
            raise ValueError(f"{where}: give query or expression (with queries), not both")
        if self.expression is None:
            if self.queries:
                raise ValueError(f"{where}: queries are the inputs of an expression: add one")
            return
        ids = [q.id for q in self.queries]
        if not ids or None in ids:
            raise ValueError(f'{where}: expression needs queries, each with an id (e.g. "m1")')
        if len(set(ids)) != len(ids):
            raise ValueError(f"{where}: the ids of queries must differ (got {ids})")
        undefined = [i for i in expression_ids(self.expression) if i not in ids]
        if undefined:
            raise ValueError(
                f"{where}: expression uses {', '.join(undefined)}, which no query defines "
                f"(ids: {', '.join(str(i) for i in ids)})"
            )

    def _check_judgement(self, where: str) -> None:
        if self.max is None and self.min is None and not self.compares:
            if self.compare:
                raise ValueError(
                    f'{where}: compare = "blue" needs the tolerated change: max_increase '
                    'and/or max_decrease, e.g. max_increase = "25%"'
                )
            raise ValueError(
                f"{where} judges nothing: give max and/or min (bounds on green) and/or "
                'max_increase / max_decrease (green against blue, e.g. "25%")'
            )
        if self.max is not None and self.min is not None and self.max < self.min:
            raise ValueError(f"{where}: max ({self.max:g}) is below min ({self.min:g})")
        for key in ("max", "min"):
            value = getattr(self, key)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{where}: {key} is a finite number")
            if value is not None and self.kind == "error_rate" and not 0 <= value <= 1:
                raise ValueError(f'{where}: {key} is a rate between 0 and 1 (or "1%")')
        if self.kind == "request_count" and (self.compares or self.compare):
            raise ValueError(
                f"{where}: request_count cannot be compared with blue (the colours take "
                "different shares of traffic): give max and/or min, per minute"
            )
        if self.compare and not self.compares:
            raise ValueError(
                f'{where}: compare = "blue" needs max_increase and/or max_decrease, '
                'e.g. max_increase = "25%"'
            )
        if self.max_decrease is not None and self.max_decrease > 1:
            raise ValueError(f"{where}: max_decrease is at most 100%")

    def _check_applicable_keys(self, where: str) -> None:
        given = self.model_fields_set
        if not self.compares:
            stray = sorted(given & {"confidence", "min_samples"})
            if stray:
                raise ValueError(
                    f"{where}: {', '.join(stray)} apply to a comparison with blue "
                    '(max_increase / max_decrease): remove them, or add e.g. max_increase = "25%"'
                )
        if not self.request_based and "min_requests" in given:
            raise ValueError(
                f"{where}: min_requests applies to error_rate (judged request by request); "
                "per-minute metrics use min_samples"
            )
        if self.request_based and "min_samples" in given:
            raise ValueError(
                f"{where}: min_samples applies to per-minute metrics; error_rate is judged "
                "request by request and uses min_requests"
            )
        if self.compares and not self.request_based:
            smallest_p = 1 / math.comb(2 * self.min_samples, self.min_samples)
            if smallest_p > 1 - self.confidence:
                raise ValueError(
                    f"{where}: min_samples = {self.min_samples} can never reach confidence "
                    f"{self.confidence:g} (the smallest p-value of {self.min_samples} minutes "
                    f"against {self.min_samples} is {smallest_p:.3g}): raise min_samples or "
                    "lower confidence"
                )

    def all_queries(self) -> list[MetricQueryConfig]:
        return [self.query] if self.query else list(self.queries)


class AnalysisConfig(StrictModel):
    interval: Duration = 60.0
    delay: Duration = 60.0
    # Each evaluation judges the latest `lookback` of green's traffic: a regression that
    # begins late in a long bake is not diluted by the good minutes before it.
    lookback: Literal["all"] | Duration = 600.0
    failure_limit: int = Field(default=1, ge=1, le=100)
    on_inconclusive: Literal["extend", "pause", "fail", "continue"] = "extend"
    inconclusive_limit: int = Field(default=10, ge=0, le=1000)
    metrics: list[MetricCheckConfig] = Field(default_factory=list, max_length=MAX_METRICS)
    http: list[HttpCheckConfig] = Field(default_factory=list, max_length=MAX_HTTP_CHECKS)

    @model_validator(mode="after")
    def _coherent(self) -> AnalysisConfig:
        if not self.metrics and not self.http:
            raise ValueError(
                "[analysis] judges nothing: add [[analysis.metrics]] (judged while green "
                "bakes) and/or [[analysis.http]] (smoke checks before production moves)"
            )
        if self.interval < 60 or self.interval % 60 or self.interval > 3600:
            raise ValueError(
                f"interval ({self.interval:g}s) is whole minutes from 1m to 1h: "
                "CloudWatch's load-balancer metrics come per minute"
            )
        if self.delay > 900:
            raise ValueError(f"delay ({self.delay:g}s) is at most 15m")
        self._check_lookback()
        names = [m.name for m in self.metrics]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                f"metrics: the name {twice[0]!r} is used twice: give each check its "
                'own name (a second latency check: name = "latency_p50", builtin = "latency")'
            )
        if self.on_inconclusive != "extend" and "inconclusive_limit" in self.model_fields_set:
            raise ValueError(
                f'inconclusive_limit applies to on_inconclusive = "extend" only '
                f'(it is "{self.on_inconclusive}")'
            )
        return self

    @property
    def lookback_seconds(self) -> float | None:
        """The latest seconds of traffic each evaluation judges; None: all of it."""
        return None if self.lookback == "all" else float(self.lookback)

    def _check_lookback(self) -> None:
        seconds = self.lookback_seconds
        if seconds is None:
            return
        if seconds < self.interval or seconds % 60:
            raise ValueError(
                f"lookback ({seconds:g}s) is whole minutes, at least the interval "
                f'({self.interval:g}s), or "all"'
            )
        for check in self.metrics:
            if check.compares and not check.request_based and check.min_samples * 60 > seconds:
                raise ValueError(
                    f'lookback ({seconds:g}s) holds fewer minutes than metric "{check.name}" '
                    f"needs (min_samples = {check.min_samples}): it could never conclude; "
                    "lengthen lookback or lower min_samples"
                )


def placeholder_problems(analysis: AnalysisConfig, mode: str) -> list[str]:
    """What is wrong with the checks' placeholders for a service in `mode`: a query compared
    with blue must name something that differs between the colours, and {task_set} exists
    only in task-sets mode."""
    problems = []
    differs = COLOUR_PLACEHOLDERS | ({"service"} if mode == "service-pair" else set())
    for number, check in enumerate(analysis.metrics):
        used = {p for q in check.all_queries() for t in q.texts() for p in placeholders_in(t)}
        where = f'analysis.metrics.{number}: metric "{check.name}"'
        if "task_set" in used and mode != "task-sets":
            problems.append(f'{where}: {{task_set}} exists in mode "task-sets" only')
        if check.compares and check.kind == "custom" and not used & differs:
            shown = ", ".join("{" + p + "}" for p in sorted(differs))
            problems.append(
                f"{where} is compared with blue, but its query is the same for both colours: "
                f"name the colour's resources with {shown}"
            )
    return problems
