"""User hooks: what they are (`HookSpec`), how they run (`HookRunner`), what came of it
(`HookResult`). The README's Hooks section is the contract.

Rules:

- A hook is exactly one of: a command (argv, no shell unless `shell=True`, then one string
  run by `/bin/sh -c`; `process.py`), a Python callable `"module:function"`
  (`python_call.py`), an AWS Lambda function (`lambda_contract.py`) or an http(s) URL
  (`webhook.py`).
- Every hook gets the deployment context as JSON (`json.dumps(context, default=str)`, with
  `event` set to the hook's event). Command hooks read it on stdin and from the file named
  by `BLUEGREEN_CONTEXT_FILE`, and get one `BLUEGREEN_<KEY>` variable per top-level scalar
  of the context; their own `env` comes last and wins. Python hooks get it as a dict (the
  decoded JSON, so a hook cannot mutate the engine's state); Lambda hooks as the payload;
  url hooks as the body of a POST.
- Relative paths resolve against `cwd`, the configuration file's folder; for Python hooks
  that folder is on `sys.path` while the module is imported.
- A hook fails when it exits non-zero, returns False, raises, cannot be started, runs past
  its timeout, or (a URL) answers other than 2xx, or (a Lambda keeping to ECS's contract)
  answers FAILED. The runner never raises for a hook's failure: it returns a `HookResult`
  whose `error` says why in one line; `HookResult.to_error()` turns a failed result into
  the exception the engine raises.
- On timeout (or if we are interrupted while waiting) a command hook's whole process
  group is killed (SIGTERM, then SIGKILL 2 s later), so nothing it started is left behind.
  A Python hook cannot be killed: on timeout it is abandoned, still running; so is a URL's
  request, which its socket timeout ends soon after.
- A failing hook of a `FATAL_EVENTS` event fails the deployment and `run_event` stops
  there; failures of the other events are logged and the remaining hooks still run.
- Output (merged stdout/stderr, a function's answer, a URL's answer) is redacted, logged
  line by line, and the last `OUTPUT_LIMIT` characters are kept in the result. Error
  messages are redacted too, with the values of secret-named `env` entries, of a url
  hook's headers and of its signing secret; a spec's repr leaves those out.
- Timeouts use real time: a subprocess or a socket cannot be waited on with a virtual
  clock. A Lambda's waits between invocations (`IN_PROGRESS`) use the injected clock.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import structlog

from bluegreen.clock import Clock, RealClock
from bluegreen.config.fields import MAX_URL_RETRIES, header_secrets, http_url
from bluegreen.errors import ConfigError, DeploymentFailed, DeploymentStopped, HookFailed
from bluegreen.hooks import lambda_contract, webhook
from bluegreen.hooks.process import Outcome, run_command
from bluegreen.hooks.python_call import run_python
from bluegreen.machine import FATAL_EVENTS, HookEvent
from bluegreen.ports import Functions
from bluegreen.redact import Redactor, is_sensitive_key
from bluegreen.turns import away

OUTPUT_LIMIT = 8 * 1024


@dataclass(frozen=True)
class HookSpec:
    event: HookEvent
    name: str
    command: tuple[str, ...] | None = None
    python: str | None = None
    lambda_function: str | None = None
    url: str | None = None
    shell: bool = False
    timeout_seconds: float = 300.0
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    # url hooks: extra headers and the signing secret (secrets both: kept out of repr),
    # and how many times a failed delivery is tried again.
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    retries: int = 0

    def __post_init__(self) -> None:
        kinds = [
            k for k in (self.command, self.python, self.lambda_function, self.url) if k is not None
        ]
        if len(kinds) != 1:
            raise ConfigError(
                f"hook {self.name!r} ({self.event}) must have exactly one of "
                "command, python, lambda, url",
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
        self._check_url()
        if self.timeout_seconds <= 0:
            raise ConfigError(f"hook {self.name!r}: timeout must be positive")
        # Read-only copies: the spec is frozen, its mappings should be too.
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    def _check_url(self) -> None:
        if self.url is None:
            if self.headers or self.signing_secret or self.retries:
                raise ConfigError(f"hook {self.name!r}: headers, secret, retries need a url")
            return
        try:
            http_url(self.url)
        except ValueError as exc:
            raise ConfigError(f"hook {self.name!r}: {exc}") from None
        if not 0 <= self.retries <= MAX_URL_RETRIES:
            raise ConfigError(f"hook {self.name!r}: retries is 0 to {MAX_URL_RETRIES}")

    @property
    def kind(self) -> str:
        if self.command is not None:
            return "command"
        if self.python is not None:
            return "python"
        return "lambda" if self.lambda_function is not None else "url"

    @property
    def secret_values(self) -> tuple[str, ...]:
        """What this hook is handed that must never come back out of it: the values of its
        secret-named `env` entries, of its headers, and its signing secret."""
        return (
            *(value for key, value in self.env.items() if is_sensitive_key(key)),
            *header_secrets(self.headers),
            *((self.signing_secret,) if self.signing_secret else ()),
        )


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
        """This failure fails the deployment (a fatal event: machine.FATAL_EVENTS)."""
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
        clock: Clock | None = None,
    ) -> None:
        self._redactor = redactor
        self._functions = functions
        self._log = log if log is not None else structlog.get_logger("bluegreen.hooks")
        # What a Lambda's IN_PROGRESS answers are waited on; the other kinds use real time.
        self._clock = clock if clock is not None else RealClock()
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
        # Secrets the hook is handed must not come back out in its output.
        redactor = self._redactor.with_values(spec.secret_values)
        log = self._log.bind(hook=spec.name, hook_event=str(spec.event), hook_kind=spec.kind)
        payload = json.dumps({**context, "event": str(spec.event)}, default=str)
        tail = _OutputTail(redactor, log)
        log.info("hook_started", timeout_seconds=spec.timeout_seconds)
        started = time.monotonic()
        with away(self._clock):  # in a release on the real clock, the others go on meanwhile
            outcome = self._run_kind(spec, payload, tail)
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

    def _run_kind(self, spec: HookSpec, payload: str, tail: _OutputTail) -> Outcome:
        timeout = spec.timeout_seconds
        if spec.command is not None:
            argv = ["/bin/sh", "-c", spec.command[0]] if spec.shell else list(spec.command)
            return run_command(
                argv, spec.cwd, spec.env, payload, timeout, tail.add, self.interrupted
            )
        if spec.python is not None:
            return run_python(
                spec.python, spec.cwd, payload, timeout, tail.add_text, self.interrupted
            )
        if spec.url is not None:
            hook = webhook.Webhook(
                spec.url, spec.headers, spec.signing_secret, spec.retries, timeout
            )
            return webhook.post(hook, payload, tail.add_text, self.interrupted)
        assert spec.lambda_function is not None
        if self._functions is None:
            return Outcome(
                False,
                f"cannot invoke {spec.lambda_function}: no AWS Lambda access was given "
                "to the hook runner",
            )
        return lambda_contract.invoke(
            self._functions,
            spec.lambda_function,
            payload,
            timeout,
            self._clock,
            self.interrupted,
            tail.add_text,
        )


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
