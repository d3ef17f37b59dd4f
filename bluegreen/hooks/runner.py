"""User hooks: what they are (`HookSpec`), how they run (`HookRunner`), what came of it
(`HookResult`). SPEC §4 is the contract.

Rules:

- A hook is exactly one of: a command (argv, no shell unless `shell=True`, then one string
  run by `/bin/sh -c`), a Python callable `"module:function"`, or an AWS Lambda function.
- Every hook gets the deployment context as JSON (`json.dumps(context, default=str)`, with
  `event` set to the hook's event). Command hooks read it on stdin and from the file named
  by `BLUEGREEN_CONTEXT_FILE`, and get one `BLUEGREEN_<KEY>` variable per top-level scalar
  of the context; their own `env` comes last and wins. Python hooks get it as a dict (the
  decoded JSON, so a hook cannot mutate the engine's state); Lambda hooks as the payload.
- Relative paths resolve against `cwd`, the configuration file's folder; for Python hooks
  that folder is on `sys.path` while the module is imported.
- A hook fails when it exits non-zero, returns False, raises, cannot be started, or runs
  past its timeout. The runner never raises for a hook's failure: it returns a
  `HookResult` whose `error` says why in one line; `HookResult.to_error()` turns a failed
  result into the exception the engine raises.
- On timeout (or if we are interrupted while waiting) a command hook's whole process
  group is killed (SIGTERM, then SIGKILL 2 s later), so nothing it started is left behind.
  A Python hook cannot be killed: on timeout it is abandoned, still running.
- A failing hook of a `FATAL_EVENTS` event fails the deployment and `run_event` stops
  there; failures of the other events are logged and the remaining hooks still run.
- Output (merged stdout/stderr) is redacted, logged line by line, and the last
  `OUTPUT_LIMIT` characters are kept in the result. Error messages are redacted too.
- Timeouts use real time: a subprocess cannot be waited on with a virtual clock.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Any

import structlog

from bluegreen.errors import ConfigError, DeploymentFailed, DeploymentStopped, HookFailed
from bluegreen.hooks.process import (
    Outcome,
    run_command,
    start_thread,
    wait_unless_interrupted,
)
from bluegreen.machine import FATAL_EVENTS, HookEvent
from bluegreen.ports import Functions
from bluegreen.redact import Redactor, is_sensitive_key

OUTPUT_LIMIT = 8 * 1024


@dataclass(frozen=True)
class HookSpec:
    event: HookEvent
    name: str
    command: tuple[str, ...] | None = None
    python: str | None = None
    lambda_function: str | None = None
    shell: bool = False
    timeout_seconds: float = 300.0
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None

    def __post_init__(self) -> None:
        kinds = [k for k in (self.command, self.python, self.lambda_function) if k is not None]
        if len(kinds) != 1:
            raise ConfigError(
                f"hook {self.name!r} ({self.event}) must have exactly one of "
                "command, python, lambda",
            )
        if self.command is not None and (
            not self.command or (self.shell and len(self.command) != 1)
        ):
            raise ConfigError(
                f"hook {self.name!r}: command must be a non-empty argv list, "
                "or a single string when shell = true",
            )
        if self.python is not None and not _is_entry_point(self.python):
            raise ConfigError(
                f"hook {self.name!r}: python = {self.python!r} is not 'module:function'",
                hint='e.g. python = "mypkg.hooks:check"',
            )
        if self.timeout_seconds <= 0:
            raise ConfigError(f"hook {self.name!r}: timeout must be positive")
        # A read-only copy: the spec is frozen, its env should be too.
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))

    @property
    def kind(self) -> str:
        if self.command is not None:
            return "command"
        return "python" if self.python is not None else "lambda"


def _is_entry_point(target: str) -> bool:
    module, sep, function = target.partition(":")
    return bool(sep and module and function)


@dataclass(frozen=True)
class HookResult:
    spec: HookSpec
    succeeded: bool
    exit_code: int | None = None
    timed_out: bool = False
    output: str = ""
    duration_seconds: float = 0.0
    error: str | None = None

    @property
    def fatal(self) -> bool:
        """This failure fails the deployment (SPEC §4)."""
        return not self.succeeded and self.spec.event in FATAL_EVENTS

    def to_error(self) -> DeploymentFailed:
        """The exception for this failure: DeploymentStopped for pre_provision (nothing to
        roll back), HookFailed otherwise."""
        kind = DeploymentStopped if self.spec.event is HookEvent.PRE_PROVISION else HookFailed
        return kind(
            f"{self.spec.event} hook {self.spec.name!r} failed: {self.error}",
            hint="its last output is in the log and in the deployment record",
        )


class _OutputTail:
    """Redacts and logs each line as it arrives; keeps the last OUTPUT_LIMIT characters."""

    def __init__(self, redactor: Redactor, log: Any) -> None:
        self._redactor = redactor
        self._log = log
        self._lines: deque[str] = deque()
        self._size = 0
        self._truncated = False

    def add(self, line: str) -> None:
        line = self._redactor.redact(line.rstrip("\r\n"))
        self._log.info("hook_output", line=line)
        self._lines.append(line)
        self._size += len(line) + 1
        while self._size > OUTPUT_LIMIT and len(self._lines) > 1:
            self._size -= len(self._lines.popleft()) + 1
            self._truncated = True

    def add_text(self, text: str) -> None:
        for line in text.splitlines():
            self.add(line)

    def text(self) -> str:
        body = "\n".join(self._lines)
        if self._truncated or len(body) > OUTPUT_LIMIT:
            return f"[… output truncated …]\n{body[-OUTPUT_LIMIT:]}"
        return body


class HookRunner:
    """Runs hooks. Never raises for a hook's failure; see the module docstring."""

    def __init__(
        self,
        redactor: Redactor,
        functions: Functions | None = None,
        log: Any = None,
    ) -> None:
        self._redactor = redactor
        self._functions = functions
        self._log = log if log is not None else structlog.get_logger("bluegreen.hooks")
        # Names the signal that asked the deployment to stop (the engine's interrupt flag):
        # a running hook is stopped then, not waited for until its timeout.
        self.interrupted: Callable[[], str | None] = lambda: None

    @property
    def redactor(self) -> Redactor:
        return self._redactor

    def add_secrets(self, values: Iterable[str]) -> None:
        """Mask `values` in every hook's output from now on (e.g. the task definition's
        secrets, once the engine has read them)."""
        self._redactor = self._redactor.with_values(values)

    def run_event(
        self, event: HookEvent, specs: Sequence[HookSpec], context: Mapping[str, Any]
    ) -> list[HookResult]:
        """Run, in order, every spec of `event` (others in `specs` are ignored). For a
        FATAL event, stop at the first failure: the deployment is failing anyway."""
        selected = [spec for spec in specs if spec.event == event]
        results: list[HookResult] = []
        for index, spec in enumerate(selected):
            result = self.run(spec, context)
            results.append(result)
            if result.fatal:
                skipped = [s.name for s in selected[index + 1 :]]
                if skipped:
                    self._log.warning("hooks_skipped", hook_event=str(event), hooks=skipped)
                break
        return results

    def run(self, spec: HookSpec, context: Mapping[str, Any]) -> HookResult:
        # Secrets the hook is handed in its own env must not come back out in its output.
        redactor = self._redactor.with_values(
            value for key, value in spec.env.items() if is_sensitive_key(key)
        )
        log = self._log.bind(hook=spec.name, hook_event=str(spec.event), hook_kind=spec.kind)
        payload = json.dumps({**context, "event": str(spec.event)}, default=str)
        tail = _OutputTail(redactor, log)
        log.info("hook_started", timeout_seconds=spec.timeout_seconds)
        started = time.monotonic()
        if spec.command is not None:
            outcome = _run_command(spec, spec.command, payload, tail, self.interrupted)
        elif spec.python is not None:
            outcome = _run_python(spec, spec.python, payload, tail, self.interrupted)
        else:
            outcome = self._run_lambda(spec, payload, tail)
        result = HookResult(
            spec=spec,
            succeeded=outcome.succeeded,
            exit_code=outcome.exit_code,
            timed_out=outcome.timed_out,
            output=tail.text(),
            duration_seconds=round(time.monotonic() - started, 3),
            error=redactor.redact(outcome.error) if outcome.error else None,
        )
        _log_result(log, result)
        return result

    def _run_lambda(self, spec: HookSpec, payload: str, tail: _OutputTail) -> Outcome:
        assert spec.lambda_function is not None
        if self._functions is None:
            return Outcome(
                False,
                f"cannot invoke {spec.lambda_function}: no AWS Lambda access was given "
                "to the hook runner",
            )
        try:
            ok, output = self._functions.invoke(
                spec.lambda_function, payload.encode(), spec.timeout_seconds
            )
        except Exception as exc:  # an AWS error is this hook's failure, not ours
            return Outcome(False, _describe(exc))
        tail.add_text(output)
        if ok:
            return Outcome(True)
        first_line = next(iter(output.strip().splitlines()), "no output")
        return Outcome(False, f"lambda function {spec.lambda_function} failed: {first_line}")


def _log_result(log: Any, result: HookResult) -> None:
    if result.succeeded:
        log.info("hook_succeeded", duration_seconds=result.duration_seconds)
        return
    # A failure that fails the deployment is an error; the others are only worth a warning.
    emit = log.error if result.fatal else log.warning
    emit(
        "hook_failed",
        error=result.error,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        fatal=result.fatal,
        duration_seconds=result.duration_seconds,
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _format_seconds(seconds: float) -> str:
    return f"{seconds:g}s"


# --- python hooks ------------------------------------------------------------------------


def _run_command(
    spec: HookSpec,
    command: tuple[str, ...],
    payload: str,
    tail: _OutputTail,
    interrupted: Callable[[], str | None],
) -> Outcome:
    argv = ["/bin/sh", "-c", command[0]] if spec.shell else list(command)
    return run_command(
        argv, spec.cwd, spec.env, payload, spec.timeout_seconds, tail.add, interrupted
    )


def _run_python(
    spec: HookSpec,
    target: str,
    payload: str,
    tail: _OutputTail,
    interrupted: Callable[[], str | None],
) -> Outcome:
    outcome: list[Outcome] = []

    def call() -> None:
        try:
            function = _import_callable(target, spec.cwd)
            returned = function(json.loads(payload))
        except BaseException as exc:  # SystemExit too: the hook failed, we did not
            outcome.append(Outcome(False, _describe(exc)))
            return
        if isinstance(returned, str):
            tail.add_text(returned)
        if returned is False:
            outcome.append(Outcome(False, f"{target} returned False"))
        else:
            outcome.append(Outcome(True))

    # A thread, so the timeout can be enforced on our side. Python cannot kill a thread:
    # on timeout the hook keeps running in the background (daemon, so it does not keep the
    # process alive) and we carry on without it.
    worker = start_thread(call)
    stopped = wait_unless_interrupted(partial(_joined, worker), spec.timeout_seconds, interrupted)
    if stopped:
        return Outcome(
            False, f"stopped: the deployment was {stopped} (the Python hook runs on unstopped)"
        )
    if worker.is_alive() or not outcome:
        return Outcome(
            False,
            f"timed out after {_format_seconds(spec.timeout_seconds)} "
            "(the Python hook is still running in the background; it cannot be stopped)",
            timed_out=True,
        )
    return outcome[0]


def _joined(worker: threading.Thread, seconds: float) -> bool:
    worker.join(seconds)
    return not worker.is_alive()


_SYS_PATH_LOCK = threading.Lock()


def _import_callable(target: str, folder: str | None) -> Callable[[dict[str, Any]], Any]:
    module_name, _, attribute = target.partition(":")
    with _SYS_PATH_LOCK:
        # The config folder goes on sys.path only while importing, so hooks/checks.py
        # beside bluegreen.toml imports without the user setting PYTHONPATH.
        added = folder if folder is not None and folder not in sys.path else None
        if added is not None:
            sys.path.insert(0, added)
        try:
            module = importlib.import_module(module_name)
        finally:
            if added is not None:
                sys.path.remove(added)
    function = module
    for part in attribute.split("."):
        function = getattr(function, part)
    if not callable(function):
        raise TypeError(f"{target} is not callable")
    return function  # type: ignore[return-value]
