"""HookRunner against real processes, Python callables and a fake Lambda.

Timeouts here are real time (subprocess waits cannot use a virtual clock), so every hook
either finishes at once or times out after about a second.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hook_targets
import pytest
from signal_helpers import signal_once_started
from structlog.testing import capture_logs

from bluegreen.clock import RealClock
from bluegreen.engine.interrupts import InterruptFlag
from bluegreen.errors import AwsError, ConfigError, DeploymentStopped, HookFailed
from bluegreen.hooks.process import context_environment
from bluegreen.hooks.runner import (
    FATAL_EVENTS,
    OUTPUT_LIMIT,
    HookEvent,
    HookResult,
    HookRunner,
    HookSpec,
)
from bluegreen.redact import Redactor
from bluegreen.turns import TurnClock

HERE = str(Path(__file__).parent)
CONTEXT: dict[str, Any] = {
    "deployment_id": "d-20260101-abc",
    "service": "web",
    "step": 2,
    "state": "SHIFTING",
    "blue_target_group": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/web-blue/1",
    "green_target_group": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/web-green/2",
    "green_weight": 10,
    "paused": False,
    "weights": {"blue": 90, "green": 10},
}


@pytest.fixture
def runner() -> HookRunner:
    return HookRunner(Redactor(["s3cr3t-value-42"]))


@pytest.fixture(autouse=True)
def _reset_hook_targets() -> Iterator[None]:
    hook_targets.received.clear()
    hook_targets.release.clear()
    yield
    hook_targets.release.set()  # let a timed-out hang() thread finish


def script(folder: Path, name: str, body: str, executable: bool = True) -> str:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    if executable:
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return f"./{name}"


def command(folder: Path, *argv: str, **kwargs: Any) -> HookSpec:
    kwargs.setdefault("event", HookEvent.POST_TEST_TRAFFIC)
    kwargs.setdefault("env", {"OUT_DIR": str(folder)})
    return HookSpec(name="smoke", command=argv, cwd=str(folder), **kwargs)


def python(target: str, event: HookEvent = HookEvent.PRE_SHIFT, **kwargs: Any) -> HookSpec:
    return HookSpec(event=event, name=target, python=target, cwd=HERE, **kwargs)


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is dead but waits for its parent (here, maybe a PID 1 that never reaps).
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] == "Z"


def wait_gone(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.05)
    return process_gone(pid)


# --- command hooks -----------------------------------------------------------------------


def test_command_gets_context_on_stdin_in_env_and_in_a_file(
    tmp_path: Path, runner: HookRunner
) -> None:
    name = script(
        tmp_path,
        "hook.sh",
        'cat > "$OUT_DIR/stdin.json"\n'
        'env | grep "^BLUEGREEN_" > "$OUT_DIR/env.txt"\n'
        'cp "$BLUEGREEN_CONTEXT_FILE" "$OUT_DIR/file.json"\n'
        'echo "$BLUEGREEN_CONTEXT_FILE" > "$OUT_DIR/file_path"\n'
        "echo all good\n",
    )
    result = runner.run(command(tmp_path, name), CONTEXT)

    assert result.succeeded and result.exit_code == 0 and result.error is None
    assert result.output == "all good"
    expected = {**json.loads(json.dumps(CONTEXT)), "event": "post_test_traffic"}
    assert json.loads((tmp_path / "stdin.json").read_text()) == expected
    assert json.loads((tmp_path / "file.json").read_text()) == expected
    env = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines())
    assert env["BLUEGREEN_DEPLOYMENT_ID"] == "d-20260101-abc"
    assert env["BLUEGREEN_EVENT"] == "post_test_traffic"
    assert env["BLUEGREEN_SERVICE"] == "web"
    assert env["BLUEGREEN_STEP"] == "2"
    assert env["BLUEGREEN_STATE"] == "SHIFTING"
    assert env["BLUEGREEN_BLUE_TARGET_GROUP"] == CONTEXT["blue_target_group"]
    assert env["BLUEGREEN_GREEN_TARGET_GROUP"] == CONTEXT["green_target_group"]
    assert env["BLUEGREEN_GREEN_WEIGHT"] == "10"
    assert env["BLUEGREEN_PAUSED"] == "false"
    assert "BLUEGREEN_WEIGHTS" not in env  # not a scalar: in the JSON only
    assert not Path((tmp_path / "file_path").read_text().strip()).exists()  # cleaned up


def test_hook_env_overrides_and_extends_the_environment(tmp_path: Path, runner: HookRunner) -> None:
    spec = command(
        tmp_path,
        "/bin/sh",
        "-c",
        'test "$BLUEGREEN_SERVICE" = overridden && test "$EXTRA" = yes',
        env={"BLUEGREEN_SERVICE": "overridden", "EXTRA": "yes"},
    )
    assert runner.run(spec, CONTEXT).succeeded


def test_non_zero_exit_fails_with_its_exit_code(tmp_path: Path, runner: HookRunner) -> None:
    name = script(tmp_path, "fail.sh", "echo checking\necho 'expected 200, got 503' >&2\nexit 3\n")
    result = runner.run(command(tmp_path, name), CONTEXT)

    assert not result.succeeded and not result.timed_out
    assert result.exit_code == 3
    assert result.error == "exited 3"
    assert result.output == "checking\nexpected 200, got 503"  # stderr merged in


def test_timeout_kills_the_whole_process_group(tmp_path: Path, runner: HookRunner) -> None:
    name = script(
        tmp_path,
        "slow.sh",
        'sleep 60 &\necho $! > "$OUT_DIR/child.pid"\necho $$ > "$OUT_DIR/leader.pid"\nsleep 60\n',
    )
    started = time.monotonic()
    result = runner.run(command(tmp_path, name, timeout_seconds=1), CONTEXT)

    assert time.monotonic() - started < 3
    assert not result.succeeded and result.timed_out
    assert result.error == "timed out after 1s"
    assert wait_gone(int((tmp_path / "leader.pid").read_text()))
    assert wait_gone(int((tmp_path / "child.pid").read_text()))


def test_timeout_sigkills_a_group_that_ignores_sigterm(tmp_path: Path, runner: HookRunner) -> None:
    # `trap '' TERM` is inherited by the background child: only SIGKILL stops either.
    name = script(
        tmp_path,
        "stubborn.sh",
        "trap '' TERM\nsleep 60 &\n"
        'echo $! > "$OUT_DIR/child.pid"\necho $$ > "$OUT_DIR/leader.pid"\nsleep 60\n',
    )
    result = runner.run(command(tmp_path, name, timeout_seconds=0.5), CONTEXT)

    assert result.timed_out and result.duration_seconds < 4
    assert wait_gone(int((tmp_path / "leader.pid").read_text()))
    assert wait_gone(int((tmp_path / "child.pid").read_text()))


def test_a_signal_while_waiting_stops_the_hook_at_once(tmp_path: Path, runner: HookRunner) -> None:
    # The engine's SIGINT/SIGTERM handler only sets a flag (interrupts.py); the runner polls
    # it. A real signal, sent to ourselves once the hook runs, while the runner waits on it.
    name = script(tmp_path, "long.sh", 'echo $$ > "$OUT_DIR/leader.pid"\nsleep 60\n')
    flag = InterruptFlag()
    runner.interrupted = flag.pending
    started = time.monotonic()
    with flag.installed():
        signal_once_started(tmp_path / "leader.pid", signal.SIGINT)
        result = runner.run(command(tmp_path, name, timeout_seconds=30), CONTEXT)

    assert not result.succeeded and not result.timed_out
    assert result.error == "stopped: the deployment was interrupted by SIGINT"
    assert time.monotonic() - started < 10  # not the 30 s timeout
    assert wait_gone(int((tmp_path / "leader.pid").read_text()))


def test_an_exception_while_waiting_kills_the_hook(tmp_path: Path, runner: HookRunner) -> None:
    # Without the engine (the Python API under Python's own SIGINT handler), Ctrl-C is a
    # KeyboardInterrupt wherever the main thread is: here, raised from inside the wait.
    name = script(tmp_path, "long.sh", 'echo $$ > "$OUT_DIR/leader.pid"\nsleep 60\n')
    leader = tmp_path / "leader.pid"

    def ctrl_c_once_started() -> None:
        if leader.exists() and leader.read_text().strip():
            raise KeyboardInterrupt

    runner.interrupted = ctrl_c_once_started  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        runner.run(command(tmp_path, name, timeout_seconds=30), CONTEXT)
    assert wait_gone(int(leader.read_text()))


def test_a_signal_while_a_python_hook_runs_stops_waiting_for_it(runner: HookRunner) -> None:
    flag = InterruptFlag()
    runner.interrupted = flag.pending
    started = time.monotonic()
    with flag.installed():
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        result = runner.run(python("hook_targets:hang", timeout_seconds=30), CONTEXT)

    assert not result.succeeded and not result.timed_out
    assert result.error is not None
    assert result.error.startswith("stopped: the deployment was interrupted by SIGTERM")
    assert time.monotonic() - started < 10


def test_missing_command_names_the_path(tmp_path: Path, runner: HookRunner) -> None:
    result = runner.run(command(tmp_path, "./hooks/smoke.sh"), CONTEXT)

    assert not result.succeeded and result.exit_code is None
    assert result.error == (
        f"command not found: {tmp_path}/hooks/smoke.sh; check that it exists and is executable"
    )


def test_command_missing_from_path(tmp_path: Path, runner: HookRunner) -> None:
    result = runner.run(command(tmp_path, "bluegreen-no-such-command"), CONTEXT)
    assert result.error is not None and "bluegreen-no-such-command on PATH" in result.error


def test_script_without_shebang_line(tmp_path: Path, runner: HookRunner) -> None:
    (tmp_path / "bare.sh").write_text("echo no shebang line\n")
    (tmp_path / "bare.sh").chmod(0o755)
    result = runner.run(command(tmp_path, "./bare.sh"), CONTEXT)
    assert result.error == f"not a valid executable: {tmp_path}/bare.sh; " + (
        "a script needs a #! line (e.g. #!/bin/sh)"
    )


def test_command_that_is_not_executable_says_chmod(tmp_path: Path, runner: HookRunner) -> None:
    name = script(tmp_path, "smoke.sh", "exit 0\n", executable=False)
    result = runner.run(command(tmp_path, name), CONTEXT)

    assert not result.succeeded
    assert result.error is not None
    assert str(tmp_path / "smoke.sh") in result.error and "chmod +x ./smoke.sh" in result.error


def test_missing_working_directory(tmp_path: Path, runner: HookRunner) -> None:
    result = runner.run(command(tmp_path / "gone", "true"), CONTEXT)
    assert result.error == f"working directory {tmp_path / 'gone'} does not exist"


def test_shell_hook_runs_through_sh(tmp_path: Path, runner: HookRunner) -> None:
    spec = command(tmp_path, 'echo "$BLUEGREEN_SERVICE" | tr a-z A-Z && exit 4', shell=True)
    result = runner.run(spec, CONTEXT)

    assert result.output == "WEB"
    assert result.exit_code == 4 and result.error == "exited 4"


def test_output_is_redacted_in_result_and_log(tmp_path: Path, runner: HookRunner) -> None:
    spec = command(
        tmp_path,
        'echo "using s3cr3t-value-42"; echo PASSWORD=abc; echo "key $MY_TOKEN"; exit 1',
        shell=True,
        env={"MY_TOKEN": "tok-from-hook-env"},
    )
    with capture_logs() as logs:
        result = runner.run(spec, CONTEXT)

    assert result.output == "using ***\nPASSWORD=***\nkey ***"
    lines = [entry for entry in logs if entry["event"] == "hook_output"]
    assert [entry["line"] for entry in lines] == ["using ***", "PASSWORD=***", "key ***"]
    assert all(entry["hook"] == "smoke" and entry["log_level"] == "info" for entry in lines)
    for secret in ("s3cr3t-value-42", "PASSWORD=abc", "tok-from-hook-env"):
        assert secret not in repr(logs)


def test_output_keeps_only_the_tail(tmp_path: Path) -> None:
    runner = HookRunner(Redactor(), log=_SilentLog())
    result = runner.run(command(tmp_path, "seq 1 20000", shell=True), CONTEXT)

    assert result.succeeded
    assert len(result.output) <= OUTPUT_LIMIT + 40
    assert result.output.startswith("[… output truncated …]")
    assert result.output.endswith("\n19999\n20000")


def test_one_long_line_is_truncated_too(tmp_path: Path) -> None:
    runner = HookRunner(Redactor(), log=_SilentLog())
    result = runner.run(command(tmp_path, "printf %20000s x", shell=True), CONTEXT)
    assert result.output.startswith("[… output truncated …]\n   ")
    assert result.output.endswith(" x") and len(result.output) <= OUTPUT_LIMIT + 40


def test_hook_that_ignores_a_large_stdin_does_not_block(tmp_path: Path, runner: HookRunner) -> None:
    context = {**CONTEXT, "blob": "x" * 1_000_000}
    result = runner.run(command(tmp_path, "true"), context)
    assert result.succeeded and result.duration_seconds < 2


def test_failure_and_result_logging(tmp_path: Path, runner: HookRunner) -> None:
    with capture_logs() as logs:
        runner.run(command(tmp_path, "exit 2", shell=True), CONTEXT)
    failed = [entry for entry in logs if entry["event"] == "hook_failed"]
    assert failed and failed[0]["log_level"] == "error" and failed[0]["fatal"] is True
    assert failed[0]["hook_event"] == "post_test_traffic" and failed[0]["exit_code"] == 2


# --- python hooks ------------------------------------------------------------------------


def test_python_hook_gets_the_context(runner: HookRunner) -> None:
    result = runner.run(python("hook_targets:record"), CONTEXT)

    assert result.succeeded and result.error is None
    assert hook_targets.received == [{**json.loads(json.dumps(CONTEXT)), "event": "pre_shift"}]


def test_python_hook_attribute_path(runner: HookRunner) -> None:
    assert runner.run(python("hook_targets:Namespace.nested"), CONTEXT).succeeded


def test_python_hook_returning_false_fails(runner: HookRunner) -> None:
    result = runner.run(python("hook_targets:refuse"), CONTEXT)
    assert not result.succeeded and result.error == "hook_targets:refuse returned False"


def test_python_hook_raising_fails_with_type_and_message(runner: HookRunner) -> None:
    result = runner.run(python("hook_targets:explode"), CONTEXT)
    assert result.error == "RuntimeError: smoke check failed for web"


def test_python_hook_module_not_found(runner: HookRunner) -> None:
    result = runner.run(python("no_such_hooks_module:check"), CONTEXT)
    assert result.error == "ModuleNotFoundError: No module named 'no_such_hooks_module'"


def test_python_hook_missing_function(runner: HookRunner) -> None:
    result = runner.run(python("hook_targets:nope"), CONTEXT)
    assert result.error is not None and result.error.startswith("AttributeError:")


def test_python_hook_timeout(runner: HookRunner) -> None:
    started = time.monotonic()
    result = runner.run(python("hook_targets:hang", timeout_seconds=0.3), CONTEXT)

    assert time.monotonic() - started < 1
    assert result.timed_out and not result.succeeded
    assert result.error is not None and result.error.startswith("timed out after 0.3s")


def test_python_hook_output_is_redacted(runner: HookRunner) -> None:
    with capture_logs() as logs:
        result = runner.run(python("hook_targets:leak"), CONTEXT)
    assert result.output == "connecting with PASSWORD=*** and token ***"
    assert "hunter2" not in repr(logs) and "sk-live" not in repr(logs)


def test_python_hook_imports_from_the_config_folder_only_while_importing(
    tmp_path: Path, runner: HookRunner
) -> None:
    (tmp_path / "local_checks_for_test.py").write_text(
        "def check(context):\n    return context['green_weight'] == 10\n"
    )
    spec = HookSpec(
        event=HookEvent.POST_SHIFT,
        name="local",
        python="local_checks_for_test:check",
        cwd=str(tmp_path),
    )

    assert runner.run(spec, CONTEXT).succeeded
    assert str(tmp_path) not in sys.path


# --- lambda hooks ------------------------------------------------------------------------


class FakeFunctions:
    def __init__(self, answer: tuple[bool, str] | Exception) -> None:
        self.answer = answer
        self.calls: list[tuple[str, bytes, float]] = []

    def invoke(self, function: str, payload: bytes, timeout_seconds: float) -> tuple[bool, str]:
        self.calls.append((function, payload, timeout_seconds))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def lambda_spec(**kwargs: Any) -> HookSpec:
    return HookSpec(
        event=HookEvent.POST_PROVISION, name="check", lambda_function="smoke-fn", **kwargs
    )


def test_lambda_hook_invokes_with_the_context() -> None:
    functions = FakeFunctions((True, "200 OK"))
    result = HookRunner(Redactor(), functions).run(lambda_spec(timeout_seconds=30), CONTEXT)

    assert result.succeeded and result.output == "200 OK"
    [(name, payload, timeout)] = functions.calls
    assert name == "smoke-fn" and timeout == 30
    assert json.loads(payload) == {**json.loads(json.dumps(CONTEXT)), "event": "post_provision"}


def test_lambda_hook_function_error() -> None:
    functions = FakeFunctions((False, "Unhandled: token=abc\ntraceback…"))
    result = HookRunner(Redactor(), functions).run(lambda_spec(), CONTEXT)

    assert not result.succeeded
    assert result.error == "lambda function smoke-fn failed: Unhandled: token=***"
    assert "abc" not in result.output


def test_lambda_hook_aws_error() -> None:
    functions = FakeFunctions(AwsError("Invoke", "ResourceNotFoundException", "no smoke-fn"))
    result = HookRunner(Redactor(), functions).run(lambda_spec(), CONTEXT)
    assert result.error == "AwsError: AWS Invoke failed: ResourceNotFoundException: no smoke-fn"


def test_lambda_hook_without_functions_fails_clearly(runner: HookRunner) -> None:
    result = runner.run(lambda_spec(), CONTEXT)
    assert not result.succeeded
    assert result.error is not None and "no AWS Lambda access" in result.error


# --- events ------------------------------------------------------------------------------


def test_events_match_the_spec() -> None:
    assert [event.value for event in HookEvent] == [
        "pre_provision",
        "post_provision",
        "post_test_traffic",
        "pre_shift",
        "post_shift",
        "on_pause",
        "pre_cleanup",
        "on_success",
        "on_rollback",
        "on_failure",
        "finally",
    ]
    assert HookEvent("finally") is HookEvent.FINALLY
    assert {event.value for event in FATAL_EVENTS} == {
        "pre_provision",
        "post_provision",
        "post_test_traffic",
        "pre_shift",
        "post_shift",
        "pre_cleanup",
    }


def test_run_event_stops_at_the_first_failure_of_a_fatal_event(runner: HookRunner) -> None:
    specs = [
        python("hook_targets:refuse", HookEvent.PRE_SHIFT),
        python("hook_targets:record", HookEvent.PRE_SHIFT),
    ]
    with capture_logs() as logs:
        results = runner.run_event(HookEvent.PRE_SHIFT, specs, CONTEXT)

    assert [r.succeeded for r in results] == [False]
    assert results[0].fatal
    assert hook_targets.received == []
    skipped = [entry for entry in logs if entry["event"] == "hooks_skipped"]
    assert skipped[0]["hooks"] == ["hook_targets:record"]


def test_run_event_continues_after_a_non_fatal_failure(runner: HookRunner) -> None:
    specs = [
        python("hook_targets:explode", HookEvent.ON_FAILURE),
        python("hook_targets:record", HookEvent.PRE_SHIFT),  # another event: not run
        python("hook_targets:record", HookEvent.ON_FAILURE),
    ]
    with capture_logs() as logs:
        results = runner.run_event(HookEvent.ON_FAILURE, specs, CONTEXT)

    assert [r.succeeded for r in results] == [False, True]
    assert not results[0].fatal
    assert [c["event"] for c in hook_targets.received] == ["on_failure"]
    assert [e["log_level"] for e in logs if e["event"] == "hook_failed"] == ["warning"]


def test_to_error_stops_for_pre_provision_and_fails_otherwise() -> None:
    def failed(event: HookEvent) -> HookResult:
        spec = HookSpec(event=event, name="gate", python="m:f")
        return HookResult(spec=spec, succeeded=False, error="exited 3")

    stop = failed(HookEvent.PRE_PROVISION).to_error()
    assert isinstance(stop, DeploymentStopped)
    error = failed(HookEvent.PRE_CLEANUP).to_error()
    assert isinstance(error, HookFailed) and error.exit_code == 1
    assert error.message == "pre_cleanup hook 'gate' failed: exited 3"


# --- specs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kinds",
    [
        {},
        {"command": ("x",), "python": "m:f"},
        {"python": "m:f", "lambda_function": "fn"},
        {"command": ()},
        {"command": ("a", "b"), "shell": True},
        {"python": "module_without_function"},
        {"python": "m:f", "timeout_seconds": 0},
    ],
)
def test_invalid_specs_are_config_errors(kinds: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        HookSpec(event=HookEvent.PRE_SHIFT, name="bad", **kinds)


def test_spec_env_is_read_only() -> None:
    env = {"A": "1"}
    spec = HookSpec(event=HookEvent.PRE_SHIFT, name="x", command=("true",), env=env)
    env["A"] = "2"
    assert spec.env["A"] == "1"
    with pytest.raises(TypeError):
        spec.env["A"] = "3"  # type: ignore[index]


def test_context_environment_skips_nested_and_huge_values() -> None:
    context = {"a-b": 1, "ok": True, "none": None, "nested": {"x": 1}, "blob": "x" * 200_000}
    assert context_environment(context) == {
        "BLUEGREEN_A_B": "1",
        "BLUEGREEN_OK": "true",
        "BLUEGREEN_NONE": "",
    }


class _SilentLog:
    """A logger that drops everything: 20,000 captured output lines would only slow us."""

    def bind(self, **_: Any) -> _SilentLog:
        return self

    def __getattr__(self, _name: str) -> Any:
        return lambda *args, **kwargs: None


def test_add_secrets_masks_values_learned_later(tmp_path: Path, runner: HookRunner) -> None:
    runner.add_secrets(["db-pass-from-taskdef"])
    result = runner.run(
        command(tmp_path, "echo db-pass-from-taskdef s3cr3t-value-42", shell=True), CONTEXT
    )
    assert result.output == "*** ***"
    assert "db-pass-from-taskdef" in runner.redactor.secret_values


def test_the_hooks_of_a_release_run_side_by_side_on_the_real_clock() -> None:
    """Each service of a release takes turns on one clock; a hook's process is not on the
    clock, so the others go on while it runs: two half-second hooks take half a second."""
    turns = TurnClock(RealClock())
    spec = HookSpec(event=HookEvent.PRE_SHIFT, name="smoke", command=["sleep", "0.5"])
    results: list[HookResult] = []

    def service() -> None:
        results.append(HookRunner(Redactor(), clock=turns).run(spec, CONTEXT))

    started = time.monotonic()
    turns.run_all([service, service], ["api", "web"])

    assert [r.succeeded for r in results] == [True, True]
    assert time.monotonic() - started < 0.9  # one after the other: a second at least
