"""The result of `bluegreen verify`: named checks, each pass / warn / fail / skip, and the
`Findings` collector the checks write to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

from bluegreen.errors import AwsError, BluegreenError, ConfigError, PreflightError

P = ParamSpec("P")
T = TypeVar("T")


class Result(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"  # could not run: what it needs was not found (and that check failed)


@dataclass(frozen=True)
class Check:
    name: str
    result: Result
    detail: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "result": self.result.value,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.result is Result.FAIL)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.result is Result.WARN)

    @property
    def ok(self) -> bool:
        """Nothing failed (warnings allowed): `verify` exits 0, `deploy` may start."""
        return not self.failures

    def named(self, name: str) -> list[Check]:
        return [c for c in self.checks if c.name == name]

    def to_dict(self) -> dict[str, Any]:
        return {"checks": [c.to_dict() for c in self.checks], "ok": self.ok}

    def raise_for_failures(self) -> None:
        """PreflightError listing every failed check with its fix; nothing when none failed."""
        if self.ok:
            return
        lines = [f"preflight found {len(self.failures)} problem(s):"]
        for check in self.failures:
            lines.append(f"  - {check.name}: {check.detail}")
            if check.fix:  # a fix of several lines (TOML to add) stays under its "fix:"
                lines.append("    fix: " + check.fix.replace("\n", "\n         "))
        raise PreflightError("\n".join(lines), hint="`bluegreen verify` shows every check")


class Findings:
    """The checks in the order they were made."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def passed(self, name: str, detail: str) -> None:
        self.checks.append(Check(name, Result.PASS, detail))

    def warn(self, name: str, detail: str, fix: str) -> None:
        self.checks.append(Check(name, Result.WARN, detail, fix))

    def fail(self, name: str, detail: str, fix: str | None) -> None:
        self.checks.append(Check(name, Result.FAIL, detail, fix))

    def skip(self, name: str, because: str) -> None:
        self.checks.append(Check(name, Result.SKIP, f"skipped: {because}"))

    def read(self, name: str, fetch: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """`fetch(*args, **kwargs)`; on our error, None and a failed check carrying the
        error's message and hint — except an error every other read would repeat (no
        credentials, no region, no connection to AWS) or that says nothing about what is
        checked (AWS throttling or failing through every retry): raised as it is."""
        try:
            return fetch(*args, **kwargs)
        except BluegreenError as exc:
            if not about_what_is_read(exc):
                raise
            self.fail(name, exc.message, exc.hint)
            return None

    def read_or_none(self, fetch: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """As `read`, but a failure is no finding: several things read in one request, where
        the caller then reads each alone with `read`, which names the one that is wrong."""
        try:
            return fetch(*args, **kwargs)
        except BluegreenError as exc:
            if not about_what_is_read(exc):
                raise
            return None

    def report(self) -> Report:
        return Report(tuple(self.checks))


def about_what_is_read(exc: BluegreenError) -> bool:
    """False for an error every other read would repeat (a ConfigError: no credentials, no
    region, no connection) or that says nothing about what was read (AWS throttling or
    failing through every retry): those are raised, never made a finding."""
    if isinstance(exc, ConfigError):
        return False
    return not (isinstance(exc, AwsError) and exc.transient)
