"""Running a command hook as a supervised process: its own session and process group,
the JSON context on stdin and in a file, `BLUEGREEN_*` variables, output read line by line
without deadlock, and on timeout (or interrupt) the whole process group killed — SIGTERM,
then SIGKILL after KILL_GRACE_SECONDS — so nothing it started outlives it.

Timeouts use real time: a subprocess cannot be waited on with a virtual clock.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

KILL_GRACE_SECONDS = 2.0
# After a command exits, how long to wait for the end of its output: a background child
# it left running may hold the pipe open, and we do not wait for that child.
OUTPUT_DRAIN_SECONDS = 2.0
# How often a running hook is checked for a signal that asked the deployment to stop.
INTERRUPT_POLL_SECONDS = 0.1
# Linux refuses to exec with any one environment string over 128 KiB (E2BIG); a long
# context value is left out of the environment rather than making the hook unstartable.
ENV_VALUE_LIMIT = 32 * 1024


@dataclass
class Outcome:
    """What one kind of hook reports back to the hook runner."""

    succeeded: bool
    error: str | None = None
    exit_code: int | None = None
    timed_out: bool = False


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


def run_command(
    argv: list[str],
    cwd: str | None,
    env: Mapping[str, str],
    payload: str,
    timeout: float,
    on_line: Callable[[str], None],
    interrupted: Callable[[], str | None] = lambda: None,
) -> Outcome:
    """Run `argv` with the JSON `payload` on stdin, each output line to `on_line`; stop it
    when `interrupted()` names a signal."""
    if cwd is not None and not os.path.isdir(cwd):
        return Outcome(False, f"working directory {cwd} does not exist")
    with _context_file(payload) as context_path:
        full_env = {
            **os.environ,
            **context_environment(json.loads(payload)),
            "BLUEGREEN_CONTEXT_FILE": context_path,
            **env,
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
                cwd=cwd,
                env=full_env,
            )
        except OSError as exc:
            return Outcome(False, _start_failure(argv[0], cwd, exc))
        return _supervise(proc, payload, timeout, on_line, interrupted)


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
    proc: subprocess.Popen[bytes],
    payload: str,
    timeout: float,
    on_line: Callable[[str], None],
    interrupted: Callable[[], str | None],
) -> Outcome:
    assert proc.stdin is not None and proc.stdout is not None
    # Threads for both pipes: a hook that ignores stdin, or prints more than a pipe buffer
    # before reading it, must not deadlock us.
    writer = start_thread(_write_stdin, proc.stdin, payload.encode())
    reader = start_thread(_read_lines, proc.stdout, on_line)
    try:
        stopped = wait_unless_interrupted(partial(_exited, proc), timeout, interrupted)
        exit_code = proc.returncode
        if exit_code is None:
            _kill_process_group(proc)
            reader.join(OUTPUT_DRAIN_SECONDS)
            if stopped:
                return Outcome(False, f"stopped: the deployment was {stopped}")
            return Outcome(False, f"timed out after {timeout:g}s", timed_out=True)
    except BaseException:
        # Ctrl-C (or any error) while we wait: the hook is in its own session, so nothing
        # else would stop it; it must not outlive the deployment that started it.
        _kill_process_group(proc)
        raise
    finally:
        writer.join(OUTPUT_DRAIN_SECONDS)
    reader.join(OUTPUT_DRAIN_SECONDS)
    if exit_code == 0:
        return Outcome(True, exit_code=0)
    if exit_code < 0:
        return Outcome(False, f"killed by {_signal_name(-exit_code)}", exit_code=exit_code)
    return Outcome(False, f"exited {exit_code}", exit_code=exit_code)


def wait_unless_interrupted(
    done: Callable[[float], bool],
    timeout: float,
    interrupted: Callable[[], str | None],
    now: Callable[[], float] = time.monotonic,
) -> str | None:
    """Wait for a hook, `done(seconds)` at a time (True once it has ended), until it ends or
    `timeout` passes on `now`'s clock: None; or "interrupted by SIG…" as soon as
    `interrupted()` names a signal. The signal is a flag the engine's handler sets, polled
    here: it never depends on an exception reaching this frame."""
    deadline = now() + timeout
    while True:
        signal_name = interrupted()
        if signal_name:
            return f"interrupted by {signal_name}"
        left = deadline - now()
        if left <= 0 or done(min(INTERRUPT_POLL_SECONDS, left)):
            return None


def _exited(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def start_thread(target: Callable[..., None], *args: Any) -> threading.Thread:
    # Daemon: a pipe held open by an escaped grandchild must not keep us from exiting.
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def thread_done(worker: threading.Thread, seconds: float) -> bool:
    """Wait up to `seconds` for `worker`; True once it has ended (for wait_unless_interrupted)."""
    worker.join(seconds)
    return not worker.is_alive()


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
