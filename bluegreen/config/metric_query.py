"""One CloudWatch metric query of a custom check (`query`, or one of an expression's
`queries`), and the text rules its parts follow: placeholders that stand for one colour's
resources — {target_group} {load_balancer} {service} {task_set} {cluster} {colour} — and
the query ids a metric-math expression uses (lower case; functions are upper case)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from pydantic import Field, field_validator

from bluegreen.config.fields import StrictModel

PLACEHOLDERS = ("target_group", "load_balancer", "service", "task_set", "cluster", "colour")

_QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]{0,31}")
_STATISTIC = re.compile(
    r"SampleCount|Average|Sum|Minimum|Maximum|IQM|(p|tm|wm|tc|ts)(\d{1,2}(\.\d{1,2})?|100)"
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Metric-math functions are upper case and query ids start lower case: in an expression,
# a word starting lower case (outside quotes) is the id of a query.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_ID_IN_EXPRESSION = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-zA-Z0-9_]*")


def placeholders_in(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


def expression_ids(expression: str) -> list[str]:
    """The query ids an expression uses, in order of first use."""
    return list(dict.fromkeys(_ID_IN_EXPRESSION.findall(_QUOTED.sub("", expression))))


def rename_expression_ids(expression: str, rename: Callable[[str], str]) -> str:
    """The expression with every query id renamed; quoted text is left as it is."""

    def renamed(text: str) -> str:
        return _ID_IN_EXPRESSION.sub(lambda m: rename(m.group(0)), text)

    parts, last = [], 0
    for quoted in _QUOTED.finditer(expression):
        parts += [renamed(expression[last : quoted.start()]), quoted.group(0)]
        last = quoted.end()
    return "".join([*parts, renamed(expression[last:])])


def _text(value: str, what: str, limit: int) -> str:
    if not 1 <= len(value) <= limit or _CONTROL.search(value):
        raise ValueError(f"{what} is 1–{limit} characters, with no control characters")
    unknown = [p for p in placeholders_in(value) if p not in PLACEHOLDERS]
    if unknown or "{" in _PLACEHOLDER.sub("", value) or "}" in _PLACEHOLDER.sub("", value):
        shown = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        raise ValueError(
            f"{what} {value!r}: the placeholders are {shown}"
            + (f" (not {{{unknown[0]}}})" if unknown else "")
        )
    return value


class MetricQueryConfig(StrictModel):
    """One CloudWatch metric and statistic, per minute; `id` names it in an expression."""

    id: str | None = None
    namespace: str
    metric: str
    dimensions: dict[str, str] = Field(default_factory=dict, max_length=30)
    statistic: str

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not _QUERY_ID.fullmatch(value):
            raise ValueError(
                "an id starts with a lower-case letter, then letters, digits or _ (at most "
                '32), e.g. "m1"'
            )
        return value

    @field_validator("namespace", "metric")
    @classmethod
    def _names(cls, value: str) -> str:
        return _text(value, "a namespace or metric name", 255)

    @field_validator("dimensions")
    @classmethod
    def _dimensions(cls, value: dict[str, str]) -> dict[str, str]:
        for name, dimension in value.items():
            _text(name, "a dimension name", 255)
            _text(dimension, "a dimension value", 1024)
        return value

    @field_validator("statistic")
    @classmethod
    def _statistic(cls, value: str) -> str:
        if not _STATISTIC.fullmatch(value):
            raise ValueError(
                "a statistic is Sum, Average, Minimum, Maximum, SampleCount or a percentile "
                'such as "p99" or "p99.9"'
            )
        return value

    def texts(self) -> Iterator[str]:
        """Every text that may hold a placeholder."""
        yield self.namespace
        yield self.metric
        for name, value in self.dimensions.items():
            yield name
            yield value
