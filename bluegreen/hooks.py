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

import contextlib
import errno
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import IO, Any

import structlog

from bluegreen.errors import ConfigError, DeploymentFailed, DeploymentStopped, HookFailed
from bluegreen.ports import Functions
from bluegreen.redact import Redactor, is_sensitive_key

OUTPUT_LIMIT = 8 * 1024
KILL_GRACE_SECONDS = 2.0
# After a command exits, how long to wait for the end of its output: a background child
# it left running may hold the pipe open, and we do not wait for that child.
OUTPUT_DRAIN_SECONDS = 2.0
# Linux refuses to exec with any one environment string over 128 KiB (E2BIG); a long
# context value is left out of the environment rather than making the hook unstartable.
ENV_VALUE_LIMIT = 32 * 1024


class HookEvent(StrEnum):
    PRE_PROVISION = "pre_provision"
    POST_PROVISION = "post_provision"
    POST_TEST_TRAFFIC = "post_test_traffic"
    PRE_SHIFT = "pre_shift"
    POST_SHIFT = "post_shift"
    ON_PAUSE = "on_pause"
    PRE_CLEANUP = "pre_cleanup"
    ON_SUCCESS = "on_success"
    ON_ROLLBACK = "on_rollback"
    ON_FAILURE = "on_failure"
    FINALLY = "finally"


FATAL_EVENTS: frozenset[HookEvent] = frozenset(
    {
        HookEvent.PRE_PROVISION,
        HookEvent.POST_PROVISION,
        HookEvent.POST_TEST_TRAFFIC,
        HookEvent.PRE_SHIFT,
        HookEvent.POST_SHIFT,
        HookEvent.PRE_CLEANUP,
    }
)


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


@dataclass
class _Outcome:
    """What one kind of hook reports back to `HookRunner.run`."""

    succeeded: bool
    error: str | None = None
    exit_code: int | None = None
    timed_out: bool = False


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
            outcome = _run_command(spec, spec.command, payload, tail)
        elif spec.python is not None:
            outcome = _run_python(spec, spec.python, payload, tail)
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

    def _run_lambda(self, spec: HookSpec, payload: str, tail: _OutputTail) -> _Outcome:
        assert spec.lambda_function is not None
        if self._functions is None:
            return _Outcome(
                False,
                f"cannot invoke {spec.lambda_function}: no AWS Lambda access was given "
                "to the hook runner",
            )
        try:
            ok, output = self._functions.invoke(
                spec.lambda_function, payload.encode(), spec.timeout_seconds
            )
        except Exception as exc:  # an AWS error is this hook's failure, not ours
            return _Outcome(False, _describe(exc))
        tail.add_text(output)
        if ok:
            return _Outcome(True)
        first_line = next(iter(output.strip().splitlines()), "no output")
        return _Outcome(False, f"lambda function {spec.lambda_function} failed: {first_line}")


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


# --- command hooks -----------------------------------------------------------------------


def context_environment(context: Mapping[str, Any]) -> dict[str, str]:
    """BLUEGREEN_<KEY> for every top-level scalar of the context. Nested values, and
    strings longer than ENV_VALUE_LIMIT, are in the JSON only. Booleans are `true`/`false`,
    None is empty."""
    env: dict[str, str] = {}
    for key, value in context.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = ""
        elif isinstance(value, str | int | float):
            text = str(value)
        else:
            continue
        if len(text) > ENV_VALUE_LIMIT:
            continue
        name = "".join(c if c.isalnum() else "_" for c in str(key)).upper()
        env[f"BLUEGREEN_{name}"] = text
    return env


@contextlib.contextmanager
def _context_file(payload: str) -> Iterator[str]:
    # mkstemp creates the file readable by this user only: the context may be sensitive.
    fd, path = tempfile.mkstemp(prefix="bluegreen-hook-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _run_command(
    spec: HookSpec, command: tuple[str, ...], payload: str, tail: _OutputTail
) -> _Outcome:
    argv = ["/bin/sh", "-c", command[0]] if spec.shell else list(command)
    if spec.cwd is not None and not os.path.isdir(spec.cwd):
        return _Outcome(False, f"working directory {spec.cwd} does not exist")
    with _context_file(payload) as context_path:
        env = {
            **os.environ,
            **context_environment(json.loads(payload)),
            "BLUEGREEN_CONTEXT_FILE": context_path,
            **spec.env,
        }
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Its own session and process group: a timeout can then kill everything it
                # started, and the terminal's Ctrl-C reaches us alone (we stop the hook).
                start_new_session=True,
                cwd=spec.cwd,
                env=env,
            )
        except OSError as exc:
            return _Outcome(False, _start_failure(argv[0], spec.cwd, exc))
        return _supervise(proc, payload, spec.timeout_seconds, tail)


def _start_failure(program: str, cwd: str | None, exc: OSError) -> str:
    path = program
    if os.sep in program and not os.path.isabs(program):
        path = os.path.normpath(os.path.join(cwd or os.getcwd(), program))
    if isinstance(exc, FileNotFoundError):
        where = "" if os.sep in program else " on PATH"
        return f"command not found: {path}{where}; check that it exists and is executable"
    if isinstance(exc, PermissionError):
        return f"command not executable: {path}; check its permissions (chmod +x {program})"
    if exc.errno == errno.ENOEXEC:
        return f"not a valid executable: {path}; a script needs a #! line (e.g. #!/bin/sh)"
    return f"cannot run {path}: {exc.strerror or exc}"


def _supervise(
    proc: subprocess.Popen[bytes], payload: str, timeout: float, tail: _OutputTail
) -> _Outcome:
    assert proc.stdin is not None and proc.stdout is not None
    # Threads for both pipes: a hook that ignores stdin, or prints more than a pipe buffer
    # before reading it, must not deadlock us.
    writer = _start_thread(_write_stdin, proc.stdin, payload.encode())
    reader = _start_thread(_read_lines, proc.stdout, tail.add)
    try:
        exit_code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_process_group(proc)
        reader.join(OUTPUT_DRAIN_SECONDS)
        return _Outcome(False, f"timed out after {_format_seconds(timeout)}", timed_out=True)
    except BaseException:
        # Ctrl-C (or any error) while we wait: the hook is in its own session, so nothing
        # else would stop it; it must not outlive the deployment that started it.
        _kill_process_group(proc)
        raise
    finally:
        writer.join(OUTPUT_DRAIN_SECONDS)
    reader.join(OUTPUT_DRAIN_SECONDS)
    if exit_code == 0:
        return _Outcome(True, exit_code=0)
    if exit_code < 0:
        return _Outcome(False, f"killed by {_signal_name(-exit_code)}", exit_code=exit_code)
    return _Outcome(False, f"exited {exit_code}", exit_code=exit_code)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _start_thread(target: Callable[..., None], *args: Any) -> threading.Thread:
    # Daemon: a pipe held open by an escaped grandchild must not keep us from exiting.
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def _write_stdin(stdin: IO[bytes], data: bytes) -> None:
    # A hook may exit without reading its stdin; that is its right, not an error.
    with contextlib.suppress(BrokenPipeError, OSError):
        stdin.write(data)
    with contextlib.suppress(BrokenPipeError, OSError):
        stdin.close()


def _read_lines(stdout: IO[bytes], on_line: Callable[[str], None]) -> None:
    with stdout:
        # Bounded reads: a hook printing megabytes without a newline must not exhaust memory.
        for raw in iter(lambda: stdout.readline(64 * 1024), b""):
            on_line(raw.decode("utf-8", errors="replace"))


def _kill_process_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the hook's process group, SIGKILL what is left after KILL_GRACE_SECONDS."""
    pgid = proc.pid  # start_new_session: the hook leads its own group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while time.monotonic() < deadline:
        proc.poll()  # reap the leader: a zombie still counts as a member of the group
        if not _group_alive(pgid):
            break
        time.sleep(0.05)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a member changed user (setuid); it exists
    return _has_live_member(pgid)


def _has_live_member(pgid: int) -> bool:
    """False when every member left is a zombie. Orphaned children are reparented to PID 1,
    which in a container may reap them late or never; a zombie is already dead, so waiting
    the full grace period for it would only slow every timeout down."""
    if not os.path.isdir("/proc/self"):
        return True  # not Linux: cannot tell a zombie from the living; assume alive
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                # pid (comm) state ppid pgrp …: comm may hold spaces, so split after ")".
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited while we looked
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


# --- python hooks ------------------------------------------------------------------------


def _run_python(spec: HookSpec, target: str, payload: str, tail: _OutputTail) -> _Outcome:
    outcome: list[_Outcome] = []

    def call() -> None:
        try:
            function = _import_callable(target, spec.cwd)
            returned = function(json.loads(payload))
        except BaseException as exc:  # SystemExit too: the hook failed, we did not
            outcome.append(_Outcome(False, _describe(exc)))
            return
        if isinstance(returned, str):
            tail.add_text(returned)
        if returned is False:
            outcome.append(_Outcome(False, f"{target} returned False"))
        else:
            outcome.append(_Outcome(True))

    # A thread, so the timeout can be enforced on our side. Python cannot kill a thread:
    # on timeout the hook keeps running in the background (daemon, so it does not keep the
    # process alive) and we carry on without it.
    worker = _start_thread(call)
    worker.join(spec.timeout_seconds)
    if worker.is_alive() or not outcome:
        return _Outcome(
            False,
            f"timed out after {_format_seconds(spec.timeout_seconds)} "
            "(the Python hook is still running in the background; it cannot be stopped)",
            timed_out=True,
        )
    return outcome[0]


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
