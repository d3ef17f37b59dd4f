"""Lambda hooks that answer with ECS's lifecycle-hook contract (`hookStatus`), through a
scripted `Functions` port, waiting on the virtual clock; and the deployment that runs one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fakes import BLUE, GREEN, HTTP, World

from bluegreen.clock import VirtualClock
from bluegreen.deployer import Deployer
from bluegreen.errors import HookFailed
from bluegreen.hooks.runner import HookEvent, HookResult, HookRunner, HookSpec
from bluegreen.redact import Redactor

CONTEXT: dict[str, Any] = {"deployment_id": "bg-1", "service": "web", "green_weight": 0}
Answer = tuple[bool, str] | dict[str, Any]


class ScriptedFunctions:
    """Answers each invocation with the next answer (the last one for ever after), and
    notes when it was invoked, with what payload and read timeout."""

    def __init__(self, clock: VirtualClock, *answers: Answer) -> None:
        self.clock = clock
        self.answers = list(answers)
        self.calls: list[tuple[float, dict[str, Any], float]] = []

    def invoke(self, function: str, payload: bytes, timeout_seconds: float) -> tuple[bool, str]:
        self.calls.append((self.clock.now(), json.loads(payload), timeout_seconds))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer if isinstance(answer, tuple) else (True, json.dumps(answer))

    @property
    def times(self) -> list[float]:
        start = self.calls[0][0]
        return [at - start for at, _, _ in self.calls]


def run(
    clock: VirtualClock, *answers: Answer, timeout: float = 300, **runner: Any
) -> tuple[HookResult, ScriptedFunctions]:
    functions = ScriptedFunctions(clock, *answers)
    spec = HookSpec(
        event=HookEvent.POST_TEST_TRAFFIC,
        name="approve",
        lambda_function="approve-fn",
        timeout_seconds=timeout,
    )
    hooks = HookRunner(Redactor(), functions, clock=clock)
    for name, value in runner.items():
        setattr(hooks, name, value)
    return hooks.run(spec, CONTEXT), functions


def in_progress(delay: float | None = None, **details: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"hookStatus": "IN_PROGRESS"}
    if delay is not None:
        answer["callBackDelay"] = delay
    if details:
        answer["hookDetails"] = details
    return answer


SUCCEEDED = {"hookStatus": "SUCCEEDED"}


def test_in_progress_twice_then_succeeded_passes_after_the_delays(clock: VirtualClock) -> None:
    result, functions = run(
        clock, in_progress(10, checked=1), in_progress(None, bucket="b"), SUCCEEDED
    )

    assert result.succeeded and result.error is None
    assert functions.times == [0, 10, 10 + 30]  # ECS's default delay: 30 s
    payloads = [payload for _, payload, _ in functions.calls]
    assert payloads[0] == {**CONTEXT, "event": "post_test_traffic"}  # as before
    assert payloads[1]["hookDetails"] == {"checked": 1}
    assert payloads[2]["hookDetails"] == {"checked": 1, "bucket": "b"}  # merged, as ECS does
    assert all(p["deployment_id"] == "bg-1" for p in payloads)


def test_failed_fails_with_its_reason(clock: VirtualClock) -> None:
    result, functions = run(
        clock, in_progress(5), {"hookStatus": "FAILED", "reason": "p99 over 800 ms"}
    )

    assert not result.succeeded and not result.timed_out and len(functions.calls) == 2
    assert result.error == "lambda function approve-fn answered hookStatus FAILED: p99 over 800 ms"


def test_failed_without_a_reason_shows_the_rest_of_the_answer(clock: VirtualClock) -> None:
    result, _ = run(clock, {"hookStatus": "FAILED", "checks": {"latency": "bad"}})
    assert result.error == (
        'lambda function approve-fn answered hookStatus FAILED: {"checks": {"latency": "bad"}}'
    )


def test_in_progress_for_ever_hits_the_hooks_timeout(clock: VirtualClock) -> None:
    result, functions = run(clock, in_progress(30), timeout=100)

    assert not result.succeeded and result.timed_out
    assert functions.times == [0, 30, 60, 90]  # a fifth, at 120, would be past 100
    assert [read for _, _, read in functions.calls] == [100, 70, 40, 10]  # never past it
    assert result.error == (
        "timed out: lambda function approve-fn still answered IN_PROGRESS after 4 "
        "invocations, and the next (in 30s) would fall past the hook's 100s timeout"
    )


def test_a_delay_ending_exactly_at_the_timeout_is_not_waited(clock: VirtualClock) -> None:
    result, functions = run(clock, in_progress(30), timeout=90)
    assert result.timed_out and functions.times == [0, 30, 60]


def test_a_zero_delay_still_waits_a_second(clock: VirtualClock) -> None:
    result, functions = run(clock, in_progress(0), SUCCEEDED)
    assert result.succeeded and functions.times == [0, 1]


def test_an_interrupt_stops_the_wait_between_invocations(clock: VirtualClock) -> None:
    started = clock.now()
    interrupted: Callable[[], str | None] = lambda: (  # noqa: E731
        "SIGINT" if clock.now() - started >= 5 else None
    )

    result, functions = run(clock, in_progress(60), SUCCEEDED, interrupted=interrupted)

    assert result.error == "stopped: the deployment was interrupted by SIGINT"
    assert len(functions.calls) == 1 and clock.now() - started < 5.5  # polled, not 60 s


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"hookStatus": "DONE"}, 'hookStatus "DONE": expected SUCCEEDED, FAILED or IN_PROGRESS'),
        ({"hookStatus": "succeeded"}, 'hookStatus "succeeded": expected SUCCEEDED'),
        (in_progress("soon"), 'callBackDelay "soon": expected a number of seconds'),  # type: ignore[arg-type]
        (in_progress(-1), "callBackDelay -1: expected a number of seconds"),
        ({**in_progress(5), "hookDetails": [1]}, "hookDetails [1]: expected a JSON object"),
    ],
)
def test_an_answer_outside_the_contract_fails(
    clock: VirtualClock, answer: dict[str, Any], error: str
) -> None:
    result, functions = run(clock, answer, SUCCEEDED)
    assert not result.succeeded and len(functions.calls) == 1
    assert result.error is not None and error in result.error


@pytest.mark.parametrize("output", ['{"statusCode": 200}', "all good", "null", '["IN_PROGRESS"]'])
def test_an_answer_without_hook_status_passes_as_before(clock: VirtualClock, output: str) -> None:
    result, functions = run(clock, (True, output))
    assert result.succeeded and result.output == output and len(functions.calls) == 1


def test_a_function_error_fails_whatever_it_returned(clock: VirtualClock) -> None:
    result, _ = run(clock, (False, 'Unhandled: {"hookStatus": "SUCCEEDED"}'))
    assert not result.succeeded
    assert (
        result.error == 'lambda function approve-fn failed: Unhandled: {"hookStatus": "SUCCEEDED"}'
    )


def test_a_deployment_waits_for_an_approval_lambda_on_its_clock(
    make_deployer: Callable[..., Deployer], world: World, clock: VirtualClock
) -> None:
    # The deployer hands the runner its clock: ECS-style polling takes virtual time only.
    hook = {"event": "post_provision", "lambda": "approve-fn", "timeout": "10m"}
    deployer = make_deployer(hooks=[hook])
    functions = ScriptedFunctions(clock, in_progress(2), in_progress(2), SUCCEEDED)
    deployer.cloud.functions = functions  # type: ignore[attr-defined]

    result = deployer.deploy({"web": "repo/web:v2"})

    assert result.outcome == "succeeded"
    assert functions.times == [0, 2, 4]
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100}


def test_a_deployment_rolls_back_when_the_lambda_answers_failed(
    make_deployer: Callable[..., Deployer], world: World, clock: VirtualClock
) -> None:
    deployer = make_deployer(hooks=[{"event": "post_provision", "lambda": "approve-fn"}])
    deployer.cloud.functions = ScriptedFunctions(  # type: ignore[attr-defined]
        clock, in_progress(30), {"hookStatus": "FAILED", "reason": "not approved"}
    )

    with pytest.raises(HookFailed, match="FAILED: not approved"):
        deployer.deploy({"web": "repo/web:v2"})

    assert world.weights(HTTP) == {BLUE: 100, GREEN: 0}
    assert [ts.target_group for ts in world.task_sets.values()] == [BLUE]
