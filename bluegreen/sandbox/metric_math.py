"""Metric-math arithmetic for the simulated CloudWatch's GetMetricData: `+ - * / ^`, unary
minus, parentheses, numbers and the ids of other queries (`100*errors/requests`,
`(m1+m2)/2`). Functions (FILL, SUM, IF, METRICS()…) are refused with a message saying so.

Evaluated per timestamp as the CloudWatch user guide ("Metric math syntax and functions",
basic arithmetic) says: over every timestamp at which any series the expression names has
a point, a series without one there counts as 0, and a point whose computation divides by
zero is dropped (we drop one whose result is not a real number too, e.g. (-1)^0.5). An
expression naming no series has no time series to give: refused, as "the final result of
any math expression must be a single time series".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

Series = dict[datetime, float]

TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<id>[a-z][A-Za-z0-9_]*)|(?P<name>[A-Z_][A-Za-z0-9_]*)|(?P<op>[-+*/^()]))"
)


class ExpressionError(ValueError):
    """An expression this CloudWatch cannot evaluate; the message says why."""


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Ref:
    id: str


@dataclass(frozen=True)
class Negative:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Number | Ref | Negative | Binary


def parse(text: str) -> Node:
    """The expression's tree; ExpressionError when it is not arithmetic we know."""
    parser = _Parser(_tokens(text), text)
    node = parser.sum()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r} in {text!r}")
    return node


def references(node: Node) -> set[str]:
    """The query ids an expression reads."""
    if isinstance(node, Ref):
        return {node.id}
    if isinstance(node, Negative):
        return references(node.operand)
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    return set()


def evaluate(node: Node, series: Mapping[str, Series]) -> Series:
    """The expression's time series, from the series of the ids it reads."""
    named = sorted(references(node))
    if not named:
        raise ExpressionError("it names no query: its result must be a time series")
    moments = sorted({moment for name in named for moment in series[name]})
    result: Series = {}
    for moment in moments:
        value = _value(node, {name: series[name].get(moment, 0.0) for name in named})
        if value is not None:
            result[moment] = value
    return result


def _value(node: Node, point: Mapping[str, float]) -> float | None:
    """One timestamp's value; None when it is dropped (division by zero, not real)."""
    try:
        value = _compute(node, point)
    except (ZeroDivisionError, OverflowError):
        return None
    if isinstance(value, complex) or not math.isfinite(value):
        return None
    return value


def _compute(node: Node, point: Mapping[str, float]) -> float:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Ref):
        return point[node.id]
    if isinstance(node, Negative):
        return -_compute(node.operand, point)
    left, right = _compute(node.left, point), _compute(node.right, point)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if node.op == "/":
        return left / right
    result: float = left**right  # complex for a negative base and a fractional power
    return result


def _tokens(text: str) -> list[str]:
    found: list[str] = []
    position = 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"unexpected {text[position:].strip()[:1]!r} in {text!r}")
        if match.group("name"):
            raise ExpressionError(
                f"{match.group('name')} is not supported here: the sandbox's metric math "
                "knows + - * / ^, parentheses, numbers and the ids of other queries"
            )
        found.append(match.group(match.lastgroup or "op"))
        position = match.end()
    return found


class _Parser:
    """Recursive descent: sum := product (+|- product)*; product := unary (*|/ unary)*;
    unary := - unary | power; power := atom (^ unary)?; atom := number | id | ( sum )."""

    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens, self.text, self.position = tokens, text, 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError(f"{self.text!r} ends too soon")
        self.position += 1
        return token

    def sum(self) -> Node:
        node = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()
            node = Binary(op, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Negative(self.unary())
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if self.peek() == "^":
            self.take()
            node = Binary("^", node, self.unary())
        return node

    def atom(self) -> Node:
        token = self.take()
        if token == "(":
            node = self.sum()
            if self.take() != ")":
                raise ExpressionError(f"a parenthesis is not closed in {self.text!r}")
            return node
        if token[0].isdigit() or token[0] == ".":
            return Number(float(token))
        if token[0].isalpha():
            return Ref(token)
        raise ExpressionError(f"unexpected {token!r} in {self.text!r}")
