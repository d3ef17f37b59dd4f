"""Hostile `bluegreen.toml` files, generated (hypothesis): each exits 2 through the CLI with
a message naming the offending key (or the file, when it cannot be read), never a
traceback, and makes no mutating AWS call — seen by the sandbox's recorder in front of
moto, on the sandbox stack the files are derived from.

Every generated file starts from a valid configuration of the sandbox stack (`valid()`) and
is broken in one way that is invalid whatever else holds: an unknown key at any level, a
wrong type, a duration that is infinite, nan, negative or above a week, a name AWS would
refuse, an empty hook command, an enum value that does not exist, a number out of range,
bytes that are not UTF-8, nesting far deeper than any key takes.

The examples are derandomized (a fixed sequence, the same on every run and in CI) and few
enough (~320 CLI runs in all) to take seconds.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_harness import BASE, Cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bluegreen.config import DeploymentConfig
from bluegreen.machine import HookEvent
from bluegreen.onboarding.toml_writer import to_toml
from bluegreen.sandbox import Sandbox

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
COMMANDS = [
    ("deploy", "--image", f"web={V2}"),  # the harness adds --yes
    ("plan", "--image", f"web={V2}"),
    ("deploy", "--image", f"web={V2}", "--dry-run", "--output", "json"),
    ("verify",),
]
READ_ONLY = ("Describe", "List", "Get")

# Fixed examples, so CI is deterministic; the function-scoped sandbox is built once per test
# and shared by its examples (each one only writes the file and runs the CLI).
HOSTILE = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def aws_operations(sandbox: Sandbox) -> list[str]:
    """Every AWS operation that reached moto (the sandbox), by name, in order: recorded by
    the sandbox's own interceptor in front of moto (wrapping moto once more here, with a
    patch undone out of order, once left a stale interceptor for the tests after)."""
    return sandbox.faults.operations


def valid(run_cli: Cli) -> dict[str, Any]:
    """A configuration of the sandbox stack using every table and most keys."""
    steps = [{"weight": 10, "bake": "1m"}, {"weight": 50, "pause": False}, {"weight": 100}]
    return run_cli.stack.config(
        **{**BASE, "strategy": {"type": "steps", "steps": steps, "pause_timeout": "1h"}},
        hooks=[
            {
                "event": "pre_provision",
                "command": ["true", "--verbose"],
                "shell": False,
                "timeout": "1m",
                "env": {"STAGE": "test"},
            }
        ],
        state={"backend": "file", "lease": "1m"},
        timeout="2h",
        on_interrupt="rollback",
    )


# ------------------------------------------------------------------ the mutations

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutation:
    path: Path_  # where the value goes (a new key, or one replaced)
    value: Any

    @property
    def key(self) -> str:
        """The key as an error message names it."""
        return ".".join(str(part) for part in self.path)

    def apply(self, config: dict[str, Any]) -> dict[str, Any]:
        broken = copy.deepcopy(config)
        *parents, last = self.path
        node: Any = broken
        for part in parents:
            node = node[part]
        node[last] = self.value
        return broken


TABLES: list[Path_] = [
    (),
    ("service",),
    ("target_groups",),
    ("listeners", 0),
    ("listeners", 1),
    ("strategy",),
    ("strategy", "steps", 0),
    ("strategy", "steps", 2),
    ("health",),
    ("gates",),
    ("hooks", 0),
    ("state",),
]
DURATIONS: list[Path_] = [
    ("timeout",),
    ("strategy", "pause_timeout"),
    ("strategy", "steps", 0, "bake"),
    ("health", "timeout"),
    ("health", "poll_interval"),
    ("gates", "bake_after_shift"),
    ("gates", "termination_wait"),
    ("hooks", 0, "timeout"),
    ("state", "lease"),
]
STRINGS: list[Path_] = [
    ("service", "cluster"),
    ("service", "name"),
    ("service", "container"),
    ("target_groups", "blue"),
    ("target_groups", "green"),
    ("listeners", 0, "arn"),
    ("hooks", 0, "command", 0),
    ("hooks", 0, "env", "STAGE"),
]
INTEGERS: dict[Path_, tuple[int, int]] = {  # and their allowed range
    ("service", "container_port"): (1, 65535),
    ("strategy", "steps", 0, "weight"): (0, 100),
    ("strategy", "steps", 1, "weight"): (0, 100),
}
BOOLEANS: list[Path_] = [("strategy", "steps", 1, "pause"), ("hooks", 0, "shell")]
ARRAYS: list[Path_] = [
    ("listeners",),
    ("hooks",),
    ("strategy", "steps"),
    ("gates", "alarms"),
    ("hooks", 0, "command"),
]
ENUMS: dict[Path_, set[str]] = {
    ("strategy", "type"): {"all-at-once", "canary", "linear", "steps"},
    ("strategy", "on_pause_timeout"): {"rollback", "continue"},
    ("service", "mode"): {"task-sets", "service-pair"},
    ("listeners", 0, "shift"): {"weighted", "swap"},
    ("on_interrupt",): {"rollback", "leave"},
    ("hooks", 0, "event"): {e.value for e in HookEvent},
}
# (path, what AWS accepts there, ARNs too?)
NAMES: list[tuple[Path_, str, bool]] = [
    (("service", "cluster"), r"[A-Za-z0-9_-]{1,255}", True),
    (("service", "name"), r"[A-Za-z0-9_-]{1,255}", True),
    (("service", "container"), r"[A-Za-z0-9_-]{1,255}", False),
    (("target_groups", "blue"), r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?", True),
    (("target_groups", "green"), r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?", True),
]


def _all_keys() -> set[str]:
    """Every key some table takes: an "unknown" key must be unknown everywhere (a key of
    another table is refused too, but may be refused as another mistake first)."""
    found: set[str] = set()
    pending: list[type[Any]] = [DeploymentConfig]
    while pending:
        model = pending.pop()
        for name, field in model.model_fields.items():
            found |= {name, field.alias or name}
            pending += [a for a in _models_in(field.annotation)]
    return found


def _models_in(annotation: Any) -> Iterator[type[Any]]:
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _models_in(arg)


KNOWN_KEYS = _all_keys()
unknown_names = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1),
).filter(lambda key: key not in KNOWN_KEYS)
words = st.text("abcdefghijklmnopqrstuvwxyz -", min_size=1, max_size=12)
containers = st.one_of(
    st.lists(st.integers(), max_size=2), st.dictionaries(words, st.integers(), max_size=2)
)
scalars = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), words)


def unknown_keys() -> st.SearchStrategy[Mutation]:
    return st.builds(
        lambda table, key, value: Mutation((*table, key), value),
        st.sampled_from(TABLES),
        unknown_names,
        st.one_of(st.integers(), words),
    )


def wrong_types() -> st.SearchStrategy[Mutation]:
    not_a_string = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), containers)
    not_an_int = st.one_of(
        st.floats(allow_nan=False).filter(lambda f: not f.is_integer()),
        st.text("abcxyz", min_size=1),
        containers,
    )
    not_a_bool = st.one_of(
        st.integers().filter(lambda i: i not in (0, 1)),
        st.floats(allow_nan=False).filter(lambda f: f not in (0.0, 1.0)),
        st.text("abcxz", min_size=2),
        containers,
    )
    not_a_table = st.one_of(scalars, st.lists(st.integers(), max_size=2))
    not_an_array = st.one_of(scalars, st.dictionaries(words, st.integers(), min_size=1))
    not_a_duration = st.one_of(st.booleans(), containers)
    return st.one_of(
        _at(STRINGS, not_a_string),
        _at(list(INTEGERS), not_an_int),
        _at(BOOLEANS, not_a_bool),
        _at([t for t in TABLES if t and not isinstance(t[-1], int)], not_a_table),
        _at(ARRAYS, not_an_array),
        _at(DURATIONS, not_a_duration),
    )


def non_finite_durations() -> st.SearchStrategy[Mutation]:
    return _at(DURATIONS, st.sampled_from([math.inf, -math.inf, math.nan, "inf", "nan"]))


def bad_durations() -> st.SearchStrategy[Mutation]:
    week = 7 * 86400
    return _at(
        DURATIONS,
        st.one_of(
            st.sampled_from(["8d", "169h", "604801s", "1d1d1d1d1d1d1d1ms"]),
            st.floats(min_value=week + 0.001, allow_infinity=False),
            st.floats(max_value=-0.001, allow_infinity=False),
            st.integers(min_value=week + 1),
            st.integers(max_value=-1),
            st.from_regex(r"[1-9][0-9]{6,30}(s|m|h|d)", fullmatch=True),
            st.from_regex(r"[0-9]{1,3}( minutes|x|sec|  |)|m[0-9]|-[0-9]s|", fullmatch=True),
        ),
    )


def bad_names() -> st.SearchStrategy[Mutation]:
    def refused(pattern: str, arns: bool) -> st.SearchStrategy[str]:
        hostile = st.one_of(
            st.text(min_size=0, max_size=40),
            st.text(st.sampled_from("ab-_\x00/.é 日"), min_size=1, max_size=40),
            st.text(st.sampled_from("abc-_"), min_size=33, max_size=600),
            st.just("\x00"),
            st.just("../../etc"),
        )
        return hostile.filter(
            lambda v: not re.fullmatch(pattern, v) and not (arns and v.startswith("arn:"))
        )

    names = st.one_of(
        *(_at([path], refused(pattern, arns)) for path, pattern, arns in NAMES),
        _at([("listeners", 0, "arn")], st.text(max_size=40).filter(lambda v: "arn:" not in v)),
        _at([("gates", "alarms")], st.lists(st.just("x" * 256) | st.just("al\x00rm"), min_size=1)),
    )
    return names


def empty_commands() -> st.SearchStrategy[Mutation]:
    blank = st.text(" \t", max_size=3)
    return st.one_of(
        _at([("hooks", 0, "command")], st.just([])),
        _at(
            [("hooks", 0, "command")],
            st.lists(st.text(), max_size=2).flatmap(
                lambda rest: blank.map(lambda program: [program, *rest])
            ),
        ),
        _at([("hooks", 0, "command", 1)], st.just("a\x00b")),
    )


def bad_enums() -> st.SearchStrategy[Mutation]:
    return st.one_of(
        *(_at([path], words.filter(lambda w, ok=ok: w not in ok)) for path, ok in ENUMS.items()),
        _at([("state", "backend")], words.filter(lambda w: w != "file")),
    )


def out_of_range() -> st.SearchStrategy[Mutation]:
    return st.one_of(
        *(
            _at([path], st.integers().filter(lambda i, lo=lo, hi=hi: not lo <= i <= hi))
            for path, (lo, hi) in INTEGERS.items()
        )
    )


def _at(paths: list[Path_], values: st.SearchStrategy[Any]) -> st.SearchStrategy[Mutation]:
    return st.builds(Mutation, st.sampled_from(paths), values)


# Each family is its own test case, so each gets its share of examples.
FAMILIES = {
    "unknown key": unknown_keys(),
    "wrong type": wrong_types(),
    "non-finite duration": non_finite_durations(),
    "duration out of range": bad_durations(),
    "name AWS refuses": bad_names(),
    "empty hook command": empty_commands(),
    "no such enum value": bad_enums(),
    "number out of range": out_of_range(),
}


# ------------------------------------------------------------------ the properties


def refused(run_cli: Cli, operations: list[str], content: bytes, command: tuple[str, ...]) -> str:
    """Run the CLI on `content`; check it was refused (exit 2, no traceback, no AWS change);
    return what it printed."""
    run_cli.config.write_bytes(content)
    operations.clear()
    result = run_cli(*command)
    output = result.output
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit), result.exception  # nothing escaped
    assert "Traceback" not in output
    assert [op for op in operations if not op.startswith(READ_ONLY)] == []
    return output


def test_the_valid_configuration_runs_and_the_recorder_sees_aws(
    run_cli: Cli, aws_operations: list[str]
) -> None:
    run_cli.config.write_text(to_toml(valid(run_cli)))
    result = run_cli("plan", "--image", f"web={V2}")
    assert result.exit_code == 0, result.output
    assert "DescribeServices" in aws_operations and "DescribeListeners" in aws_operations


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
@HOSTILE
@given(data=st.data(), command=st.sampled_from(COMMANDS))
def test_a_hostile_configuration_exits_2_naming_the_key(
    run_cli: Cli,
    aws_operations: list[str],
    family: st.SearchStrategy[Mutation],
    data: st.DataObject,
    command: tuple[str, ...],
) -> None:
    mutation = data.draw(family)
    content = to_toml(mutation.apply(valid(run_cli))).encode()
    output = refused(run_cli, aws_operations, content, command)
    assert f": {mutation.key}" in output


@settings(HOSTILE, max_examples=40)
@given(
    where=st.floats(0, 1),
    junk=st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80abc"]),
    command=st.sampled_from(COMMANDS),
)
def test_bytes_that_are_not_utf8_exit_2_naming_the_file(
    run_cli: Cli, aws_operations: list[str], where: float, junk: bytes, command: tuple[str, ...]
) -> None:
    text = to_toml(valid(run_cli)).encode()
    at = int(where * len(text))
    output = refused(run_cli, aws_operations, text[:at] + junk + text[at:], command)
    assert str(run_cli.config) in output.replace("\n", "") and "not UTF-8" in output


@settings(HOSTILE, max_examples=40)
@given(
    table=st.sampled_from(TABLES),
    depth=st.one_of(st.integers(17, 200), st.integers(200, 5000)),
    nesting=st.sampled_from([("[", "", "]"), ("{x = ", "1", "}")]),  # arrays, inline tables
    command=st.sampled_from(COMMANDS),
)
def test_deep_nesting_exits_2_naming_the_key_or_the_file(
    run_cli: Cli,
    aws_operations: list[str],
    table: Path_,
    depth: int,
    nesting: tuple[str, str, str],
    command: tuple[str, ...],
) -> None:
    mutation = Mutation((*table, "deep"), "@@DEEP@@")
    opening, innermost, closing = nesting
    nested = opening * depth + innermost + closing * depth
    text = to_toml(mutation.apply(valid(run_cli))).replace('"@@DEEP@@"', nested)
    output = refused(run_cli, aws_operations, text.encode(), command)
    try:
        tomllib.loads(text)
    except RecursionError:  # too deep even to be read: the file is named
        assert str(run_cli.config) in output.replace("\n", "") and "nested too deeply" in output
    else:
        assert f": {mutation.key}" in output and "levels deep" in output


def test_a_directory_as_config_exits_2_naming_it(run_cli: Cli, tmp_path: Path) -> None:
    run_cli.config = tmp_path
    result = run_cli("deploy", "--image", f"web={V2}")
    assert result.exit_code == 2 and "is a directory" in result.output
